"""Diagnosis: failed steps grouped into findings, skips as consequences, tamper first; linear in the steps."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.diagnosis import diagnose
from bench.measure import Measurement
from bench.record import Outcome, StepRecord

_T0 = datetime(2026, 12, 6, tzinfo=UTC)


def _step(i: int, name: str, outcome: Outcome = Outcome.FAIL, fault: str | None = None,
          measured: tuple[str, ...] = ()) -> StepRecord:
    measurements = [Measurement(name=f"m{j}", value=0, passed=False, fault=code) for j, code in enumerate(measured)]
    return StepRecord(i, name, "x.check", outcome, _T0, 0.0, 1, fault, "", measurements)


def test_findings_group_by_code_in_plan_order_unit_first_with_consequences() -> None:
    steps = [
        _step(0, "identify", Outcome.PASS),
        _step(1, "bench", Outcome.ERROR, "BENCH-ERROR"),
        _step(2, "battery", fault="PWR-BATT-LOW", measured=("PWR-BATT-LOW", "PWR-BATT-DEAD")),
        _step(3, "battery-again", fault="PWR-BATT-LOW"),
        _step(4, "post", fault="UNIT-POST-RAM"),
        _step(5, "printer", Outcome.SKIP),
        _step(6, "receipt", Outcome.SKIP),
    ]
    skipped = {"printer": "battery", "receipt": "printer"}
    found = diagnose(steps, skipped, {"UNIT-POST-RAM": "send to depot"})
    assert [(f.fault, f.steps, f.consequences) for f in found] == [
        ("UNIT-POST-RAM", ["post"], []),
        ("PWR-BATT-LOW", ["battery", "battery-again"], ["printer", "receipt"]),
        ("PWR-BATT-DEAD", ["battery"], []),
        ("BENCH-ERROR", ["bench"], []),
    ]
    assert found[0].action == "send to depot"


def test_tamper_takes_the_steps_of_every_other_finding_as_consequences_once() -> None:
    steps = [_step(0, "battery", fault="PWR-BATT-LOW"), _step(1, "tamper", fault="SEC-TAMPER"),
             _step(2, "both", measured=("PWR-BATT-LOW", "SEC-TAMPER")), _step(3, "later", Outcome.SKIP)]
    found = diagnose(steps, {"later": "battery"})
    assert [(f.fault, f.steps, f.consequences) for f in found] == [
        ("SEC-TAMPER", ["tamper", "both"], ["battery", "both", "later"]),
    ]


class _Name(str):
    """A step name that counts the hash and equality tests made on it (what a scan of a list costs)."""

    ops = 0

    def __eq__(self, other: object) -> bool:
        _Name.ops += 1
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        _Name.ops += 1
        return str.__hash__(self)


def test_work_grows_linearly_with_the_steps_of_one_fault_and_a_chain_of_skips() -> None:
    # Timing-free: a list scan per step costs n^2/2 comparisons (2 million at n = 2,000);
    # linear work is a few dozen hash lookups per step.
    n = 2000
    failed = [_step(i, _Name(f"s{i}"), fault="PWR-BATT-LOW") for i in range(n)]
    chain = {_Name(f"k{i}"): _Name(f"k{i - 1}") if i else failed[0].name for i in range(n)}
    _Name.ops = 0
    found = diagnose([*failed, _step(n, _Name("t"), fault="SEC-TAMPER")], chain)
    assert _Name.ops < 50 * n
    assert found[0].fault == "SEC-TAMPER"
    assert found[0].consequences == [f"s{i}" for i in range(n)] + [f"k{i}" for i in range(n)]
