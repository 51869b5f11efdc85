"""The fleet dashboard's figures (bench/store/dashboard.py) on SQLite and PostgreSQL, as a user reads them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from stored import store_run, to_version_7

from bench.lots import sampling
from bench.lots.store import LotStore
from bench.record import Finding, Outcome, Verdict
from bench.store import dashboard, totals
from bench.store.dashboard import FaultCount, YieldFigure
from bench.store.engine import Store, parse_url
from bench.store.schema import LATEST
from tests.bench.store.test_store import _dataset, make_run, make_step
from tests.bench.store.test_totals import _awkward

NOW = datetime(2024, 5, 8, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
H, D = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def _finding(code: str) -> Finding:
    return Finding(fault=code, title=code, category="unit", part="reader", action="replace", in_unit=True,
                   steps=["step-0"], consequences=[])


def _week(store: Store) -> None:
    """A week of a small shop: retests, an aborted run, a finding, a skipped step, a unit first seen long ago."""
    store_run(store, make_run(NOW - 20 * D, serial="B", verdict=Verdict.PASS))  # B's first run: 20 days ago
    store_run(store, make_run(NOW - 10 * D, serial="F", verdict=Verdict.FAIL, steps=[
        make_step(0, NOW - 10 * D, outcome=Outcome.FAIL, fault="KEY-STUCK")]))  # 10 days ago: not this week
    store_run(store, make_run(NOW - 3 * D, serial="D", model="T700", station="st2", verdict=Verdict.FAIL, steps=[
        make_step(0, NOW - 3 * D, outcome=Outcome.FAIL, fault="PWR-BATT-LOW"),
        make_step(1, NOW - 3 * D, outcome=Outcome.SKIP, fault="OP-SKIPPED")], findings=[_finding("ICC-NO-ATR")]))
    store_run(store, make_run(NOW - 3 * D, serial="E", verdict=Verdict.ABORTED))
    store_run(store, make_run(NOW - 3 * D + H, serial="E", verdict=Verdict.PASS))
    # today: A fails then passes its retest, B passes again, C's run is an ERROR of the bench
    store_run(store, make_run(NOW - 3 * H, serial="A", verdict=Verdict.FAIL, steps=[
        make_step(0, NOW - 3 * H, outcome=Outcome.FAIL, fault="ICC-NO-ATR")]))
    store_run(store, make_run(NOW - 2 * H, serial="A", verdict=Verdict.PASS))
    store_run(store, make_run(NOW - H, serial="B", station="st2", verdict=Verdict.PASS))
    store_run(store, make_run(NOW - H, serial="C", model="T700", verdict=Verdict.ERROR))


def test_the_front_page_of_a_week(store: Store) -> None:
    _week(store)
    with store.db.read():
        page = dashboard.overview(store.db, NOW)
    # today: 4 runs; first runs: A (failed) and C (an ERROR is judged), not B (first tested 20 days ago)
    assert page.today == YieldFigure(runs=4, passed=2, failed=1, incomplete=1, first_pass_units=2,
                                     first_pass_passed=0)
    assert page.today.first_pass_yield == 0.0
    # the week adds D (failed) and E (its ABORTED run judged nothing: its first judged run passed)
    assert page.week == YieldFigure(runs=7, passed=3, failed=2, incomplete=2, first_pass_units=4, first_pass_passed=1)
    assert page.week.first_pass_yield == pytest.approx(1 / 4)
    # ICC-NO-ATR: A's step and D's finding; the skipped step is no failure; KEY-STUCK is 10 days old
    assert page.pareto_week == [FaultCount("ICC-NO-ATR", 2), FaultCount("PWR-BATT-LOW", 1)]
    assert [(d.day, d.figure.runs) for d in page.days] == [(TODAY - 10 * D, 1), (TODAY - 3 * D, 3), (TODAY, 4)]
    assert {d.key for d in page.days} == {""}
    assert page.benches == [] and page.running == []


def test_yield_and_pareto_by_model_and_bench(store: Store) -> None:
    _week(store)
    db = store.db
    with db.read():
        by_model = {(d.day, d.key): d.figure for d in dashboard.yield_by_day(db, TODAY - 6 * D, TODAY, by="model")}
        by_station = {(d.day, d.key): d.figure
                      for d in dashboard.yield_by_day(db, TODAY - 30 * D, TODAY, by="station")}
        t700 = dashboard.pareto(db, TODAY - 6 * D, TODAY, model="T700")
        st1 = dashboard.pareto(db, TODAY - 30 * D, TODAY, station="st1", limit=1)
        only_st2 = dashboard.yield_by_day(db, TODAY, TODAY, station="st2")
        models = dashboard.models(db)
    assert sorted(by_model) == [(TODAY - 3 * D, "T650"), (TODAY - 3 * D, "T700"), (TODAY, "T650"), (TODAY, "T700")]
    assert by_model[TODAY, "T700"] == YieldFigure(1, 0, 0, 1, 1, 0)
    assert by_model[TODAY - 3 * D, "T650"] == YieldFigure(2, 1, 0, 1, 1, 1)
    # per bench, a unit's first run at that bench: B's first at st2 is today's, and it passed
    assert by_station[TODAY, "st2"] == YieldFigure(1, 1, 0, 0, 1, 1)
    assert by_station[TODAY - 20 * D, "st1"] == YieldFigure(1, 1, 0, 0, 1, 1)
    assert [(d.key, d.figure) for d in only_st2] == [("", YieldFigure(1, 1, 0, 0, 1, 1))]
    assert t700 == [FaultCount("ICC-NO-ATR", 1), FaultCount("PWR-BATT-LOW", 1)]
    assert st1 == [FaultCount("ICC-NO-ATR", 1)]  # A's today; KEY-STUCK ties on 1 and sorts after
    assert models == ["T650", "T700"]
    with pytest.raises(ValueError, match="by="):
        dashboard.yield_by_day(db, TODAY, TODAY, by="operator")


def _recount(store: Store, since: date, until: date, by: str, model: str | None, station: str | None) -> list[tuple]:
    """The dashboard's yield by day, recounted from every run (no summary row)."""
    with store._read() as conn:
        found = conn.execute(sa.text(
            "SELECT r.id, r.unit_id, r.verdict, r.started_at, coalesce(u.model, ''), s.name FROM runs r "
            "LEFT JOIN units u ON u.id = r.unit_id JOIN stations s ON s.id = r.station_id "
            "WHERE r.verdict <> 'RUNNING' ORDER BY r.started_at, r.id")).all()
    here = by == "station" or station is not None
    firsts: set[str] = set()
    seen: set[object] = set()
    for rid, unit, verdict, _, _, st in found:
        if unit is not None and verdict not in totals.UNJUDGED and (unit, st if here else None) not in seen:
            seen.add((unit, st if here else None))
            firsts.add(rid)
    cells: dict[tuple[date, str], Counter[str]] = {}
    for rid, _, verdict, started, mdl, st in found:
        day = totals.day_of(started)
        if not since.isoformat() <= day <= until.isoformat() or model not in (None, mdl) or station not in (None, st):
            continue
        c = cells.setdefault((date.fromisoformat(day), {"": "", "model": mdl, "station": st}[by]), Counter())
        c["runs"] += 1
        c[verdict] += 1
        c["firsts"] += rid in firsts
        c["first_pass"] += rid in firsts and verdict == "PASS"
    return [(day, key, YieldFigure(c["runs"], c["PASS"], c["FAIL"], c["runs"] - c["PASS"] - c["FAIL"], c["firsts"],
                                   c["first_pass"])) for (day, key), c in sorted(cells.items())]


