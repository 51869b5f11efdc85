"""``bench run --case``'s sink: the run joins its case as soon as its row exists, and leaves it for another unit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bench.cases.attach import CaseSink
from bench.cases.store import CaseStore
from bench.record import UnitInfo, Verdict
from bench.store.engine import Store
from tests.bench.cli.test_store import make_run


@pytest.fixture
def store(tmp_db: str) -> Iterator[Store]:
    with Store.open(tmp_db) as s:
        yield s


def _sink(store: Store) -> tuple[CaseSink, CaseStore]:
    cases = CaseStore(store)
    return CaseSink(store, cases.open_case("SN-1", "reader")), cases


def test_a_run_killed_before_the_unit_answered_is_the_cases(store: Store) -> None:
    sink, cases = _sink(store)
    rec = replace(make_run(1, "SN-1"), unit=None, steps=[], verdict=Verdict.RUNNING, ended_at=None)
    sink.start_run(rec)  # and nothing more: the process is killed here
    assert cases.run_ids(1) == [rec.run_id] and (sink.attached, sink.note) == (True, None)


def test_the_units_serial_keeps_the_run_and_gives_the_case_its_model(store: Store) -> None:
    sink, cases = _sink(store)
    rec = make_run(1, "SN-1", model="PT-500")
    sink.start_run(replace(rec, unit=None))
    sink.set_unit(rec.run_id, UnitInfo("PT-500", "SN-1", "C", "2.4.1"))
    for step in rec.steps:
        sink.add_step(rec.run_id, step)
    assert rec.ended_at is not None
    sink.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)
    assert cases.run_ids(1) == [rec.run_id] and cases.get(1).model == "PT-500"
    assert store.get_run(rec.run_id).to_dict() == rec.to_dict()


def test_another_units_run_leaves_the_case_and_says_why(store: Store) -> None:
    sink, cases = _sink(store)
    rec = make_run(1, "SN-9")
    sink.start_run(replace(rec, unit=None))
    sink.set_unit(rec.run_id, UnitInfo("PT-300", "SN-9", "C", "2.4.1"))
    assert cases.run_ids(1) == [] and not sink.attached
    assert sink.note == f"the unit tested is SN-9, not SN-1: run {rec.run_id[:8]} is stored but not attached to case C1"
    assert store.get_run(rec.run_id).unit == UnitInfo("PT-300", "SN-9", "C", "2.4.1")


def test_a_case_closed_since_the_run_was_allowed_leaves_the_run_alone(store: Store) -> None:
    sink, cases = _sink(store)
    cases.close(1, "withdrawn")
    rec = make_run(1, "SN-1")
    sink.start_run(replace(rec, unit=None))
    assert cases.run_ids(1) == [] and not sink.attached
    assert sink.note == (f"run {rec.run_id[:8]} is stored but not attached to case C1: case C1 is closed "
                         "(unrepaired); open a new case for unit SN-1")
