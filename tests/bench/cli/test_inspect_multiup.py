"""A lot's sample on a multi-up station: units tested a slotful at a time, the lot decided as they end."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from simproc import running_sim

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("many_slots")]


def bench(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_a_lot_of_eight_sample_units_on_a_four_slot_simulated_station(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    # Lot of 40 at AQL 6.5: code letter D, sample 8, Ac 1, Re 2. With seed 7 one sampled unit is defective.
    proc = bench("inspect", "demo", "--units", "4", "--lot-size", "40", "--aql", "6.5", "--defect-rate", "0.3",
                 "--seed", "7", "--plan", "pos-quick", "--lot", "L7", "--db", f"sqlite:///{db}",
                 "--out", str(tmp_path / "lot"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    units = [ln for ln in lines if ln.lstrip().startswith("unit ") and "/8 slot " in ln]
    assert len(units) == 8, proc.stdout
    assert "tested 8, defectives 1" in proc.stdout and "decision: ACCEPT" in proc.stdout
    assert units[-1].endswith("-> lot ACCEPT")
    report = json.loads((tmp_path / "lot" / "lot.json").read_text())
    assert (report["decision"], report["tested"], report["defectives"]) == ("ACCEPT", 8, 1)
    assert len(report["units"]) == 8
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT slot, count(*) FROM runs WHERE lot = 'L7' GROUP BY slot ORDER BY slot").fetchall()
        decision = conn.execute("SELECT decision FROM lots WHERE id = 'L7'").fetchone()[0]
    assert rows == [(1, 2), (2, 2), (3, 2), (4, 2)], "two rounds of four units, one per slot"
    assert decision == "ACCEPT"


def test_a_lot_decided_in_the_first_round_starts_no_second(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    proc = bench("inspect", "demo", "--units", "4", "--lot-size", "40", "--aql", "6.5", "--defect-rate", "0.3",
                 "--seed", "9", "--plan", "pos-quick", "--lot", "L9", "--db", f"sqlite:///{db}",
                 "--out", str(tmp_path / "lot"))
    assert proc.returncode == 0, proc.stderr
    assert "decision: REJECT" in proc.stdout and "the other 4 need no test (decided early)" in proc.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE lot = 'L9'").fetchone()[0] == 4


def test_inspect_test_on_a_station_the_operator_scans_each_slot(tmp_path: Path) -> None:
    with running_sim(tmp_path / "fixture.toml", units=3) as station:
        db = f"sqlite:///{tmp_path / 'b.db'}"
        proc = bench("inspect", "start", "--supplier", "acme", "--part", "PT-300", "--lot", "LOT-1",
                     "--lot-size", "40", "--aql", "6.5", "--plan", "pos-quick", "--db", db)
        assert proc.returncode == 0, proc.stderr
        script = tmp_path / "ops.yaml"
        script.write_text('answers: {"*": true}\nslots:\n'
                          "  1: {answers: {serial: PT3-000123-01}}\n"
                          '  2: {answers: {serial: ""}}\n'  # slot 2 left empty
                          "  3: {answers: {serial: PT3-000123-03}}\n")
        proc = bench("inspect", "test", "LOT-1", "--station", station, "--operator-script", str(script),
                     "--db", db, "--report", str(tmp_path / "r"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert sorted((r["slot"], r["serial"], r["verdict"]) for r in out["runs"]) == [
        (1, "PT3-000123-01", "PASS"), (3, "PT3-000123-03", "PASS")]
    assert out["lot"]["tested"] == 2 and out["lot"]["decision"] is None
    # Second round: the script scans the same units again; they are tested already, so the rounds stop.
    assert "PT3-000123-01 is tested already in lot LOT-1" in proc.stderr
    assert "no new unit loaded: stopping" in proc.stderr


def test_scans_that_do_not_match_the_units_are_flagged_and_the_rounds_stop(tmp_path: Path) -> None:
    with running_sim(tmp_path / "fixture.toml", units=2) as station:
        db = f"sqlite:///{tmp_path / 'b.db'}"
        assert bench("inspect", "start", "--supplier", "acme", "--part", "PT-300", "--lot", "LOT-2",
                     "--lot-size", "40", "--aql", "6.5", "--plan", "pos-quick", "--db", db).returncode == 0
        script = tmp_path / "ops.yaml"
        script.write_text('answers: {"*": true}\nslots:\n  1: {answers: {serial: A1}}\n  2: {answers: {serial: A2}}\n')
        proc = bench("inspect", "test", "LOT-2", "--station", station, "--operator-script", str(script),
                     "--db", db, "--report", str(tmp_path / "r"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "slot 1: scanned A1 but the unit says PT3-000123-01" in proc.stdout
    assert "that round added no tested unit to the lot" in proc.stdout
    assert "tested 2 of 8" in proc.stdout and "decision: open" in proc.stdout
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE lot = 'LOT-2'").fetchone()[0] == 4  # two rounds, no more