def test_day_rows_agree_with_a_recount_after_retests_out_of_order_and_aborted_runs(store: Store) -> None:
    _dataset(store)
    _awkward(store)  # finished twice, finished out of order, no unit, marked ABORTED
    _week(store)
    twice = make_run(NOW - 2 * D, serial="G", verdict=Verdict.FAIL, steps=[make_step(0, NOW - 2 * D, fault="X")])
    store_run(store, twice)  # a FAIL made an ABORTED after the fact: it leaves the pareto
    store.finish_run(twice.run_id, Verdict.ABORTED, NOW - 2 * D + H, "", [])
    since, until = date(2024, 4, 1), TODAY
    for by in ("", "model", "station"):
        for model, station in ((None, None), ("T650", None), (None, "st2"), ("T700", "st2")):
            with store.db.read():
                got = [(d.day, d.key, d.figure)
                       for d in dashboard.yield_by_day(store.db, since, until, by=by, model=model, station=station)]
            assert got == _recount(store, since, until, by, model, station), (by, model, station)
    with store.db.read():
        assert dashboard.pareto(store.db, TODAY - 2 * D, TODAY) == [FaultCount("ICC-NO-ATR", 1)]

    def snapshot() -> list[tuple[object, ...]]:
        with store._read() as conn:
            return [tuple(r) for t in ("day_totals", "day_fault_totals", "day_yield", "day_pareto")
                    for r in conn.execute(sa.text(f"SELECT * FROM {t} WHERE runs <> 0 ORDER BY 1, 2, 3, 4"))]

    kept = snapshot()
    with store._write():
        totals.rebuild(store._db)
    assert snapshot() == kept and kept


