"""A YAML test plan collected as pytest items: one item per step (per slot on a multi-up bench).

A ``.yaml``/``.yml`` file is a plan when it was named on the command line or matches a glob of
the ``bench_plans`` ini setting (relative to the rootdir); no other YAML is ever collected. A
plan that does not load is one collection error, its one line.

The steps run through :class:`bench.runner.Runner`, as ``bench run`` runs them (requires, models,
prompts, timeouts, retries), on a thread started when the plan's first item runs, with the plan
cut down to the steps still selected after ``-k``/``-m`` (a step that requires a deselected one
is skipped, "requires X (not run)"). The runner is held between steps until the next step's
item runs, so a step never runs beside another test on the same devices, and a session that
stops early (``-x``, Ctrl-C) leaves no step stored that no item asked for. Each step's record is
stored in its slot's run record by the runner's sink as it ends, once: plan items never set the
``STEP`` stash key, so the plugin's report hook does not store them again.

Outcomes: PASS passes; FAIL and TIMEOUT fail the item (``FAULT-CODE: message``, then the
measurements); ERROR is an error at setup; SKIP skips with the runner's reason.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.errors import BenchError, DeviceError, Interrupted, said
from bench.plan import Plan, Step, load_plan
from bench.pytestplugin.fixtures import NO_BENCH, SESSION
from bench.pytestplugin.measure import _property
from bench.pytestplugin.session import BenchSession, SlotBench
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict, utcnow
from drivers.codecs.pan import redact
from drivers.i18n import N_, _, tr

_LOG = logging.getLogger(__name__)

#: The fault of a step skipped because a step it requires was deselected (as a skipped test's).
NOT_TESTED = "TEST-SKIPPED"
#: How long the end of the session waits for a plan's runner to stop once aborted.
STOP_WAIT = 30.0

_WANTED = pytest.StashKey[frozenset[Path]]()
_RUNS = pytest.StashKey[list["PlanRun"]]()


def collect_plan(file_path: Path, parent: pytest.Collector) -> PlanFile | None:
    """The plan collector for ``file_path`` when it is a plan this session collects, else None."""
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if file_path.resolve() not in _wanted(parent.config):
        return None
    return PlanFile.from_parent(parent, path=file_path)


def _wanted(config: pytest.Config) -> frozenset[Path]:
    """The YAML files named on the command line and those the ``bench_plans`` globs match (resolved)."""
    found = config.stash.get(_WANTED, None)
    if found is not None:
        return found
    here = config.invocation_params.dir
    paths = {(here / str(arg).split("::")[0]).resolve() for arg in config.args}
    for pattern in config.getini("bench_plans"):
        for match in glob.glob(os.path.join(config.rootpath, pattern), recursive=True):
            paths.add(Path(match).resolve())
    wanted = config.stash[_WANTED] = frozenset(p for p in paths if p.suffix in (".yaml", ".yml"))
    return wanted


def finish(config: pytest.Config) -> None:
    """End of the session: stop every plan runner still going (before the bench is torn down)."""
    for run in config.stash.get(_RUNS, []):
        run.stop(STOP_WAIT)


class PlanFile(pytest.File):
    """A YAML plan: its steps as items."""

    plan: Plan
    runs: dict[int, PlanRun]

    def collect(self) -> Iterator[PlanItem]:
        """One item per step, per slot on a multi-up bench (``identify[slot2]``)."""
        self.plan = load_plan(Path(os.path.relpath(self.path, self.config.invocation_params.dir)))
        self.runs = {}
        session = self.config.stash.get(SESSION, None)
        slots = session.slot_numbers if session is not None else [1]
        multi = session is not None and session.multi
        for step in self.plan.steps:
            for number in slots:
                name = f"{step.name}[slot{number}]" if multi else step.name
                yield PlanItem.from_parent(self, name=name, step=step, slot=number)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        """A plan that does not load: its error's one line (file, line, field), not a traceback."""
        if isinstance(excinfo.value, BenchError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def run_for(self, item: PlanItem, session: BenchSession) -> PlanRun:
        """The run of this plan on the item's slot, made when its first item runs."""
        run = self.runs.get(item.slot)
        if run is None:
            slot = session.slot(item.slot)
            selected = {i.step.name for i in item.session.items
                        if isinstance(i, PlanItem) and i.parent is self and i.slot == item.slot}
            steps = tuple(s for s in self.plan.steps if s.name in selected)
            run = self.runs[item.slot] = PlanRun(dataclasses.replace(self.plan, steps=steps), slot, session)
            self.config.stash.setdefault(_RUNS, []).append(run)
        return run


class PlanStepFailed(AssertionError):
    """A plan step that FAILed or timed out: ``FAULT-CODE: message`` and its measurements."""

    def __init__(self, record: StepRecord) -> None:
        super().__init__(_headline(record))
        self.record = record
        self.fault_code = record.fault

    def describe(self) -> str:
        """The headline, then the measurements and the step's log."""
        return _describe(self.record)


class PlanItem(pytest.Item):
    """One step of a plan on one slot.

    Attributes:
        step: the plan's step.
        slot: the slot number it runs on.
        bench_roles: the roles its check uses (the bench starts them).
        record: the step's record once it ran.
    """

    def __init__(self, *, step: Step, slot: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.slot = slot
        self.bench_roles = frozenset(step.check.devices)
        self.record: StepRecord | None = None

    def setup(self) -> None:
        """Run the step (or wait for it); an ERROR is an error here, a SKIP a skip."""
        session = self.config.stash.get(SESSION, None)
        if session is None:
            raise pytest.skip.Exception(tr(NO_BENCH), _use_item_location=True)
        parent = self.parent
        assert isinstance(parent, PlanFile)
        try:
            run = parent.run_for(self, session)
        except BenchError as exc:  # the bench or the store did not start
            pytest.fail(tr(exc), pytrace=False)
        rec = self.record = run.result(self.step)
        for m in rec.measurements:
            self.user_properties.append((f"bench.{m.name}", _property(m)))
        if run.not_stored.get(self.step.name):
            self.add_report_section("setup", "bench", _("this step was not stored: {why}").format(
                why=tr(run.not_stored[self.step.name])))
        if rec.outcome == Outcome.SKIP:  # shown at the step's line in the plan, not in this module
            raise pytest.skip.Exception(tr(rec.message), _use_item_location=True)
        if rec.outcome == Outcome.ERROR:
            pytest.fail(_describe(rec), pytrace=False)

    def runtest(self) -> None:
        """FAIL and TIMEOUT fail the test."""
        rec = self.record
        if rec is not None and rec.outcome in (Outcome.FAIL, Outcome.TIMEOUT):
            raise PlanStepFailed(rec)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A failed step as the bench says it, not a traceback into the plugin."""
        if isinstance(excinfo.value, PlanStepFailed):
            return excinfo.value.describe()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the step is: the plan file, the step's line."""
        where = f"{self.step.name} ({self.step.check.name})"
        return self.path, (self.step.line - 1 if self.step.line else None), where


def _headline(rec: StepRecord) -> str:
    return redact(f"{rec.fault}: {tr(rec.message)}" if rec.fault else tr(rec.message) or rec.outcome.value)


def _describe(rec: StepRecord) -> str:
    """``FAULT-CODE: message``, each measurement against its limit, then the step's log."""
    lines = [_headline(rec)]
    lines.extend(f"  {m.name} = {_property(m)}" for m in rec.measurements)
    if rec.log:
        lines.append("log:")
        lines.extend(f"  {line}" for line in rec.log)
    return redact("\n".join(lines))


class PlanRun:
    """A plan's run on one slot: the runner on its thread, its step records, and the gate between steps.

    Args:
        plan: the plan cut down to the selected steps.
        slot: the slot it runs on (its devices, operator and run record).
        session: the session's bench (station name, scenario).
    """

    def __init__(self, plan: Plan, slot: SlotBench, session: BenchSession) -> None:
        from bench.runner import Runner

        self.plan = plan
        self.slot = slot
        self._order = {step.name: i for i, step in enumerate(plan.steps)}
        self._cond = threading.Condition()
        self._records: dict[str, StepRecord] = {}
        self.not_stored: dict[str, str] = {}
        self._released = -1  # the runner may start steps up to this position
        self._aborted = False
        self._ended = False
        self._error: BaseException | None = None
        self._asked: set[str] = set()
        self.runner = Runner(plan, slot.devices, slot.operator, _SlotSink(self), station=session.station_name,
                             listener=_Gate(self),
                             scenario=session.scenario.name if session.scenario is not None else None)
        self._thread = threading.Thread(target=self._run, name=f"bench-plan-{plan.name}", daemon=True)
        self._thread.start()

    def result(self, step: Step) -> StepRecord:
        """``step``'s record, once the runner recorded it; the steps before it run first.

        When the run ended without it (the unit unreachable, the plan not for this unit), the
        record says that error, and is stored for this step. Ctrl-C meanwhile aborts the run.
        """
        with self._cond:
            self._released = max(self._released, self._order[step.name])
            self._asked.add(step.name)
            self._cond.notify_all()
        try:
            with self._cond:
                while step.name not in self._records and not self._ended:
                    self._cond.wait(0.5)
            rec = self._records.get(step.name) or self._ended_without(step)
            if self._order.keys() <= self._asked:  # every selected step's item ran: let the runner end
                self._join(None)
        except KeyboardInterrupt:
            self.stop(STOP_WAIT)
            raise
        return rec

    def _ended_without(self, step: Step) -> StepRecord:
        err = self._error
        if isinstance(err, Interrupted):
            pytest.fail(_("not run: the plan's run was {why}").format(why=tr(err)), pytrace=False)
        if isinstance(err, BenchError):
            outcome = Outcome.FAIL if isinstance(err, DeviceError) else Outcome.ERROR
            fault = err.fault_code or ("UNIT-FAULT" if outcome == Outcome.FAIL else "BENCH-ERROR")
            message = said(err)
        else:
            outcome, fault = Outcome.ERROR, "BENCH-ERROR"
            message = N_("the plan's run ended before this step: {why}", why=said(err) if err else N_("no record"))
        rec = StepRecord(0, step.name, step.check.name, outcome, utcnow(), 0.0, 0, fault, message)
        self._store(rec)
        return rec

    def stop(self, wait: float) -> None:
        """Abort the run (its current step recorded as interrupted) and wait for its thread, bounded."""
        if not self._thread.is_alive():
            return
        self.runner.abort()
        with self._cond:
            self._aborted = True
            self._cond.notify_all()
        self._join(wait)

    def _join(self, wait: float | None) -> None:
        self._thread.join(wait)
        if self._thread.is_alive():
            _LOG.error("plan %s: the runner did not stop within %.0f s", self.plan.name, wait or 0)

    def _run(self) -> None:
        try:
            self.runner.run()
        except BaseException as exc:  # the items report it
            if not isinstance(exc, BenchError):
                _LOG.error("plan %s: the runner failed", self.plan.name, exc_info=exc)
            self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _store(self, rec: StepRecord) -> None:
        try:
            self.slot.add_step(rec)
        except BenchError as exc:  # the store went away: the item says so, the session goes on
            _LOG.error("step %s not stored: %s", rec.name, exc)
            self.not_stored[rec.name] = said(exc)

    def took(self, rec: StepRecord) -> None:
        """The runner recorded a step: store it in the slot's run record and hand it to its item.

        A step skipped because a step it requires was deselected was not tested: like a skipped
        test it carries ``TEST-SKIPPED`` (the run cannot PASS; it is not "not for this model").
        """
        step = self.plan.steps[self._order[rec.name]] if rec.name in self._order else None
        if (step is not None and rec.outcome == Outcome.SKIP and rec.fault is None
                and any(req not in self._order for req in step.requires)):
            rec.fault = NOT_TESTED
        self._store(rec)
        with self._cond:
            self._records[rec.name] = rec
            self._cond.notify_all()

    def hold_after(self, name: str) -> None:
        """On the runner's step thread, after step ``name``: wait until the next step's item runs."""
        from bench.supervisor import Abandoned

        following = self._order.get(name, len(self._order)) + 1
        if following >= len(self._order):
            return
        with self._cond:
            while self._released < following and not self._aborted:
                self._cond.wait()
            if self._aborted:
                raise Abandoned


class _SlotSink:
    """The runner's sink: steps go to the slot's run record (the session owns the run itself)."""

    def __init__(self, run: PlanRun) -> None:
        self._run = run

    def start_run(self, run: RunRecord) -> None:
        """Ignore: the slot's record is the session's."""

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Ignore: the slot identified its unit."""

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store the step in the slot's record, at once."""
        self._run.took(step)

    def finish_run(self, run_id: str, verdict: Verdict, ended_at: Any, summary: str, findings: list[Finding]) -> None:
        """Ignore: the session ends the slot's record."""


class _Gate:
    """The runner's listener: holds the runner after each step until the next step's item runs."""

    def __init__(self, run: PlanRun) -> None:
        self._run = run

    def run_started(self, record: RunRecord) -> None:
        """Nothing to do."""

    def step_started(self, step: Step, index: int, total: int, attempt: int) -> None:
        """Nothing to do."""

    def step_ended(self, record: StepRecord, total: int) -> None:
        """Wait for the next step's item."""
        self._run.hold_after(record.name)
