"""The summary rows behind `bench stats`: they agree with the runs, and migration 3 builds them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from stored import TO_VERSION_2, store_run, to_version_6

from bench.record import Outcome, Verdict
from bench.store.engine import Store, parse_url
from tests.bench.store.test_store import T0, _dataset, make_run, make_step

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def _same(store: Store, **scope: str) -> None:
    """Over every run, the summary rows (no ``since``) say what the runs themselves say."""
    summary = store.stats(**scope).to_dict()  # type: ignore[arg-type]
    scanned = store.stats(since=EPOCH, **scope).to_dict()  # type: ignore[arg-type]
    scanned["since"] = None
    assert summary == scanned


def _awkward(store: Store) -> None:
    """Runs that finish out of order, are finished twice, have no unit, or were abandoned."""
    h = timedelta(hours=1)
    early = make_run(T0 - 10 * h, serial="A", verdict=Verdict.PASS, station="st2")  # A's first, stored last
    store_run(store, make_run(T0 - 5 * h, serial="D", verdict=Verdict.FAIL, steps=[
        make_step(0, T0 - 5 * h, fault="ICC-NO-ATR")]))
    store_run(store, early)
    twice = make_run(T0 - 20 * h, serial="E", verdict=Verdict.FAIL, steps=[make_step(0, T0 - 20 * h, fault="X")])
    store_run(store, twice)
    store.finish_run(twice.run_id, Verdict.PASS, twice.started_at + timedelta(seconds=7), "retested", [])
    store_run(store, replace(make_run(T0 - 30 * h), unit=None))  # never identified
    dead = make_run(T0 - 40 * h, serial="F")
    dead.verdict, dead.ended_at = Verdict.RUNNING, None
    store_run(store, dead)
    with store._write() as conn:
        conn.execute(sa.text("UPDATE runs SET pid = 0 WHERE id = :i"), {"i": dead.run_id})
    assert store.mark_abandoned() == [dead.run_id]


def test_summary_rows_agree_with_the_runs(store: Store) -> None:
    _dataset(store)
    _same(store)
    _awkward(store)
    for scope in ({}, {"model": "T650"}, {"model": "T700"}, {"station": "st1"}, {"station": "st2"},
                  {"model": "T650", "station": "st2"}, {"model": "nothing"}, {"station": "nowhere"}):
        _same(store, **scope)
    s = store.stats()
    assert s.verdicts == {"ABORTED": 1, "ERROR": 1, "FAIL": 4, "PASS": 5}
    # A B C D E; F's only run was ABORTED (it judged nothing); the run without a unit counts as a run only
    assert s.units == 5
    assert s.first_pass_yield == pytest.approx(3 / 5)  # A (its early run at st2), B, E (retested PASS)


def test_summary_rows_are_what_a_rebuild_computes(store: Store, store_url: str) -> None:
    from bench.store import totals

    _dataset(store)
    _awkward(store)

    def snapshot() -> list[tuple[object, ...]]:
        with store._read() as conn:
            return [tuple(r) for t in ("run_totals", "fault_totals")
                    for r in conn.execute(sa.text(f"SELECT * FROM {t} WHERE runs <> 0 ORDER BY 1, 2, 3"))]

    kept = snapshot()
    with store._write():
        totals.rebuild(store._db)
    assert snapshot() == kept


def _schema(url: str) -> dict[str, object]:
    engine = sa.create_engine(parse_url(url))
    try:
        insp = sa.inspect(engine)
        return {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                    sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(t)),
                    insp.get_pk_constraint(t)["constrained_columns"])
                for t in ("measurements", "run_totals", "fault_totals")}
    finally:
        engine.dispose()


def test_version_3_migrates_a_version_2_store(store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url) as store:
        runs = _dataset(store)
        _awkward(store)
        before = store.stats()
        fresh_schema = _schema(store_url)
        to_version_6(parse_url(store_url).render_as_string(hide_password=False))
        with store._write() as conn:  # back to version 2 as released
            for statement in TO_VERSION_2.split(";"):
                if statement.strip():
                    conn.execute(sa.text(statement))
    with Store.open(store_url) as store:  # migrates
        assert store.stats() == before
        assert [p.value for p in store.trend("battery_v", model="T700")] == [3.5]
        assert store.get_run(runs["r4"].run_id).to_dict() == runs["r4"].to_dict()
        with store._read() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    assert versions == list(range(1, 10))
    assert _schema(store_url) == fresh_schema


def test_an_aborted_run_does_not_count_against_first_pass_yield(store: Store) -> None:
    """A unit whose first run was interrupted, then passed, passed first time; one never judged is not counted."""
    h = timedelta(hours=1)
    store_run(store, make_run(T0, serial="G", verdict=Verdict.ABORTED))  # Ctrl-C, SIGTERM
    store_run(store, make_run(T0 + h, serial="G", verdict=Verdict.PASS))
    store_run(store, make_run(T0 + 2 * h, serial="H", verdict=Verdict.INCOMPLETE))  # judged: not signed off
    store_run(store, make_run(T0 + 3 * h, serial="H", verdict=Verdict.PASS))
    dead = make_run(T0 - h, serial="J")  # killed before any other run of J: marked ABORTED later
    dead.verdict, dead.ended_at = Verdict.RUNNING, None
    store_run(store, dead)
    store_run(store, make_run(T0 + 4 * h, serial="J", verdict=Verdict.FAIL, steps=[  # a fault, and a declined step
        make_step(0, T0 + 4 * h, outcome=Outcome.FAIL, fault="ICC-NO-ATR"),
        make_step(1, T0 + 4 * h, outcome=Outcome.SKIP, fault="OP-SKIPPED")]))
    with store._write() as conn:
        conn.execute(sa.text("UPDATE runs SET pid = 0 WHERE id = :i"), {"i": dead.run_id})
    assert store.mark_abandoned() == [dead.run_id]
    store_run(store, make_run(T0 + 5 * h, serial="K", verdict=Verdict.ABORTED))  # never judged
    s = store.stats()
    assert s.verdicts == {"ABORTED": 3, "FAIL": 1, "INCOMPLETE": 1, "PASS": 2}
    assert (s.units, s.first_pass_yield) == (3, pytest.approx(1 / 3))  # G passed; H incomplete, J failed
    assert s.failures_by_fault == [("ICC-NO-ATR", 1)]  # a skipped step is no failure in the pareto
    for scope in ({}, {"station": "st1"}, {"model": "T650"}):
        _same(store, **scope)


def test_version_5_recounts_first_runs_without_aborted_ones(store_url: str) -> None:
    """A store whose summary rows counted ABORTED runs as first runs (version 4) is recomputed at open."""
    h = timedelta(hours=1)
    with Store.open(store_url) as store:
        store_run(store, make_run(T0, serial="G", verdict=Verdict.ABORTED))
        store_run(store, make_run(T0 + h, serial="G", verdict=Verdict.PASS))
        with store._write() as conn:  # as version 4 counted: G's first run was the ABORTED one
            conn.execute(sa.text("UPDATE run_totals SET firsts = 1, firsts_here = 1 WHERE verdict = 'ABORTED'"))
            conn.execute(sa.text("UPDATE run_totals SET firsts = 0, firsts_here = 0 WHERE verdict = 'PASS'"))
        to_version_6(parse_url(store_url).render_as_string(hide_password=False))
        with store._write() as conn:
            conn.execute(sa.text("ALTER TABLE runs DROP COLUMN slot"))  # version 6's, back to version 4
            conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 5"))
        assert store.stats().first_pass_yield == 0.0
    with Store.open(store_url) as store:  # migrates
        assert store.stats().first_pass_yield == 1.0
        _same(store)