def test_search_and_the_histories_of_a_unit_a_bench_and_a_model(store: Store) -> None:
    for i, (serial, model, station) in enumerate([("AB-1", "T650", "st1"), ("ab10", "T650", "st2"),
                                                  ("Ab2", "T700", "st1"), ("ABC", "T700", "st2"),
                                                  ("ab10", "T700", "st1"), ("b_1", "T650", "st1")]):
        store_run(store, make_run(NOW - i * H, serial=serial, model=model, station=station))
    store_run(store, make_run(NOW - 10 * H, serial="ab10", model="T650"))
    store_run(store, replace(make_run(NOW - 11 * H, station="st2"), unit=None))  # never identified
    db = store.db
    with db.read():
        assert dashboard.search_serial(db, "ab") == [("T650", "AB-1"), ("T650", "ab10"), ("T700", "ab10"),
                                                     ("T700", "Ab2"), ("T700", "ABC")]
        assert dashboard.search_serial(db, " AB1") == [("T650", "ab10"), ("T700", "ab10")]
        assert dashboard.search_serial(db, "ab-", limit=5) == [("T650", "AB-1")]
        assert dashboard.search_serial(db, "ab", limit=2) == [("T650", "AB-1"), ("T650", "ab10")]
        assert dashboard.search_serial(db, "a_") == []  # no pattern characters
        assert dashboard.search_serial(db, "") == []
        unit = dashboard.unit_runs(db, "ab10")
        newest = dashboard.station_runs(db, "st2", limit=2)
        t700 = dashboard.model_runs(db, "T700")
        assert dashboard.station_runs(db, "nowhere") == [] and dashboard.model_runs(db, "T999") == []
    assert [(r.model, r.started_at) for r in unit] == [("T650", NOW - H), ("T700", NOW - 4 * H),
                                                      ("T650", NOW - 10 * H)]
    assert [r.serial for r in newest] == ["ab10", "ABC"]
    assert [r.serial for r in t700] == ["Ab2", "ABC", "ab10"]
    with db.read():
        every = dashboard.station_runs(db, "st2")
    assert [r.serial for r in every] == ["ab10", "ABC", None]  # the run without a unit is the bench's too


def test_runs_in_progress_and_lots(store: Store) -> None:
    lots = LotStore(store)
    lots.open_lot("L-OLD", "acme", "BAT-7", sampling.plan(50, 1.0, "II", "normal"), "p.yaml", "ana", now=NOW - D)
    lots.open_lot("L-NEW", "acme", "BAT-7", sampling.plan(500, 1.0, "II", "normal"), "p.yaml", "ana", now=NOW)
    new = lots.get("L-NEW").plan
    for serial, verdict in (("S1", Verdict.PASS), ("S2", Verdict.FAIL), ("S2", Verdict.PASS), ("S3", Verdict.ERROR)):
        store_run(store, replace(make_run(NOW, serial=serial, verdict=verdict), lot="L-NEW"))
    first_old = replace(make_run(NOW, serial="Z1", verdict=Verdict.FAIL), lot="L-OLD")
    store_run(store, first_old)
    store_run(store, replace(make_run(NOW, serial="Z2", verdict=Verdict.FAIL), lot="L-OLD"))
    lots.status("L-OLD")  # Ac 1 Re 2: two defectives decide it REJECT
    slow = make_run(NOW - 5 * H, serial="R1", station="st2")
    slow.verdict, slow.ended_at = Verdict.RUNNING, None
    slow.steps = [make_step(0, slow.started_at), make_step(1, slow.started_at)]
    slot3 = replace(make_run(NOW - H, serial="R2"), slot=3, unit=None, steps=[], verdict=Verdict.RUNNING, ended_at=None)
    store_run(store, slow)
    store_run(store, slot3)
    db = store.db
    with db.read():
        progress = dashboard.lots(db)
        open_only = dashboard.lots(db, open_only=True)
        both = dashboard.running(db)
        at_st2 = dashboard.running(db, station="st2")
        assert dashboard.lots(db, limit=1) == open_only
    assert [(lot.lot, lot.state, lot.decision, lot.inspected, lot.defectives) for lot in progress] == [
        ("L-NEW", "OPEN", None, 2, 1), ("L-OLD", "DECIDED", "REJECT", 2, 2)]
    assert (progress[0].sample_size, progress[0].ac, progress[0].re, progress[0].lot_size) == (
        new.sample_size, new.ac, new.re, 500)
    assert [lot.lot for lot in open_only] == ["L-NEW"]
    assert [(r.run_id, r.station, r.slot, r.serial, r.steps_done) for r in both] == [
        (slow.run_id, "st2", None, "R1", 2), (slot3.run_id, "st1", 3, None, 0)]
    assert [r.run_id for r in at_st2] == [slow.run_id] and at_st2[0].plan_name == "full"


