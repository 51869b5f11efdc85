"""Lots in the store (schema version 2), counting, decisions, the lot report, the CLI and a
simulated lot of 500 from start to report."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from stored import TO_VERSION_2, to_version_6

from bench.cli import cli
from bench.cli.inspect import DEMO_FAULTS
from bench.errors import UsageError
from bench.lots import sampling
from bench.lots.store import LotStore, check_lot_open
from bench.record import Verdict
from bench.scenario import load_scenario
from bench.store.engine import Store
from bench.store.schema import LATEST
from drivers.sim.scenario import scenario_names
from tests.bench.cli.test_store import T0, make_run, store_runs

ROOT = Path(__file__).resolve().parents[3]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def open_lot(url: str, lot: str = "L1", lot_size: int = 500, aql: float = 1.0, severity: str = "normal") -> None:
    with Store.open(url) as store:
        LotStore(store).open_lot(lot, "acme", "BAT-7", sampling.plan(lot_size, aql, "II", severity),
                                 "testplans/incoming-battery.yaml", "ana", now=T0)


def unit_run(n: int, lot: str, serial: str, *, bad: bool = False, verdict: Verdict | None = None):  # type: ignore[no-untyped-def]
    rec = replace(make_run(n, serial, voltage=3.4 if bad else 7.9), lot=lot)
    return replace(rec, verdict=verdict) if verdict else rec


def test_version_2_migrates_a_version_1_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    store_runs(url, unit_run(1, "OLD", "S1"))
    to_version_6(url)
    con = sqlite3.connect(tmp_path / "v1.db")  # back to version 1 as released
    con.executescript(TO_VERSION_2)
    con.executescript("DROP TABLE lots; DROP INDEX ix_runs_lot; DELETE FROM schema_version WHERE version = 2;")
    con.close()
    with Store.open(url) as store:
        assert store.get_run(unit_run(1, "OLD", "S1").run_id).lot == "OLD"
    con = sqlite3.connect(tmp_path / "v1.db")
    assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")] == list(range(1, LATEST + 1))
    migrated = {r[1]: r[2] for r in con.execute("PRAGMA table_info(lots)")}
    indexes = {r[1] for r in con.execute("PRAGMA index_list(runs)")}
    con.close()
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    Store.open(fresh).close()
    con = sqlite3.connect(tmp_path / "new.db")
    assert migrated == {r[1]: r[2] for r in con.execute("PRAGMA table_info(lots)")}
    assert "ix_runs_lot" in indexes
    con.close()
    assert LATEST == 9


def test_counting_and_early_reject(tmp_db: str) -> None:
    open_lot(tmp_db)  # H: n 50, Ac 1, Re 2
    store_runs(tmp_db, unit_run(1, "L1", "U1"), unit_run(2, "L1", "U2", bad=True),
               unit_run(3, "L1", "U3", verdict=Verdict.ERROR),  # does not count: retest
               unit_run(4, "L1", "U2"),  # a passing retest does not hide the defective
               unit_run(5, "OTHER", "U9", bad=True))
    with Store.open(tmp_db) as store:
        st = LotStore(store).status("L1")
        assert (st.tested, st.defectives, st.remaining, st.not_counted) == (2, 1, 48, 1)
        assert st.lot.decision is None
        check_lot_open(store, "L1")
    store_runs(tmp_db, unit_run(6, "L1", "U4", bad=True))
    with Store.open(tmp_db) as store:
        with pytest.raises(UsageError, match="already decided: REJECT"):
            check_lot_open(store, "L1")
        st = LotStore(store).status("L1")
        assert st.lot.decision == "REJECT" and st.lot.state == "DECIDED" and st.tested == 3
        assert st.defectives_by_fault() == {"PWR-BATT-LOW": 2}
        with pytest.raises(UsageError, match="no lot"):
            check_lot_open(store, "NOPE")


def test_accept_when_the_sample_is_done_and_100_percent(tmp_db: str) -> None:
    open_lot(tmp_db, "SMALL", lot_size=5, aql=1.0)  # 100 %: 5 units, Ac 0
    store_runs(tmp_db, *(unit_run(i, "SMALL", f"S{i}") for i in range(4)))
    with Store.open(tmp_db) as store:
        assert LotStore(store).status("SMALL").lot.decision is None
    store_runs(tmp_db, unit_run(4, "SMALL", "S4"))
    code, out = invoke("inspect", "status", "SMALL", "--db", tmp_db, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["decision"] == "ACCEPT" and doc["sampling"]["hundred_percent"] is True
    assert doc["tested"] == 5 and doc["remaining"] == 0


def test_switching_state_from_the_store(tmp_db: str) -> None:
    for k in range(2):
        open_lot(tmp_db, f"R{k}")
        store_runs(tmp_db, unit_run(10 * k, f"R{k}", f"R{k}a", bad=True), unit_run(10 * k + 1, f"R{k}", f"R{k}b", bad=True))
        with Store.open(tmp_db) as store:
            LotStore(store).status(f"R{k}", now=T0 + timedelta(days=k))
    code, out = invoke("inspect", "start", "--supplier", "acme", "--part", "BAT-7", "--lot", "R2",
                       "--lot-size", "500", "--aql", "1.0", "--plan", str(ROOT / "testplans/incoming-battery.yaml"),
                       "--db", tmp_db, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["sampling"]["severity"] == "tightened"  # 2 of 2 rejected
    assert (doc["sampling"]["sample_size"], doc["sampling"]["ac"]) == (80, 1)  # H at 1.0 tightened -> J


def test_cli_plan_and_errors(tmp_db: str) -> None:
    code, out = invoke("inspect", "plan", "--lot-size", "500", "--aql", "1.0")
    assert code == 0 and "code letter H, sample size 50, Ac 1, Re 2" in out
    code, out = invoke("inspect", "plan", "--lot-size", "8", "--aql", "1.0")
    assert "full (100%) inspection" in out
    from bench.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["inspect", "status", "NOPE", "--db", tmp_db])
    assert exc.value.code == 2


def test_report_escapes(tmp_db: str, tmp_path: Path) -> None:
    with Store.open(tmp_db) as store:
        LotStore(store).open_lot("<L&1>", "<script>x</script>", "P", sampling.plan(500, 1.0),
                                 "p.yaml", "ana", now=T0)
    code, _ = invoke("inspect", "report", "<L&1>", "--db", tmp_db, "--out", str(tmp_path / "r"))
    assert code == 0
    page = (tmp_path / "r" / "lot.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "Content-Security-Policy" in page
    assert json.loads((tmp_path / "r" / "lot.json").read_text())["supplier"] == "<script>x</script>"


@pytest.mark.slow
def test_simulated_lot_of_500_from_start_to_report(tmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    t0 = time.monotonic()
    code, out = invoke("inspect", "demo", "--lot-size", "500", "--aql", "1.0", "--defect-rate", "0.02",
                       "--seed", "7", "--lot", "SIM-500", "--db", tmp_db, "--out", str(tmp_path / "lot"), "--json")
    elapsed = time.monotonic() - t0
    doc = json.loads(out)
    assert code == 0 and elapsed < 120
    assert doc["sampling"]["code_letter"] == "H" and doc["sampling"]["sample_size"] == 50
    assert doc["decision"] in ("ACCEPT", "REJECT")
    if doc["decision"] == "ACCEPT":
        assert doc["tested"] == 50 and doc["defectives"] <= 1
    else:
        assert doc["defectives"] == 2 and doc["tested"] <= 50
    serials = {u["serial"] for u in doc["units"]}
    assert len(serials) == doc["tested"] and all(x.startswith("SIM-500-") for x in serials)
    assert (tmp_path / "lot" / "lot.html").exists()
    with Store.open(tmp_db) as store, pytest.raises(UsageError, match="already decided"):
        check_lot_open(store, "SIM-500")
    # A bad lot is rejected early, well before its 50 units.
    code, out = invoke("inspect", "demo", "--defect-rate", "0.3", "--seed", "1", "--lot", "SIM-BAD",
                       "--db", tmp_db, "--out", str(tmp_path / "bad"), "--json")
    bad = json.loads(out)
    assert bad["decision"] == "REJECT" and bad["tested"] < 50 and bad["defectives"] == 2


def test_demo_faults_are_shipped_scenarios_that_fail() -> None:
    assert set(DEMO_FAULTS) <= set(scenario_names())
    for name in DEMO_FAULTS:
        expect = load_scenario(name).expect
        assert expect is not None and expect.verdict == "FAIL", name


@pytest.mark.slow
def test_demo_units_run_named_scenarios_with_their_own_serials(tmp_db: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = invoke("inspect", "demo", "--lot-size", "8", "--aql", "10", "--defect-rate", "0.5", "--seed", "3",
                       "--lot", "T1", "--plan", "testplans/pos-quick.yaml", "--db", tmp_db,
                       "--out", str(tmp_path / "lot"))
    assert code == 0
    assert "  unit   2/5 T1-00005: FAIL (tampered)" in out and "  unit   3/5 T1-00004: FAIL (battery-low)" in out
    assert "defectives by fault: PWR-BATT-LOW 1, SEC-TAMPER 1" in out and "decision: REJECT" in out
    doc = json.loads((tmp_path / "lot" / "lot.json").read_text())
    assert {u["serial"] for u in doc["units"]} == {"T1-00006", "T1-00005", "T1-00004"}
