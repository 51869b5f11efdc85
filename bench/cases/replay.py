"""What a replayed case came to, compared with what its scenario expects.

The judgement is taken *after the failing runs*: over the case's runs up to and including its
last run that did not pass (all of them when none failed), because the verification runs that
follow the repair resolve every finding and the verdict of the whole case is then ``none``.
The plan is :func:`bench.cases.plan.plan_repair` on that judgement; its first action's kind is
what ``expect.first_action`` names (``none`` when the plan has nothing to do).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.cases.catalogue import Catalogue
from bench.cases.evidence import CaseEvidence
from bench.cases.judgement import Judgement, judge
from bench.cases.model import Case
from bench.cases.plan import RepairPlan, plan_repair
from bench.cases.scenario import NO_ACTION, CaseExpect
from bench.record import RunRecord, Verdict
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayOutcome:
    """The replayed case: its judgement and plan after the failing runs, its final state, the mismatches."""

    judgement: Judgement
    plan: RepairPlan
    first_action: str
    result: str
    mismatches: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"verdict": self.judgement.verdict, "summary": self.judgement.summary,
                "first_action": self.first_action, "result": self.result, "mismatches": list(self.mismatches),
                "judged_runs": list(self.judgement.runs)}


def failing_runs(runs: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs up to and including the last one that did not pass, oldest first (all when none failed)."""
    ordered = sorted(runs, key=lambda r: r.started_at)
    last = max((i for i, r in enumerate(ordered) if r.verdict != Verdict.PASS), default=len(ordered) - 1)
    return ordered[: last + 1]


def compare(case: Case, runs: Sequence[RunRecord], expect: CaseExpect, catalogue: Catalogue,
            close_error: str | None = None) -> ReplayOutcome:
    """Judge and plan the case's failing runs and compare them and the case's state with ``expect``.

    ``close_error`` is why the case could not close (it is then still open).
    """
    judged = judge(CaseEvidence(failing_runs(runs), serial=case.serial, model=case.model or "",
                                complaint=case.complaint))
    plan = plan_repair(judged, case.model or judged.model, catalogue)
    first = plan.first.kind if plan.first is not None else NO_ACTION
    result = case.result or case.status
    mismatches: list[str] = []
    if judged.verdict != expect.verdict:
        mismatches.append(N_("verdict: expected {expected}, got {got} ({summary})", expected=expect.verdict,
                             got=judged.verdict, summary=judged.summary))
    if first != expect.first_action:
        got = N_("{kind} ({what})", kind=first, what=plan.first.what) if plan.first is not None else first
        mismatches.append(N_("first_action: expected {expected}, got {got}", expected=expect.first_action, got=got))
    if result != expect.result:
        why = close_error or case.close_reason
        got = N_("{result} ({why})", result=result, why=why) if why else result
        mismatches.append(N_("result: expected {expected}, got {got}", expected=expect.result, got=got))
    return ReplayOutcome(judged, plan, first, result, tuple(mismatches))
