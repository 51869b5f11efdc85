"""The case judgement on real simulated runs: log codes name parts, kinds and severities rank, later passes resolve."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from caseruns import intake_scenario, sim_run

from bench.cases.evidence import LOG_FAULTS, CaseEvidence, log_codes
from bench.cases.judgement import VERDICTS, judge
from bench.faults import FAULTS
from bench.record import Outcome, RunRecord, Verdict
from drivers.codecs import unitcodes

pytestmark = pytest.mark.slow


def later(run: RunRecord, minutes: int, run_id: str | None = None) -> RunRecord:
    """The same record as a run ``minutes`` later (a second run of the same scenario)."""
    return dataclasses.replace(run, run_id=run_id or f"{run.run_id}+{minutes}",
                               started_at=run.started_at + timedelta(minutes=minutes))


def test_every_decoded_log_code_maps_to_a_fault_of_the_table_or_to_none() -> None:
    assert set(LOG_FAULTS) == set(unitcodes.EVENTS)
    assert all(code is None or code in FAULTS for code in LOG_FAULTS.values())
    assert LOG_FAULTS[0x0201] == "ICC-NO-ATR" and FAULTS["FW-CRASH"].category.value == "software"


def test_a_card_reader_without_atr_is_a_hardware_fault_of_the_card_reader() -> None:
    run = sim_run("pos-full", "card-reader-no-atr")
    j = judge(CaseEvidence([run]))
    assert j.verdict == "hardware" and j.serial == run.unit.serial and j.model == "PT-300"  # type: ignore[union-attr]
    first = j.findings[0]
    assert (first.fault, first.kind, first.severity, first.in_unit) == ("ICC-NO-ATR", "hardware", 2, True)
    assert "card reader" in first.part and first.runs == [run.run_id] and "step card-atr" in first.sources
    assert j.summary.startswith("hardware: card reader: no ATR")


def test_decoded_log_entries_point_at_parts_and_software() -> None:
    run = sim_run("pos-full", "log-errors")
    step = next(s for s in run.steps if s.check == "unit.event_log")
    assert log_codes(step) == [0x0002, 0x0201]
    j = judge(CaseEvidence([run]))
    assert j.verdict == "both"
    by_code = {f.fault: f for f in j.findings}
    assert "LOG-ERRORS" not in by_code  # every entry named its fault
    assert by_code["ICC-NO-ATR"].log_codes == ["E0201"] and by_code["ICC-NO-ATR"].kind == "hardware"
    assert by_code["FW-CRASH"].log_codes == ["E0002"] and by_code["FW-CRASH"].kind == "software"
    assert [f.fault for f in j.findings] == ["ICC-NO-ATR", "FW-CRASH"]  # hardware ranks above software


def test_an_unknown_log_code_keeps_the_generic_finding() -> None:
    run = sim_run("pos-full", "log-errors")
    steps = [dataclasses.replace(s, log=[*s.log, "2026-12-07 01:00 E0A7F firmware: unknown event 0x7f"])
             if s.check == "unit.event_log" else s for s in run.steps]
    j = judge(CaseEvidence([dataclasses.replace(run, steps=steps)]))
    assert {"ICC-NO-ATR", "FW-CRASH", "LOG-ERRORS"} <= {f.fault for f in j.findings}


def with_step(run: RunRecord, donor: RunRecord, name: str) -> RunRecord:
    """``run`` with its step ``name`` as ``donor`` ran it: a unit with both runs' faults."""
    step = next(s for s in donor.steps if s.name == name)
    return dataclasses.replace(run, steps=[step if s.name == name else s for s in run.steps])


def test_tamper_is_security_and_ranks_first() -> None:
    old = sim_run("pos-full", "firmware-old")
    both = with_step(sim_run("pos-full", "tampered"), old, "firmware")
    j = judge(CaseEvidence([later(both, 0), later(both, 5)]))
    assert [(f.fault, f.severity) for f in j.findings] == [("SEC-TAMPER", 1), ("FW-OUTDATED", 3)]
    assert j.verdict == "both" and len(j.findings[1].runs) == 2
    assert [f.fault for f in j.factory] == ["SEC-TAMPER"]


