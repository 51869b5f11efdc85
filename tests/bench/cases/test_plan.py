"""The repair plan: consumables first, reseat and clean before replace, software before hardware, the factory form."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from caseruns import sim_run

from bench.cases.catalogue import Catalogue, load_catalogue, parse_catalogue
from bench.cases.evidence import CaseEvidence
from bench.cases.judgement import Judgement, judge, new_finding
from bench.cases.plan import KIND_ORDER, plan_repair

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "testplans" / "parts" / "catalogue.yaml")


def judged(*codes: str, serial: str = "PT3-000123") -> Judgement:
    """A judgement with these open findings, ranked as given."""
    return Judgement("hardware", [new_finding(c) for c in codes], serial=serial, model="PT-300")


def kinds(plan: object) -> list[tuple[str, str | None, bool]]:
    return [(a.kind, a.part_number, a.conditional) for a in plan.actions]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_card_reader_without_atr_is_reseated_then_cleaned_before_it_is_replaced(catalogue: Catalogue) -> None:
    j = judge(CaseEvidence([sim_run("pos-full", "card-reader-no-atr")]))
    plan = plan_repair(j, "PT-300", catalogue)
    assert kinds(plan) == [("reseat", None, False), ("clean", None, True), ("replace", "PT3-ICC-03", True)]
    assert plan.first is not None and plan.first.faults == ("ICC-NO-ATR",)
    assert [(p.number, p.price) for p in plan.parts] == [("PT3-ICC-03", 38.5)]
    assert (plan.labour_minutes, plan.parts_cost, plan.total_cost) == (40, 38.5, 70.5)  # 40 min at 48 EUR/h
    assert (plan.first_pass_minutes, plan.first_pass_cost) == (10, 8.0)  # only the reseat, if that fixes it
    assert plan.return_to_factory is None and plan.currency == "EUR"
    other = plan_repair(j, "PT-500", catalogue)
    assert [p.number for p in other.parts] == ["PT5-ICC-03"]  # the part that fits the model


@pytest.mark.slow
def test_software_comes_before_hardware_where_the_log_allows(catalogue: Catalogue) -> None:
    j = judge(CaseEvidence([sim_run("pos-full", "log-errors")]))
    plan = plan_repair(j, "PT-300", catalogue)
    order = [a.kind for a in plan.actions]
    assert order == ["reseat", "clean", "reflash", "replace", "replace"]
    reflash = plan.actions[2]
    assert reflash.faults == ("FW-CRASH",) and not reflash.conditional
    board = next(a for a in plan.actions if a.part_number == "PT3-MB-01")
    assert board.conditional and board.order > reflash.order  # the main board only if reflashing did not help


@pytest.mark.slow
def test_a_tampered_unit_goes_back_to_the_factory_with_its_form(catalogue: Catalogue) -> None:
    old = sim_run("pos-full", "firmware-old")
    tampered = sim_run("pos-full", "tampered")
    both = dataclasses.replace(tampered, steps=[next(s for s in old.steps if s.name == "firmware")
                                                if s.name == "firmware" else s for s in tampered.steps])
    j = judge(CaseEvidence([both]))
    plan = plan_repair(j, "PT-300", catalogue)
    assert kinds(plan) == [("return-to-factory", None, False)] and plan.parts == ()
    assert plan.deferred == ("FW-OUTDATED",)  # not opened on the bench meanwhile
    form = plan.return_to_factory
    assert form is not None and (form.model, form.serial) == ("PT-300", "PT3-000123")
    assert form.faults == ("SEC-TAMPER",) and "tamper detected" in form.reason
    assert any(both.run_id in line and "step tamper" in line for line in form.evidence)
    text = json.dumps(plan.to_dict())
    assert not re.search(r"\d{13,19}", text)  # no card number, not even masked digits runs


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "verdict", "first_fault", "first_action"), [
    ("battery-low", "consumable", "PWR-BATT-LOW", "charge-battery"),
    ("network-slow", "configuration", "NET-SLOW", "configure-terminal"),
    ("battery-low-old-firmware", "software", "FW-OUTDATED", "charge-battery"),  # consumables first all the same
    ("post-secure-element", "hardware", "UNIT-POST-SE", "return-to-factory"),
    ("unit-stops-answering", "hardware", "LINK-NO-RESPONSE", "reseat-serial"),
])
def test_each_scenario_gets_its_verdict_and_first_action(scenario: str, verdict: str, first_fault: str,
                                                         first_action: str, catalogue: Catalogue) -> None:
    j = judge(CaseEvidence([sim_run("pos-full", scenario)], complaint="it keeps failing"))
    assert (j.verdict, j.findings[0].fault) == (verdict, first_fault), j.summary
    plan = plan_repair(j, j.model or "PT-300", catalogue)
    assert plan.first is not None and plan.first.action_id == first_action
    assert (plan.return_to_factory is not None) == (first_action == "return-to-factory")


def test_a_complaint_no_test_reproduces_is_said_so() -> None:
    j = judge(CaseEvidence([sim_run("intake")], complaint="the screen flickers"))
    assert j.verdict == "none" and j.complaint == "the screen flickers"
    assert j.summary.endswith("; the complaint was not reproduced: the screen flickers")
    assert plan_repair(j, "PT-300", load_catalogue(ROOT / "testplans" / "parts" / "catalogue.yaml")).first is None


def test_a_failed_secure_element_goes_back_to_the_factory(catalogue: Catalogue) -> None:
    plan = plan_repair(judged("ICC-NO-ATR", "UNIT-POST-SE"), "PT-300", catalogue)
    assert plan.first is not None and plan.first.kind == "return-to-factory"
    assert plan.return_to_factory is not None and plan.return_to_factory.faults == ("UNIT-POST-SE",)
    assert plan.deferred == ("ICC-NO-ATR",) and plan.labour_minutes == 20


def test_consumables_come_first(catalogue: Catalogue) -> None:
    plan = plan_repair(judged("ICC-NO-ATR", "PWR-BATT-LOW", "PRN-PAPER-END"), "PT-300", catalogue)
    assert [a.action_id or a.part_number for a in plan.actions] == [
        "charge-battery", "replace-paper", "PT3-BAT-15",  # consumables: charge, load paper, then a new battery
        "reseat-card-reader", "clean-card-contacts", "PT3-ICC-03"]
    assert plan.actions[2].conditional and not plan.actions[1].conditional


def test_a_unit_the_bench_cannot_talk_to_gets_its_link_repaired_before_its_software(catalogue: Catalogue) -> None:
    plan = plan_repair(judged("FW-OUTDATED", "LINK-GARBAGE"), "PT-300", catalogue)
    assert [a.action_id or a.part_number for a in plan.actions] == ["reseat-serial", "PTX-CBL-21", "update-firmware"]
    assert [a.conditional for a in plan.actions] == [False, True, False]
    alone = plan_repair(judged("FW-OUTDATED", "KEY-DEAD"), "PT-300", catalogue)
    assert [a.kind for a in alone.actions] == ["reseat", "update", "replace"]  # otherwise software first


def test_one_action_serves_every_fault_it_repairs(catalogue: Catalogue) -> None:
    plan = plan_repair(judged("ICC-NO-ATR", "TXN-CARD-READ"), "PT-300", catalogue)
    reseats = [a for a in plan.actions if a.action_id == "reseat-card-reader"]
    assert len(reseats) == 1 and reseats[0].faults == ("ICC-NO-ATR", "TXN-CARD-READ")
    assert [p.number for p in plan.parts] == ["PT3-ICC-03"]


def test_kinds_follow_the_order_rules_for_every_fault(catalogue: Catalogue) -> None:
    from bench.faults import FAULTS

    for code, fault in FAULTS.items():
        if not fault.in_unit:
            continue
        plan = plan_repair(judged(code), "PT-300", catalogue)
        ranks = [KIND_ORDER.index(a.kind) for a in plan.actions]
        assert ranks == sorted(ranks), code
        assert plan.actions and not plan.actions[0].conditional, code
        assert all(a.conditional for a in plan.actions[1:]), code


def test_nothing_open_plans_nothing_and_unknown_work_is_listed(catalogue: Catalogue) -> None:
    j = judged("ICC-NO-ATR")
    j.findings[0].resolved = True
    empty = plan_repair(j, "PT-300", catalogue)
    assert (empty.actions, empty.parts, empty.total_cost, empty.first) == ((), (), 0.0, None)
    small = parse_catalogue("catalogue: t\nlabour_rate: 30\nmodels: [PT-300]\nactions:\n"
                            "  - {id: clean, kind: clean, name: clean it, minutes: 6, repairs: [ICC-NO-ATR]}\n")
    plan = plan_repair(judged("ICC-NO-ATR", "DSP-CRACKED"), "PT-300", small)
    assert plan.unplanned == ("DSP-CRACKED",) and [a.action_id for a in plan.actions] == ["clean"]
    assert plan.labour_cost == 3.0


def test_planning_changes_nothing_in_the_judgement(catalogue: Catalogue) -> None:
    j = judged("FW-OUTDATED", "KEY-DEAD")
    before = json.dumps(j.to_dict())
    first = plan_repair(j, "PT-300", catalogue)
    assert json.dumps(j.to_dict()) == before and plan_repair(j, "PT-300", catalogue) == first
    assert [a.kind for a in first.actions] == ["reseat", "update", "replace"]