def _schema(url: str) -> dict[str, object]:
    engine = sa.create_engine(parse_url(url))
    try:
        insp = sa.inspect(engine)
        out: dict[str, object] = {}
        for t in insp.get_table_names():
            out[t] = (sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                      sorted((i["name"], tuple(str(c) for c in i["column_names"])) for i in insp.get_indexes(t)),
                      insp.get_pk_constraint(t)["constrained_columns"])
        with engine.connect() as conn:  # expression indexes, which reflection skips
            if engine.dialect.name == "sqlite":
                out["sql"] = sorted(conn.execute(sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")).scalars())
            else:
                out["sql"] = sorted(conn.execute(sa.text(
                    "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'")).scalars())
        return out
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_version_8_migrates_a_version_7_store(store_url: str) -> None:
    with Store.open(store_url) as store:
        _week(store)
        with store.db.read():
            before = dashboard.overview(store.db, NOW)
            t700 = dashboard.model_runs(store.db, "T700")
    fresh = _schema(store_url)
    to_version_7(parse_url(store_url).render_as_string(hide_password=False))
    assert "day_totals" not in _schema(store_url)
    with Store.open(store_url) as store:  # migrates: the day rows are built from the runs
        with store.db.read():
            assert dashboard.overview(store.db, NOW) == before
            assert [r.run_id for r in dashboard.model_runs(store.db, "T700")] == [r.run_id for r in t700]
            assert len(t700) == 2
        with store._read() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    assert versions == list(range(1, LATEST + 1)) and LATEST == 9
    assert _schema(store_url) == fresh


def test_a_sqlite_store_without_sqlalchemy_reads_the_same(tmp_path: Path) -> None:
    """``bench run`` writes through sqlite3 alone: the day rows it keeps are the ones SQLAlchemy's store keeps."""
    from bench.store.sqlite import open_current

    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store.open(url).close()
    light = open_current(url)
    assert light is not None
    with light:
        _week(light)  # type: ignore[arg-type]
        with light.db.read():
            page = dashboard.overview(light.db, NOW)
            found = dashboard.search_serial(light.db, "a")
    assert page.week.runs == 7 and found == [("T650", "A")]


@pytest.mark.slow
def test_a_simulated_lot_inspection_shows_as_bench_inspect_reports_it(tmp_path: Path) -> None:
    """`bench inspect demo` on 4 simulated slots: the dashboard's lot, pareto and day agree with the lot's report."""
    import json
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'b.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "inspect", "demo", "--lot-size", "20", "--defect-rate", "0.3", "--seed", "3",
         "--units", "4", "--lot", "L-DEMO", "--db", url, "--out", str(tmp_path / "rep"), "--json"],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["defectives"] > 0 and report["tested"] > report["defectives"]
    with Store.open(url) as store, store.db.read():
        (lot,) = dashboard.lots(store.db)
        day = datetime.fromisoformat(report["opened_at"]).date()
        bars = dashboard.pareto(store.db, day, day)
        (fleet,) = dashboard.yield_by_day(store.db, day, day)
        (bench,) = dashboard.benches(store.db, datetime.now(UTC))
    assert (lot.lot, lot.state, lot.decision, lot.inspected, lot.defectives, lot.sample_size) == (
        "L-DEMO", report["state"], report["decision"], report["tested"], report["defectives"],
        report["sampling"]["sample_size"])
    assert {b.fault: b.runs for b in bars} == report["defectives_by_fault"]
    assert (fleet.figure.runs, fleet.figure.failed) == (report["tested"], report["defectives"])
    assert (bench.state, bench.slots) == ("stopped", 4)
