"""Before and after on real simulated runs: each measurement paired by step and name, and what changed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from caseruns import sim_run

from bench.cases.compare import before_after, compare, first_failing
from bench.record import RunRecord

pytestmark = pytest.mark.slow


def later(run: RunRecord, minutes: int) -> RunRecord:
    return dataclasses.replace(run, run_id=f"{run.run_id}+{minutes}", started_at=run.started_at + timedelta(minutes=minutes))


def changes(before: RunRecord, after: RunRecord) -> dict[tuple[str, str], str]:
    return {(c.step, c.name): c.change for c in compare(before, after).changes}


def test_a_new_battery_fixes_the_charge_and_the_rest_is_unchanged() -> None:
    bad, good = sim_run("pos-quick", "battery-low"), later(sim_run("pos-quick"), 5)
    cmp = before_after([good, bad])  # any order: the oldest failing run against the newest run
    assert cmp is not None and (cmp.before_run, cmp.after_run) == (bad.run_id, good.run_id)
    fixed = [c for c in cmp.changes if c.change == "fixed"]
    assert [(c.step, c.name, c.before, c.after, c.passed_before, c.passed_after) for c in fixed] == [
        ("battery", "charge_percent", 8, 87, False, True)]
    assert fixed[0].limit == "20 ≤ x ≤ 100 %" and fixed[0].fault == "PWR-BATT-LOW"
    assert cmp.changes[0] is fixed[0]  # what changed comes first
    assert changes(bad, good)[("battery", "voltage")] == "changed"
    assert changes(bad, good)[("identify", "serial")] == "unchanged"
    assert cmp.to_dict()["counts"]["fixed"] == 1


def test_still_failing_new_failure_and_not_measured_after() -> None:
    bad = sim_run("pos-quick", "battery-low")
    worse = later(sim_run("pos-quick", "battery-low-old-firmware"), 5)
    got = changes(bad, worse)
    assert got[("battery", "charge_percent")] == "still failing"
    assert got[("firmware", "firmware_current")] == "new failure"
    cut = dataclasses.replace(worse, steps=[s for s in worse.steps if s.name != "battery"])
    assert changes(bad, cut)[("battery", "charge_percent")] == "not measured after"


def test_nothing_to_compare_without_a_failing_run_followed_by_another() -> None:
    bad, good = sim_run("pos-quick", "battery-low"), sim_run("pos-quick")
    assert before_after([good]) is None and before_after([bad]) is None and first_failing([good]) is None


def test_a_step_that_measured_nothing_is_compared_by_its_outcome() -> None:
    bad, good = sim_run("pos-full", "card-reader-no-atr"), later(sim_run("pos-full"), 5)
    cmp = compare(bad, good)
    fixed = [(c.step, c.name, c.before, c.after, c.fault) for c in cmp.changes if c.change == "fixed"]
    assert fixed == [("card-atr", "(outcome)", "FAIL", "PASS", "ICC-NO-ATR")]
    assert changes(bad, good)[("card-atr", "atr.valid")] == "now measured"  # no ATR before: nothing to judge
    assert ("card-atr", "(outcome)") not in changes(good, later(good, 1))  # measured both times: by its values
