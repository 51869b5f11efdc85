"""Our own files that run through the plugin: tests/station (the station check) and docs/pytest.md's example.

Each runs in a pytest subprocess, as a technician or a CI job would run it: with ``--bench-sim``
every one of its tests must pass; the station check also runs with ``--bench-station`` on a
``bench sim``'s station file, as on a real bench. The example must be in the doc as it is in its file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from simproc import running_sim

ROOT = Path(__file__).resolve().parents[3]
STATION_TESTS = ROOT / "tests" / "station" / "test_station_devices.py"
EXAMPLE = ROOT / "docs" / "examples" / "test_pos_unit.py"
DOC = ROOT / "docs" / "pytest.md"


def _pytest(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _passed(out: str) -> list[str]:
    return re.findall(r"^PASSED (\S+)", out, re.M)


def _summary(out: str) -> str:
    return out.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("units", [1, 2])
def test_the_station_check_passes_on_the_simulated_bench(units: int, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    if units > 1:
        request.getfixturevalue("many_slots")
    args = [str(STATION_TESTS.relative_to(ROOT)), "--bench-sim", "--bench-db", f"sqlite:///{tmp_path / 'b.db'}"]
    if units > 1:
        args += ["--bench-units", str(units)]
    run = _pytest(args, ROOT)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    names = ("test_unit_identifies_and_answers", "test_card_reader_reads_the_test_card",
             "test_printer_reports_status_and_identity")
    ids = [""] if units == 1 else [f"[slot{n}]" for n in range(1, units + 1)]
    want = sorted(f"tests/station/test_station_devices.py::{name}{i}" for name in names for i in ids)
    assert sorted(_passed(out)) == want, out
    assert re.search(rf"\b{len(want)} passed in ", _summary(out)), out
    assert out.count("PASS (3 steps) - all steps passed") == units, out


@pytest.mark.slow
def test_the_station_check_runs_on_a_station_file(tmp_path: Path) -> None:
    """``--bench-station`` as on a real bench: ``bench sim``'s station file, the card already in the reader."""
    station = tmp_path / "station.toml"
    options = ("--device", "unit", "--device", "card_reader", "--card", "1=emv-visa-contact")
    with running_sim(station, options=options):
        args = [str(STATION_TESTS.relative_to(ROOT)), "--bench-station", str(station),
                "--bench-db", f"sqlite:///{tmp_path / 'b.db'}"]
        run = _pytest(args, ROOT)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert sorted(_passed(out)) == ["tests/station/test_station_devices.py::test_card_reader_reads_the_test_card",
                                    "tests/station/test_station_devices.py::test_unit_identifies_and_answers"], out
    # the person at the station is told what to do; bench sim offers no printer, so its test skips
    assert ">>> Insert the test card 'emv-visa-contact' into pcsc://" in out, out
    assert re.search(r"^SKIPPED \[1\] tests/station/test_station_devices\.py:\d+: the station has no printer "
                     r"\(role 'printer'\)$", out, re.M), out
    assert "PT-300 PT3-000123: INCOMPLETE (3 steps) - bench: a test was skipped" in out, out


def test_the_station_check_skips_without_a_bench() -> None:
    run = _pytest([str(STATION_TESTS.relative_to(ROOT))], ROOT)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert re.search(r"\b3 skipped in ", _summary(out)), out
    assert out.count("no bench: run pytest with --bench-sim") == 3, out


def _example_in(folder: Path) -> Path:
    """The doc's example as a user has it: alone in a folder, no conftest, no ini file."""
    path = folder / EXAMPLE.name
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.mark.slow
def test_the_docs_example_passes_on_the_simulated_bench(tmp_path: Path) -> None:
    _example_in(tmp_path)
    run = _pytest([EXAMPLE.name, "--bench-sim", "--bench-db", f"sqlite:///{tmp_path / 'b.db'}"], tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert sorted(_passed(out)) == sorted(f"test_pos_unit.py::{t}" for t in (
        "test_identity", "test_battery", "test_chip_card_answers", "test_sale_is_approved", "test_printer_ready"))
    assert "PT-300 PT3-000123: PASS (5 steps) - all steps passed" in out


@pytest.mark.slow
def test_the_docs_example_fails_a_low_battery_as_the_doc_says(tmp_path: Path) -> None:
    _example_in(tmp_path)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    run = _pytest([EXAMPLE.name, "--bench-sim", "--bench-scenario", "battery-low", "--bench-db", db], tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "MeasurementFailed: battery.voltage = 3.41 V: below min 7" in out
    assert "FAILED test_pos_unit.py::test_battery" in out
    history = subprocess.run([sys.executable, "-m", "bench", "history", "PT3-000123", "--db", db],
                             capture_output=True, text=True, timeout=60)
    assert re.search(r"FAIL .* PWR-BATT-LOW", history.stdout), history.stdout + history.stderr


def test_the_doc_shows_the_example_as_it_is() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in doc
