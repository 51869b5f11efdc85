"""``bench run`` on a multi-up simulated station: one record, report and verdict per unit, all at once."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from simproc import running_sim

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("many_slots")]


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def _runs(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT r.slot, u.serial, r.verdict, (SELECT count(*) FROM steps s WHERE s.run_id = r.id) "
                            "FROM runs r LEFT JOIN units u ON u.id = r.unit_id ORDER BY r.slot").fetchall()


def test_four_units_at_once_two_with_their_own_fault(tmp_path: Path) -> None:
    db, reports = tmp_path / "b.db", tmp_path / "reports"
    proc = bench("run", "pos-full", "--sim", "--units", "4", "--scenario", "2=printer-cover-open",
                 "--scenario", "4=battery-low", "--db", f"sqlite:///{db}", "--report", str(reports),
                 "--junit", str(tmp_path / "junit.xml"), "--json")
    assert proc.returncode == 1, proc.stderr
    units = json.loads(proc.stdout)
    assert [u["slot"] for u in units] == [1, 2, 3, 4]
    assert [u["verdict"] for u in units] == ["PASS", "FAIL", "PASS", "FAIL"]
    assert [f["fault"] for f in units[1]["findings"]] == ["PRN-COVER"]
    assert [f["fault"] for f in units[3]["findings"]] == ["PWR-BATT-LOW"]
    assert [u["scenario"] for u in units] == ["good", "printer-cover-open", "good", "battery-low"]
    serials = [u["unit"]["serial"] for u in units]
    assert len(set(serials)) == 4
    assert all(len(u["steps"]) == 25 for u in units)
    folders = [Path(u["report"]) for u in units]
    assert len(set(folders)) == 4 and all((f / "report.html").is_file() for f in folders)
    assert all(serial in f.name for serial, f in zip(serials, folders, strict=True))
    stored = _runs(db)
    assert [(slot, serial, verdict, steps) for slot, serial, verdict, steps in stored] == [
        (n, serials[n - 1], units[n - 1]["verdict"], 25) for n in (1, 2, 3, 4)]
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count("<testsuite ") == 4 and "slot 2" in junit
    # The console went to stderr, one line per event, each prefixed by its slot.
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert any(ln.startswith("[slot 2]") and "PRN-COVER" in ln for ln in lines), proc.stderr


def test_the_summary_table_names_each_slot_serial_verdict_and_first_fault(tmp_path: Path) -> None:
    proc = bench("run", "pos-quick", "--sim", "--units", "3", "--scenario", "3=battery-low",
                 "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"))
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    rows = [ln for ln in out.splitlines() if re.match(r"^\s+[123]\s+PT3-", ln)]
    assert len(rows) == 3, out
    assert "PASS" in rows[0] and "PASS" in rows[1] and "FAIL" in rows[2] and "PWR-BATT-LOW" in rows[2]
    assert "3 units" in out and "2 PASS" in out and "1 FAIL" in out


def test_a_unit_that_stops_answering_affects_only_its_slot(tmp_path: Path) -> None:
    proc = bench("run", "pos-full", "--sim", "--units", "2", "--scenario", "2=unit-stops-answering",
                 "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), "--json")
    assert proc.returncode == 1, proc.stderr
    first, second = json.loads(proc.stdout)
    assert first["verdict"] == "PASS" and len(first["steps"]) == 25
    assert second["verdict"] == "FAIL" and second["findings"][0]["fault"] == "LINK-NO-RESPONSE"
    assert first["ended_at"] < second["ended_at"], "slot 1 finished while slot 2 waited for its unit"


def test_ctrl_c_aborts_every_slot_each_stored_with_its_finished_steps(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "pos-full", "--sim", "--units", "4",
                             "--db", f"sqlite:///{db}", "--report", str(tmp_path / "r"), "--json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while len(seen) < 4 and time.monotonic() < deadline:  # every slot has finished a step
            line = proc.stderr.readline()
            if line.startswith("[slot") and "/25" in line:
                seen.add(line.split("]")[0])
        assert len(seen) == 4, "the slots did not start"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    units = json.loads(out)
    assert [u["verdict"] for u in units] == ["ABORTED"] * 4
    assert all(1 <= len(u["steps"]) < 25 for u in units)
    assert all(u["report"] and Path(u["report"], "report.html").is_file() for u in units)
    stored = _runs(db)
    assert [(slot, verdict) for slot, _, verdict, _ in stored] == [(n, "ABORTED") for n in (1, 2, 3, 4)]
    assert [steps for *_, steps in stored] == [len(u["steps"]) for u in units]
    assert "interrupted by the operator (Ctrl-C, SIGINT)" in err
    assert _orphaned_units() == []


def _orphaned_units() -> list[str]:
    """Simulated unit processes whose bench is gone (a bench removes its folder after stopping its units)."""
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    out = []
    for line in ps.splitlines():
        if "drivers.sim.unit" in line and "--link" in line:
            link = Path(line.split("--link", 1)[1].split()[0])
            if not link.parent.exists():
                out.append(line)
    return out


def test_slot_choice_and_usage_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    proc = bench("run", "pos-quick", "--sim", "--units", "3", "--slot", "2", "--db", db, "--report",
                 str(tmp_path / "r"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [u["slot"] for u in json.loads(proc.stdout)] == [2]
    for args, message in [
        (("--units", "3", "--slot", "5"), "--slot 5: the simulated station has slots 1-3"),
        (("--units", "2", "--scenario", "3=battery-low"), "--scenario names slot 3"),
        (("--scenario", "2=battery-low"), "--scenario SLOT=NAME needs --units N"),
        (("--units", "17"), "17 is not in the range 1<=x<=16"),
        (("--units", "2", "--scenario", "2=no-such-scenario"), "no-such-scenario"),
    ]:
        proc = bench("run", "pos-quick", "--sim", *args, "--db", db)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = bench("run", "pos-quick", "--units", "2", "--station", str(tmp_path / "s.toml"))
    assert proc.returncode == 2 and "--units needs --sim" in proc.stderr


def test_a_station_file_with_slots_runs_every_slot(tmp_path: Path) -> None:
    """The real-station path: a multi-slot station file (from `bench sim --units 2`), not --sim."""
    with running_sim(tmp_path / "fixture.toml", units=2) as station:
        script = tmp_path / "ops.yaml"
        script.write_text('answers: {"*": true}\n')
        proc = bench("run", "pos-quick", "--station", station, "--operator-script", str(script),
                     "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), "--json")
        one = bench("run", "pos-quick", "--station", station, "--slot", "2", "--operator-script", str(script),
                    "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), "--json")
    assert proc.returncode == 0, proc.stderr
    units = json.loads(proc.stdout)
    assert [(u["slot"], u["unit"]["serial"], u["verdict"]) for u in units] == [
        (1, "PT3-000123-01", "PASS"), (2, "PT3-000123-02", "PASS")]
    assert {u["station"] for u in units} == {"sim"} and all(u["scenario"] is None for u in units)
    assert one.returncode == 0, one.stderr
    assert [(u["slot"], u["unit"]["serial"]) for u in json.loads(one.stdout)] == [(2, "PT3-000123-02")]


def test_an_operator_script_answers_per_slot_on_the_simulated_station(tmp_path: Path) -> None:
    plan = tmp_path / "display.yaml"
    plan.write_text('plan: display\nversion: "1"\nsteps:\n  - name: identify\n    check: unit.identify\n'
                    "  - name: display-patterns\n    check: display.patterns\n    requires: [identify]\n"
                    "    timeout: 30\n")
    script = tmp_path / "ops.yaml"
    script.write_text('answers: {"*": true}\nslots:\n  2: {answers: {"*": false}}\n')
    proc = bench("run", str(plan), "--sim", "--units", "2", "--operator-script", str(script),
                 "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), "--json")
    assert proc.returncode == 1, proc.stderr
    first, second = json.loads(proc.stdout)
    assert first["verdict"] == "PASS"
    assert second["verdict"] == "FAIL" and second["findings"][0]["fault"] == "DSP-REJECTED"


def test_an_interrupted_run_says_so_and_blames_neither_unit_nor_bench(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "pos-full", "--sim", "--units", "2",
                             "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "card-atr" in proc.stdout.readline():  # both slots are well into the plan
                break
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    summary = [ln for ln in out.splitlines() if re.match(r"^\s+[12]\s+PT3-", ln)]
    assert len(summary) == 2 and all("ABORTED" in ln and "interrupted by SIGTERM" in ln for ln in summary), out
    assert "BENCH-ERROR" not in out
    assert "2 of 2 slots stopped and stored ABORTED" in out


def test_json_of_a_multi_up_run_masks_card_numbers_as_run_json_does(tmp_path: Path) -> None:
    # Review of #18: `bench run --units N --json` printed a setting holding a card number whole.
    scenario = tmp_path / "pan.yaml"
    scenario.write_text(json.dumps({"spec": 2, "device": {"unit": {"base": "good", "config": {
        "settings": {"receipt_header": ["4111 1111 1111 1111"]}}}}}))
    proc = bench("run", "merchant-config", "--sim", "--units", "2", "--scenario", str(scenario),
                 "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), "--json")
    assert proc.returncode == 1, proc.stderr
    assert "4111 1111 1111 1111" not in proc.stdout
    steps = [s for unit in json.loads(proc.stdout) for s in unit["steps"] if s["check"] == "unit.config"]
    assert len(steps) == 2 and all("line 1 is 411111******1111," in s["message"] for s in steps)
