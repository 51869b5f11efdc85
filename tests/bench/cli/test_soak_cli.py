"""``bench soak`` on the simulated bench: the compressed busy hour, its record, report and exit codes,
several units at once, and not one full PAN anywhere it writes."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from simproc import assert_nowhere

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def bench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def soak_step(record: dict[str, Any]) -> dict[str, Any]:
    (step,) = record["steps"]
    assert step["check"] == "soak.sales"
    return step


def measured(step: dict[str, Any]) -> dict[str, Any]:
    return {m["name"]: m["value"] for m in step["measurements"]}


def card_secrets() -> list[str]:
    """Every test card's PAN, plain and as people write it, and its track 2 data."""
    from drivers.sim.unitcardread import read_card

    out = []
    for name in ("emv-visa-contact", "emv-mastercard-contact", "emv-unionpay-contactless", "emv-contactless",
                 "msr-unionpay"):
        card = read_card(name)
        pan = card.pan
        out += [pan, " ".join(pan[i:i + 4] for i in range(0, len(pan), 4)),
                "-".join(pan[i:i + 4] for i in range(0, len(pan), 4)), f"{pan}=", pan[6:-4] + pan[-4:]]
    return out


def test_soak_sim_alone_runs_the_compressed_busy_hour_and_writes_its_report(tmp_path: Path) -> None:
    proc = bench("--debug", "soak", "--sim", "--json", "--report", str(tmp_path / "reports"),
                 "--db", f"sqlite:///{tmp_path / 'b.db'}")
    record = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    failed = [m for s in record.get("steps", []) for m in s["measurements"] if not m["passed"]]
    assert proc.returncode == 0, (record.get("summary"), failed, proc.stderr[-1500:])
    assert record["verdict"] == "PASS" and record["plan"]["name"] == "soak-demo"
    step = soak_step(record)
    got = measured(step)
    assert got["transactions"] == got["planned"] > 400  # the demo's busy hour is ~585 sales
    assert got["approval_rate"] == 1.0 and got["failures"] == 0
    (attached,) = [a for a in step["attachments"] if a["name"] == "summary.json"]
    summary = json.loads(base64.b64decode(attached["data_b64"]))
    assert summary["approved"] == got["transactions"] and summary["profile"]["name"] == "demo"
    assert summary["minutes"][30]["transactions"] > summary["minutes"][1]["transactions"]  # the peak, not the ramp
    report = (Path(record["report"]) / "report.html").read_text()
    assert report.count("<svg") >= 3 and "Latency over soak time" in report and "Failures by cause" in report
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT verdict FROM runs").fetchall() == [("PASS",)]
    # The demo's busy hour is the real thing for card data: every sale's PAN went through link, host and tally.
    assert_nowhere(card_secrets(), proc, tmp_path)


def test_a_soak_scenario_fails_with_the_cause_and_still_reports(tmp_path: Path) -> None:
    proc = bench("soak", "short", "--sim", "--scenario", "soak-paper-out", "--report", str(tmp_path / "reports"),
                 "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "TXN-PAPER-OUT" in proc.stdout
    assert re.search(r"^Soak: 252 sales in .*: 100 approved, 0 declined, 152 failed \(152 paper-out\)$", proc.stdout, re.M)
    assert re.search(r"^  failed sales by card: \d+ emv-visa-contact, \d+ emv-mastercard-contact, ", proc.stdout, re.M)
    assert re.search(r"^Report: .*report\.html", proc.stdout, re.M)


def test_a_soaks_figures_in_chinese_take_its_words_and_punctuation(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--lang", "zh_CN", "soak", "short", "--sim", "--scenario",
                           "soak-paper-out", "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert re.search(r"^繁忙时段测试：.* 252 笔消费.*：100 笔批准，0 笔拒绝、152 笔失败 （152 paper-out）$", proc.stdout, re.M)
    assert re.search(r"^  按卡片统计的失败消费：\d+ emv-visa-contact、\d+ emv-mastercard-contact、", proc.stdout, re.M)
    assert re.search(r"^  漂移，前 10 min -> 后 10 min：打印头 [\d.]+ -> [\d.]+ °C；电池 ", proc.stdout, re.M)
    assert re.search(r"^  soak  \d+/\d+ \(\d+%\)  批准 \d+  拒绝 0  失败 \d+  重启 0  ", proc.stdout, re.M)


@pytest.mark.usefixtures("many_slots")
def test_two_units_soak_at_once_against_one_host(tmp_path: Path) -> None:
    proc = bench("soak", "short", "--sim", "--units", "2", "--json", "--report", str(tmp_path / "reports"),
                 "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    units = json.loads(proc.stdout)
    assert [u["slot"] for u in units] == [1, 2]
    serials = {u["unit"]["serial"] for u in units}
    assert len(serials) == 2
    for u in units:
        got = measured(soak_step(u))
        assert got["transactions"] == got["planned"] > 150 and got["failures"] == 0


@pytest.mark.parametrize("args, message", [
    (("nosuch", "--sim"), "no soak profile named 'nosuch'"),
    (("--sim", "--station", "stations/example.toml"), "give either --station FILE"),
    (("demo",), "give either --station FILE"),
    (("--sim", "--time-scale", "nan"), "--time-scale must be a number from 1 to 3600, not nan"),
])
def test_bad_options_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    proc = bench("soak", *args, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_bad_profile_names_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("soak: 1\nname: x\nduration: 10m\ntime_scale: 60\nrate:\n  - {at: 0m, per_minute: -3}\n"
                   "cards: {emv-visa-contact: 1}\namounts: {min: 1, max: 2, currency: \"978\"}\n")
    proc = bench("soak", str(bad), "--sim", timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(f"bench: error: {bad}:6:"), proc.stderr


@pytest.mark.usefixtures("many_slots")
def test_two_units_show_their_own_soak_figures_under_the_table(tmp_path: Path) -> None:
    proc = bench("soak", "short", "--sim", "--units", "2", "--scenario", "2=soak-paper-out",
                 "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert re.search(r"^\[slot 1\] Soak: \d+ sales in .*: \d+ approved, 0 declined, 0 failed$", proc.stdout, re.M)
    assert re.search(r"^\[slot 2\] Soak: .* failed \(\d+ paper-out\)$", proc.stdout, re.M)
