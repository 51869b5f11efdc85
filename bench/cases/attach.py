"""``bench run --case``: the run joins its case as it is written, so a killed run is the case's too.

:class:`CaseSink` stands between the runner and the store: the run joins the case as soon as its
row exists, and leaves it again if the unit then reports a serial that is not the case's (the
run stays stored, on its own, and :attr:`CaseSink.note` says why in one line).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.cases.model import Case
from bench.cases.store import CaseStore, RunNotAttached, mismatch
from bench.errors import EquipmentError, UsageError, said
from bench.record import Finding, RunRecord, StepRecord, UnitInfo, Verdict
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)


class CaseSink:
    """The store as the runner's sink, attaching the run to ``case``."""

    def __init__(self, store: StoreBase, case: Case) -> None:
        self.store = store
        self.case = case
        self.attached = False
        self.note: str | None = None  # why the run is not the case's, when it is not

    def start_run(self, run: RunRecord) -> None:
        """Store the run's row, then make it the case's (the unit's serial is checked when it identifies)."""
        self.store.start_run(run)
        self._attach(run.run_id)

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Store the unit; a unit that is not the case's takes the run out of the case."""
        self.store.set_unit(run_id, unit)
        if unit.serial != self.case.serial:
            if self.attached:
                CaseStore(self.store).detach_run(run_id)
                self.attached = False
            self.note = mismatch(self.case, unit.serial, run_id)
        elif self.note is None:
            self._attach(run_id)  # again: the case learns the unit's model

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store the step (committed on return)."""
        self.store.add_step(run_id, step)

    def finish_run(self, run_id: str, verdict: Verdict, ended_at: Any, summary: str = "",
                   findings: Sequence[Finding] = ()) -> None:
        """Store the end of the run."""
        self.store.finish_run(run_id, verdict, ended_at, summary, findings)

    def _attach(self, run_id: str) -> None:
        try:
            CaseStore(self.store).attach_run(self.case.case_id, run_id)
        except (RunNotAttached, UsageError, EquipmentError) as exc:  # the case closed since; the database went
            self.note = N_("run {run} is stored but not attached to case {case}: {why}", run=run_id[:8],
                           case=self.case.label, why=said(exc))
            _LOG.warning("%s", self.note)
            return
        self.attached = True
