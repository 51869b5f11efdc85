"""A case weighed whole: its judgement and its repair plan, as ``bench case show`` and the case report give them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.cases.evidence import CaseEvidence
from bench.cases.judgement import Judgement, judge
from bench.cases.plan import RepairPlan, plan_repair

if TYPE_CHECKING:
    from bench.cases.catalogue import Catalogue
    from bench.cases.model import Case
    from bench.record import RunRecord


def assess(case: Case, runs: Sequence[RunRecord], catalogue: Catalogue | None = None) -> tuple[Judgement, RepairPlan]:
    """``judge`` the case's runs, then ``plan_repair`` for its model (the case's, else the one its runs reported).

    Args:
        case: the case (serial, model, complaint).
        runs: its runs, any order.
        catalogue: the parts catalogue (default: :func:`bench.cases.catalogue.load_catalogue`).
    """
    if catalogue is None:
        from bench.cases.catalogue import load_catalogue

        catalogue = load_catalogue()
    judgement = judge(CaseEvidence(list(runs), case.serial, case.model or "", case.complaint))
    return judgement, plan_repair(judgement, case.model or judgement.model, catalogue)


__all__ = ["assess"]