def test_a_fault_seen_in_more_runs_ranks_higher_within_its_kind() -> None:
    logs = sim_run("pos-full", "log-errors")
    both = with_step(logs, sim_run("pos-full", "firmware-old"), "firmware")
    j = judge(CaseEvidence([later(both, 0), later(both, 5)]))
    assert [f.fault for f in j.findings] == ["ICC-NO-ATR", "FW-OUTDATED", "FW-CRASH"]  # software: first seen first
    no_firmware_step = dataclasses.replace(logs, steps=[s for s in logs.steps if s.name != "firmware"])
    j = judge(CaseEvidence([later(both, 0), later(no_firmware_step, 5)]))
    assert [(f.fault, len(f.runs)) for f in j.findings] == [("ICC-NO-ATR", 2), ("FW-CRASH", 2), ("FW-OUTDATED", 1)]
    assert not any(f.resolved for f in j.findings)  # the later run did not test the firmware


def test_a_fault_gone_in_a_later_passing_run_is_resolved() -> None:
    bad, good = sim_run("pos-full", "card-reader-no-atr"), sim_run("pos-full", "good")
    j = judge(CaseEvidence([later(good, 10, "after"), later(bad, 0, "before")]))  # given in any order
    assert j.runs == ["before", "after"]
    f = j.finding("ICC-NO-ATR")
    assert f is not None and f.resolved and f.resolved_by == "after"
    assert j.verdict == "none" and j.open == [] and "(1 resolved)" in j.summary
    again = judge(CaseEvidence([later(bad, 0, "a"), later(good, 10, "b"), later(bad, 20, "c")]))
    assert again.verdict == "hardware" and not again.findings[0].resolved  # it came back


def test_a_later_run_that_did_not_test_the_step_resolves_nothing() -> None:
    bad = sim_run("pos-full", "card-reader-no-atr")
    intake = sim_run("intake")
    assert intake.verdict == Verdict.PASS
    j = judge(CaseEvidence([later(bad, 0), later(intake, 10)]))
    assert j.verdict == "hardware" and not j.findings[0].resolved


def test_intake_damage_joins_the_bench_findings() -> None:
    cracked = sim_run("intake", intake_scenario("cracked", ["Is the screen free of cracks?",
                                                            "Are the tamper-evident seals intact?"]))
    assert cracked.unit is None  # intake asks a person; the unit's identity comes from the bench runs
    j = judge(CaseEvidence([later(cracked, 0), later(sim_run("pos-full", "firmware-old"), 10)]))
    assert [f.fault for f in j.findings] == ["SEC-SEALS", "DSP-CRACKED", "FW-OUTDATED"]
    assert j.finding("DSP-CRACKED").sources == ["intake screen"]  # type: ignore[union-attr]
    assert j.verdict == "both" and j.serial == "PT3-000123"


def test_an_unanswered_intake_is_not_a_fault_of_the_unit_but_leaves_it_untested() -> None:
    absent = sim_run("intake", intake_scenario("absent", [], present=False))
    j = judge(CaseEvidence([absent]))
    assert j.verdict == "none" and j.open == []
    assert [(f.fault, f.kind, f.in_unit) for f in j.findings] == [("OP-NO-RESPONSE", "operator", False)]
    assert j.summary == "none: no fault left in the unit over 1 run(s); not all tested: no operator response"
    answered = judge(CaseEvidence([later(absent, 0), later(sim_run("intake"), 5)]))
    assert answered.findings[0].resolved and answered.summary == "none: no fault left in the unit over 2 run(s)"


def test_a_fault_of_the_bench_is_told_from_a_fault_of_the_unit() -> None:
    good = sim_run("pos-full", "good")
    steps = [dataclasses.replace(s, outcome=Outcome.ERROR, fault="ICC-NO-READER", measurements=[])
             if s.name == "card-reader" else s for s in good.steps]
    broken = dataclasses.replace(good, steps=steps, verdict=Verdict.ERROR, run_id="bench-broke")
    j = judge(CaseEvidence([broken]))
    assert j.verdict == "bench" and j.open == []
    f = j.findings[0]
    assert (f.fault, f.kind, f.in_unit, f.severity) == ("ICC-NO-READER", "bench", False, 4)
    assert j.summary.startswith("bench: no card reader found")
    assert judge(CaseEvidence([broken, later(good, 10)])).verdict == "none"


def test_no_runs_and_every_verdict_is_a_known_word() -> None:
    j = judge(CaseEvidence([]))
    assert (j.verdict, j.findings, j.summary) == ("none", [], "none: no runs yet")
    assert set(VERDICTS) == {"hardware", "software", "both", "consumable", "configuration", "none", "bench"}
    assert j.to_dict()["verdict"] == "none"
