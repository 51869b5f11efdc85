"""The power checks on the bench's instruments (power.supply_current, brownout, inrush, charging_current)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bench.checks import get
from bench.checks.supply import _settle_time
from bench.checks.waveformpng import waveform_png
from drivers.instruments.interfaces import Waveform

ROOT = Path(__file__).resolve().parents[3]


def test_the_power_checks_are_found_by_their_names() -> None:
    for name, roles in (("power.supply_current", ("unit", "supply")), ("power.sale_current", ("unit", "supply", "host")), ("power.brownout", ("unit", "supply")),
                        ("power.inrush", ("unit", "supply", "scope")),
                        ("power.charging_current", ("unit", "supply"))):
        assert get(name).devices == roles


def test_settle_time_is_when_the_current_stays_within_the_band_of_its_final_value() -> None:
    # 1 ms per sample: off, a 2 A peak at 2 ms, down to 0.2 A by 5 ms, then flat.
    wave = Waveform(1, 1e-3, -1e-3, (0.0, 0.0, 2.0, 1.0, 0.5, 0.21, 0.2, 0.2, 0.2, 0.2))
    peak, at, settled = _settle_time(wave, scale=1.0, band=0.1)
    assert (peak, at, settled) == (2.0, pytest.approx(1e-3), pytest.approx(4e-3))
    assert _settle_time(wave, scale=2.0, band=0.1)[0] == 4.0  # a probe of 2 A per volt


def test_the_waveform_picture_is_a_png_of_the_reports_size() -> None:
    data = waveform_png([0.0, 1e-3, 2e-3], [0.0, 1.5, 0.2], title="inrush", unit="A", marks=((1e-3, "peak"),))
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("PNG", (640, 260))


@pytest.mark.slow
def test_a_sound_unit_passes_the_power_plan_with_its_inrush_picture_in_the_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "testplans/pos-power.yaml", "--sim", "--scenario", "power-good",
         "--json", "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    values = {(s["name"], m["name"]): m["value"] for s in record["steps"] for m in s["measurements"]}
    assert values[("supply-current", "standby_ma")] == 45.0  # the profile's standby figure
    assert values[("supply-current", "display_ma")] == 105.0  # standby + display
    assert values[("sale-current", "txn_ma")] == 165.0  # + the sale's
    assert values[("sale-current", "print_ma")] == 1065.0  # + the sale's + the printer's
    assert values[("brownout", "brownout_v")] == 8.5  # the first 0.5 V step below the unit's 8.6 V
    assert 1700 < values[("inrush", "peak_ma")] <= 1800 and 0 < values[("inrush", "settle_ms")] < 10
    html = (Path(record["report"]) / "report.html").read_text()
    assert '<img src="data:image/png;base64,' in html and 'alt="inrush.png"' in html
