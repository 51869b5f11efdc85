"""Repair cases in the store (schema 7) on SQLite and PostgreSQL: open, attach, repair, close, migrate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from stored import store_run, to_version_6

from bench.cases.model import ACTIONS, parse_case_id
from bench.cases.store import CaseNotRepaired, CaseStore, RunNotAttached, check_case_open
from bench.errors import UsageError
from bench.record import Verdict
from bench.store.engine import Store, parse_url
from bench.store.schema import LATEST
from tests.bench.cli.test_store import T0, make_run

PAN = "4111111111111111"
H = timedelta(hours=1)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def run_of(n: int, serial: str, verdict: Verdict):  # type: ignore[no-untyped-def]
    """Run ``n`` (n hours after T0) of ``serial`` ending ``verdict`` (its steps as make_run builds them)."""
    rec = make_run(n, serial, voltage=7.9 if verdict is Verdict.PASS else 3.4)
    return replace(rec, verdict=verdict)


def attached(store: Store, case_id: int, n: int, verdict: Verdict, serial: str = "SN-1") -> str:
    rec = store_run(store, run_of(n, serial, verdict))
    CaseStore(store).attach_run(case_id, rec.run_id)
    return rec.run_id


def raw_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(("text", "want"), [("C12", 12), ("c7", 7), ("12", 12), (" C3 ", 3)])
def test_case_ids_are_taken_as_c_number_or_bare(text: str, want: int) -> None:
    assert parse_case_id(text) == want


@pytest.mark.parametrize("text", ["", "C", "X12", "C-1", "C0", "12a", "C1.5"])
def test_anything_else_is_not_a_case_id(text: str) -> None:
    with pytest.raises(UsageError, match="is not a case id: give it as C<number>"):
        parse_case_id(text)


# --------------------------------------------------------------------------- open, get, list


def test_open_get_and_list_by_status_and_serial(store: Store) -> None:
    cases = CaseStore(store)
    a = cases.open_case("SN-1", "  reader does not read chips ", model="PT-300", customer_ref="ACME-42",
                        last_worked="last Friday", software_update="2.4.1 on Monday", opened_by="ana", now=T0)
    b = cases.open_case("SN-2", "screen cracked", opened_by="bo", now=T0 + H)
    assert (a.label, a.case_id, b.label) == ("C1", 1, "C2")
    assert cases.get(1) == a
    assert a.to_dict() == {
        "case": "C1", "id": 1, "serial": "SN-1", "model": "PT-300", "complaint": "reader does not read chips",
        "customer_ref": "ACME-42", "last_worked": "last Friday", "software_update": "2.4.1 on Monday",
        "opened_at": T0.isoformat(), "opened_by": "ana", "status": "open", "closed_at": None, "result": None,
        "close_reason": None,
    }
    assert b.model is None and b.customer_ref is None
    cases.close(2, "customer withdrew", now=T0 + 2 * H)
    assert [c.label for c in cases.list_cases()] == ["C1", "C2"]
    assert [c.label for c in cases.list_cases("open")] == ["C1"]
    assert [c.label for c in cases.list_cases("closed")] == ["C2"]
    assert [c.label for c in cases.list_cases(serial="SN-2")] == ["C2"]
    assert cases.list_cases("open", "SN-2") == []
    with pytest.raises(UsageError, match=r"^no case C9 in the store \(bench case list shows the cases\)$"):
        cases.get(9)


def test_one_open_case_per_serial(store: Store) -> None:
    cases = CaseStore(store)
    cases.open_case("SN-1", "dead")
    with pytest.raises(UsageError, match="unit SN-1 already has an open case, C1: close it before opening another"):
        cases.open_case("SN-1", "dead again")
    cases.close(1, "no fault found")
    assert cases.open_case("SN-1", "dead again").label == "C2"  # a repeat repair is a new case


@pytest.mark.parametrize(("serial", "complaint", "why"), [
    ("  ", "dead", "needs the unit's serial number"), ("SN-1", " ", "needs the customer's complaint")])
def test_a_case_needs_a_serial_and_a_complaint(store: Store, serial: str, complaint: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        CaseStore(store).open_case(serial, complaint)
    assert CaseStore(store).list_cases() == []


def test_the_model_comes_from_the_units_newest_run_or_its_first_case_run(store: Store) -> None:
    store_run(store, make_run(1, "SN-1", model="PT-100"))
    store_run(store, make_run(2, "SN-1", model="PT-300"))
    cases = CaseStore(store)
    assert cases.open_case("SN-1", "dead").model == "PT-300"
    fresh = cases.open_case("SN-7", "dead")
    assert fresh.model is None
    rec = store_run(store, make_run(3, "SN-7", model="PT-500"))
    assert cases.attach_run(fresh.case_id, rec.run_id).model == "PT-500"


def test_no_full_pan_is_stored_or_returned(store: Store, store_url: str) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", f"card {PAN} declined", customer_ref=f"ref {PAN}", last_worked=f"sale {PAN}",
                        software_update=f"u {PAN}")
    cases.add_repair(c.case_id, "clean", f"cleaned; tested with {PAN}")
    closed = cases.close(c.case_id, f"customer card {PAN} is expired")
    shown = [*closed.to_dict().values(), *cases.repairs(c.case_id)[0].to_dict().values()]
    assert any("411111******1111" in str(v) for v in shown)
    assert not any(PAN in str(v) for v in shown)
    stored = raw_rows(store_url, "SELECT * FROM cases") + raw_rows(store_url, "SELECT * FROM case_repairs")
    assert stored and not any(PAN in str(v) for row in stored for v in row)


# --------------------------------------------------------------------------- runs


def test_runs_join_their_case_oldest_first_as_stored(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "battery dies")
    late = attached(store, c.case_id, 5, Verdict.PASS)
    early = attached(store, c.case_id, 1, Verdict.FAIL)
    store_run(store, run_of(3, "SN-1", Verdict.FAIL))  # the same unit, not in the case
    assert cases.run_ids(c.case_id) == [early, late]
    assert [r.to_dict() for r in cases.runs(c.case_id)] == [store.get_run(early).to_dict(), store.get_run(late).to_dict()]
    assert cases.run_counts() == {c.case_id: 2}


def test_a_run_of_another_unit_is_not_attached(store: Store, store_url: str) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "dead")
    rec = store_run(store, run_of(1, "SN-2", Verdict.FAIL))
    with pytest.raises(RunNotAttached, match=r"the unit tested is SN-2, not SN-1: run \w{8} is stored but not attached "
                                             "to case C1"):
        cases.attach_run(c.case_id, rec.run_id)
    assert cases.run_ids(c.case_id) == []
    assert raw_rows(store_url, "SELECT case_id FROM runs") == [(None,)]


def test_a_unit_that_never_identified_is_taken_on_the_technicians_word(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "dead")
    rec = store_run(store, replace(run_of(1, "SN-1", Verdict.FAIL), unit=None))
    cases.attach_run(c.case_id, rec.run_id)
    assert cases.run_ids(c.case_id) == [rec.run_id]
    cases.detach_run(rec.run_id)
    assert cases.run_ids(c.case_id) == []


def test_closed_or_unknown_cases_take_no_runs_and_no_repairs(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "dead")
    cases.close(c.case_id, "beyond repair")
    rec = store_run(store, run_of(1, "SN-1", Verdict.FAIL))
    for call in (lambda: cases.attach_run(1, rec.run_id), lambda: cases.add_repair(1, "clean", "x"),
                 lambda: cases.close(1, "again"), lambda: check_case_open(store, 1)):
        with pytest.raises(UsageError, match=r"^case C1 is closed \(unrepaired\); open a new case for unit SN-1$"):
            call()
    with pytest.raises(UsageError, match="no case C2"):
        check_case_open(store, 2)
    assert cases.repairs(1) == [] and cases.run_ids(1) == []


# --------------------------------------------------------------------------- repairs


def test_repairs_are_recorded_in_order(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader")
    cases.add_repair(c.case_id, "reseat", "reseated the reader flex", technician="ana", now=T0)
    r = cases.add_repair(c.case_id, "replace", "new reader", part_number=" CR-200 ", technician="bo", now=T0 + H)
    assert r.to_dict() == {"id": 2, "case": "C1", "at": (T0 + H).isoformat(), "technician": "bo",
                           "action": "replace", "part_number": "CR-200", "note": "new reader"}
    assert [(p.action, p.part_number) for p in cases.repairs(c.case_id)] == [("reseat", None), ("replace", "CR-200")]


@pytest.mark.parametrize(("action", "part", "note", "why"), [
    ("polish", None, "x", "unknown repair action 'polish': one of replace, reseat"),
    ("replace", None, "x", r"--action replace needs --part PN"),
    ("replace", " ", "x", r"--action replace needs --part PN"),
    ("clean", None, "  ", r"a repair needs a note"),
])
def test_bad_repairs_write_nothing(store: Store, action: str, part: str | None, note: str, why: str) -> None:
    cases = CaseStore(store)
    cases.open_case("SN-1", "reader")
    with pytest.raises(UsageError, match=why):
        cases.add_repair(1, action, note, part_number=part)
    assert cases.repairs(1) == []


def test_every_action_of_the_brief_is_known() -> None:
    assert ACTIONS == ("replace", "reseat", "clean", "reflash", "update", "return-to-factory", "reactivated",
                       "adjust", "other")


# --------------------------------------------------------------------------- closing


@pytest.mark.parametrize(("verdicts", "repaired"), [
    ([Verdict.FAIL, Verdict.PASS], True),
    ([Verdict.PASS], True),  # nothing reproduced the complaint, and the unit passes
    ([Verdict.FAIL, Verdict.PASS, Verdict.ERROR, Verdict.ABORTED], True),  # the bench failed, nothing judged
    ([Verdict.PASS, Verdict.FAIL], False),
    ([Verdict.FAIL, Verdict.PASS, Verdict.INCOMPLETE], False),  # skipped steps: not signed off
    ([Verdict.ERROR], False),
    ([], False),
])
def test_a_case_closes_repaired_only_when_its_last_judged_run_passed(
        store: Store, verdicts: list[Verdict], repaired: bool) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader")
    runs = [attached(store, c.case_id, n, v) for n, v in enumerate(verdicts)]
    if repaired:
        closed = cases.close(c.case_id, now=T0 + 99 * H)
        assert (closed.status, closed.result, closed.close_reason, closed.closed_at) == (
            "closed", "repaired", None, T0 + 99 * H)
        return
    with pytest.raises(CaseNotRepaired) as err:
        cases.close(c.case_id)
    judged = [(r, v) for r, v in zip(runs, verdicts, strict=True) if v.value in ("PASS", "FAIL", "INCOMPLETE")]
    why = f"its last run {judged[-1][0][:8]} is {judged[-1][1].value}" if judged else "it has no judged run"
    assert str(err.value) == (f"case C1 cannot close as repaired: {why}; test the unit until a run passes "
                              "(bench run PLAN --case C1), or close it with --unrepaired REASON")
    assert cases.get(c.case_id).is_open  # nothing written
    closed = cases.close(c.case_id, " customer declined the quote ")
    assert (closed.result, closed.close_reason) == ("unrepaired", "customer declined the quote")


def test_a_passing_run_that_did_not_retest_the_fault_does_not_close_repaired(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader")
    attached(store, c.case_id, 0, Verdict.FAIL)
    last = attached(store, c.case_id, 1, Verdict.PASS)
    with pytest.raises(CaseNotRepaired, match=f"its last run {last[:8]} is PASS but no run since the failure "
                                              "tested ICC-NO-ATR again"):
        cases.close(c.case_id, untested=["ICC-NO-ATR"])
    assert cases.get(c.case_id).is_open  # nothing written
    assert cases.close(c.case_id).result == "repaired"


def test_a_passing_intake_checklist_alone_does_not_close_repaired(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader")
    last = attached(store, c.case_id, 0, Verdict.PASS)
    with pytest.raises(CaseNotRepaired, match=f"its last run {last[:8]} is PASS but it was the intake checklist only"):
        cases.close(c.case_id, checklist_only=True)
    assert cases.get(c.case_id).is_open


def test_the_people_named_are_masked_like_any_free_text(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader", opened_by="ana 4761739001010010")
    done = cases.add_repair(c.case_id, "clean", "contacts", technician=" 4761739001010010 ")
    assert cases.get(c.case_id).opened_by == "ana 476173******0010"
    assert done.technician == cases.repairs(c.case_id)[0].technician == "476173******0010"


def test_unrepaired_needs_a_reason(store: Store) -> None:
    CaseStore(store).open_case("SN-1", "reader")
    with pytest.raises(UsageError, match="--unrepaired needs a reason"):
        CaseStore(store).close(1, "  ")
    assert CaseStore(store).get(1).is_open


def test_a_unit_at_the_factory_closes_returned_and_one_back_from_it_is_tested_again(store: Store) -> None:
    cases = CaseStore(store)
    sent = cases.open_case("SN-1", "tamper")
    attached(store, sent.case_id, 0, Verdict.FAIL)
    cases.add_repair(sent.case_id, "return-to-factory", "RMA 7781: tamper, keys erased")
    closed = cases.close(sent.case_id)
    assert (closed.result, closed.close_reason) == ("returned", "returned to the factory: RMA 7781: tamper, keys erased")
    back = cases.open_case("SN-2", "tamper")
    attached(store, back.case_id, 1, Verdict.FAIL, "SN-2")
    cases.add_repair(back.case_id, "return-to-factory", "RMA 7782", now=T0)
    cases.add_repair(back.case_id, "reactivated", "keys loaded again", now=T0 + H)
    with pytest.raises(CaseNotRepaired):  # back from the factory: it must pass again
        cases.close(back.case_id)
    attached(store, back.case_id, 2, Verdict.PASS, "SN-2")
    assert cases.close(back.case_id).result == "repaired"
    third = cases.open_case("SN-3", "tamper")
    cases.add_repair(third.case_id, "return-to-factory", "RMA 7783")
    assert cases.close(third.case_id, "sent back under warranty").close_reason == "sent back under warranty"


# --------------------------------------------------------------------------- migration


def _schema(url: str) -> dict[str, object]:
    engine = sa.create_engine(parse_url(url))
    try:
        insp = sa.inspect(engine)
        out: dict[str, object] = {}
        for t in ("cases", "case_repairs", "runs"):
            out[t] = (
                {c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(t)},
                sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                       for f in insp.get_foreign_keys(t)),
                sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(t)),
                insp.get_pk_constraint(t)["constrained_columns"],
            )
        return out
    finally:
        engine.dispose()


def test_version_7_migrates_a_version_6_store_with_its_runs(store_url: str) -> None:
    with Store.open(store_url) as store:
        runs = [store_run(store, run_of(n, "SN-1", v)) for n, v in enumerate((Verdict.FAIL, Verdict.PASS))]
    fresh = _schema(store_url)
    to_version_6(parse_url(store_url).render_as_string(hide_password=False))
    assert "case_id" not in str(_schema_runs(store_url))
    with Store.open(store_url) as store:  # migrates
        assert [store.get_run(r.run_id).to_dict() for r in runs] == [r.to_dict() for r in runs]
        cases = CaseStore(store)
        c = cases.open_case("SN-1", "reader")
        cases.attach_run(c.case_id, runs[-1].run_id)
        cases.add_repair(c.case_id, "clean", "contacts cleaned")
        assert cases.close(c.case_id).result == "repaired"
    assert _schema(store_url) == fresh
    versions = raw_rows(store_url, "SELECT version FROM schema_version ORDER BY version")
    assert [v for (v,) in versions] == list(range(1, LATEST + 1)) and LATEST == 9
    assert raw_rows(store_url, "SELECT case_id FROM runs ORDER BY started_at") == [(None,), (1,)]


def _schema_runs(url: str) -> list[str]:
    engine = sa.create_engine(parse_url(url))
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns("runs")]
    finally:
        engine.dispose()


def test_a_case_with_a_run_still_going_does_not_close(store: Store) -> None:
    cases = CaseStore(store)
    c = cases.open_case("SN-1", "reader")
    attached(store, c.case_id, 0, Verdict.PASS)
    going = attached(store, c.case_id, 1, Verdict.RUNNING)
    with pytest.raises(UsageError, match=rf"case C1 has a run still going \({going[:8]}\)"):
        cases.close(c.case_id)
    with pytest.raises(UsageError, match="still going"):
        cases.close(c.case_id, "customer took it back")
    assert cases.get(c.case_id).is_open


def test_free_text_is_a_paragraph_not_a_document(store: Store) -> None:
    cases = CaseStore(store)
    with pytest.raises(UsageError, match=r"^--complaint is 2001 characters; at most 2000$"):
        cases.open_case("SN-1", "x" * 2001)
    c = cases.open_case("SN-1", "x" * 2000)
    with pytest.raises(UsageError, match=r"^--note is 5000 characters"):
        cases.add_repair(c.case_id, "clean", "y" * 5000)
    assert cases.repairs(c.case_id) == []
