"""Before and after: a case's first failing run against its last run, measurement by measurement.

Measurements pair up by step name and measurement name. Each pair says what changed:

* ``fixed``: failed before, passes after;
* ``still failing``: failed before and after;
* ``new failure``: passed before (or was not measured), fails after;
* ``not measured after``: the last run did not measure it (the step did not run, or stopped earlier);
* ``now measured``: not measured before (the run stopped earlier, or skipped the step), passes after;
* ``changed``: passed both times, with another value;
* ``unchanged``: passed both times with the same value (listed, so the table is the whole comparison).

A step that measures nothing in one of the runs (a card that gives no ATR fails its step without a
value) is compared by its outcome too, as a row named :data:`OUTCOME_ROW` (``FAIL`` before,
``PASS`` after: fixed).
Pure functions over run records: nothing here reads the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import Measurement
from bench.record import Outcome, RunRecord, Verdict

_LOG = logging.getLogger(__name__)

FIXED, STILL_FAILING, NEW_FAILURE, GONE, NOW_MEASURED, CHANGED, UNCHANGED = (
    "fixed", "still failing", "new failure", "not measured after", "now measured", "changed", "unchanged")
#: The row of a step that measures nothing: its outcome stands for it.
OUTCOME_ROW = "(outcome)"
_BAD_OUTCOMES = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT)
#: Order of the table: what matters to the technician first.
CHANGE_ORDER = (STILL_FAILING, NEW_FAILURE, FIXED, GONE, NOW_MEASURED, CHANGED, UNCHANGED)


@dataclass(frozen=True)
class MeasurementChange:
    """One measurement of one step, before and after."""

    step: str
    name: str
    before: Any
    after: Any
    unit: str | None
    limit: str | None
    passed_before: bool | None
    passed_after: bool | None
    change: str
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and the reports."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Comparison:
    """The first failing run, the last run, and every measurement of either."""

    before_run: str
    after_run: str
    before_verdict: str
    after_verdict: str
    changes: tuple[MeasurementChange, ...]

    def count(self, change: str) -> int:
        """How many measurements changed this way."""
        return sum(c.change == change for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and the reports."""
        return {"before_run": self.before_run, "after_run": self.after_run, "before_verdict": self.before_verdict,
                "after_verdict": self.after_verdict,
                "counts": {c: self.count(c) for c in CHANGE_ORDER},
                "changes": [c.to_dict() for c in self.changes]}


def first_failing(runs: Sequence[RunRecord]) -> RunRecord | None:
    """The oldest run that failed the unit (FAIL or INCOMPLETE), or None."""
    bad = (Verdict.FAIL, Verdict.INCOMPLETE)
    return next((r for r in sorted(runs, key=lambda r: r.started_at) if r.verdict in bad), None)


def before_after(runs: Sequence[RunRecord]) -> Comparison | None:
    """The first failing run against the last run; None without a failing run followed by another run."""
    ordered = sorted(runs, key=lambda r: r.started_at)
    before = first_failing(ordered)
    if before is None or ordered[-1] is before:
        return None
    return compare(before, ordered[-1])


def compare(before: RunRecord, after: RunRecord) -> Comparison:
    """Every measurement of ``before`` and ``after`` paired by (step, measurement name)."""
    bare = {s.name for run in (before, after) for s in run.steps if not s.measurements}
    old, new = _index(before, bare), _index(after, bare)
    changes: list[MeasurementChange] = []
    for key in [*old, *(k for k in new if k not in old)]:
        b, a = old.get(key), new.get(key)
        ref = a or b
        assert ref is not None  # a key comes from one side at least
        changes.append(MeasurementChange(
            step=key[0], name=key[1], before=b.value if b else None, after=a.value if a else None,
            unit=ref.unit, limit=ref.limit.describe() if ref.limit else None,
            passed_before=b.passed if b else None, passed_after=a.passed if a else None,
            change=_change(b, a), fault=(b.fault if b and not b.passed else None) or (a.fault if a else None)))
    changes.sort(key=lambda c: CHANGE_ORDER.index(c.change))  # stable: plan order within a kind
    return Comparison(before.run_id, after.run_id, before.verdict.value, after.verdict.value, tuple(changes))


def _index(run: RunRecord, bare: set[str]) -> dict[tuple[str, str], Measurement]:
    """(step, measurement) -> measurement; steps in ``bare`` (measuring nothing in one of the runs) by their outcome too."""
    out: dict[tuple[str, str], Measurement] = {}
    for step in run.steps:
        if step.name in bare:
            out.setdefault((step.name, OUTCOME_ROW), Measurement(
                OUTCOME_ROW, step.outcome.value, passed=step.outcome not in _BAD_OUTCOMES, fault=step.fault))
        for m in step.measurements:
            out.setdefault((step.name, m.name), m)
    return out


def _change(b: Measurement | None, a: Measurement | None) -> str:
    failed_before = b is not None and not b.passed
    if a is None:
        return GONE
    if not a.passed:
        return STILL_FAILING if failed_before else NEW_FAILURE
    if failed_before:
        return FIXED
    if b is None:
        return NOW_MEASURED
    return UNCHANGED if b is not None and b.value == a.value else CHANGED


__all__ = ["CHANGED", "CHANGE_ORDER", "FIXED", "GONE", "NEW_FAILURE", "NOW_MEASURED", "OUTCOME_ROW", "STILL_FAILING", "UNCHANGED",
           "Comparison", "MeasurementChange", "before_after", "compare", "first_failing"]
