"""The runner: runs a plan's steps in order against a bench, under timeouts and retries.

The steps run on a step thread while the calling thread watches over them (the
supervisor), so a driver that blocks cannot hang the run: when a check outlives its
step's timeout, the supervisor records the step as TIMEOUT, closes the devices it used
(which unblocks the driver; they are reopened for the next step), abandons the step
thread and starts a new one at the next attempt or step. Ctrl-C reaches the supervisor,
which ends the current step, records it, and marks the run ABORTED. Every step is handed
to the sink (the store) before the next one starts, so a crash loses nothing already
measured. The handshake between the two threads is :mod:`bench.supervisor`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
import uuid
from datetime import datetime
from typing import Any, Protocol

from bench import __version__, interrupts
from bench.checks.base import StepContext
from bench.diagnosis import (
    NO_INSTRUMENT_FAULT,
    OPERATOR_SKIPPED,
    diagnose,
    finding_for,
    summarize,
    verdict_of,
)
from bench.errors import BenchError, ConfigError, DeviceError, Interrupted, OperatorTimeout, UsageError, said
from bench.measure import Measurement
from bench.operator import Operator
from bench.plan import Plan, Step
from bench.record import (
    OUTCOME_WORDS,
    Finding,
    Outcome,
    RunRecord,
    StepRecord,
    UnitInfo,
    Verdict,
    utcnow,
)
from bench.supervisor import Abandoned, Attempt, Generation, Region, Resume, Watch
from drivers.i18n import N_, Text, join_texts
from drivers.registry import OPTIONAL_ROLES

_LOG = logging.getLogger(__name__)

#: How long the runner waits for a unit that dropped off the link to come back.
RECONNECT_WAIT = 15.0
#: The fault of the step a signal (or another slot's Ctrl-C) cut short: not the bench's, not the unit's.
INTERRUPTED = "RUN-ABORTED"
#: The message of a step whose prompt the operator declined (SKIP, fault OP-SKIPPED).
DECLINED = N_("operator skipped the step")


class RecordSink(Protocol):
    """Where records go as the run happens (the store, in practice)."""

    def start_run(self, run: RunRecord) -> None:
        """The run begins."""

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """The unit under test identified itself."""

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """A step ended; must be durable when this returns."""

    def finish_run(
        self, run_id: str, verdict: Verdict, ended_at: Any, summary: str, findings: list[Finding]
    ) -> None:
        """The run ended."""


class NullSink:
    """A sink that keeps nothing (for dry runs and unit tests)."""

    def start_run(self, run: RunRecord) -> None:
        """Ignore."""

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Ignore."""

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Ignore."""

    def finish_run(self, run_id: str, verdict: Verdict, ended_at: Any, summary: str, findings: list[Finding]) -> None:
        """Ignore."""


class RunListener(Protocol):
    """Who watches the run (the console)."""

    def run_started(self, record: RunRecord) -> None:
        """The unit is identified and the first step is about to start."""

    def step_started(self, step: Step, index: int, total: int, attempt: int) -> None:
        """A step (or a retry of it) starts."""

    def step_ended(self, record: StepRecord, total: int) -> None:
        """A step ended and was recorded."""

    # Optional (the runner looks them up): a wait with nothing else to show, such as for a unit
    # that dropped off its port. ``waiting`` comes at the start (``waited`` 0) and then a few
    # times a second; ``wait_ended`` once, with whether the wait was answered.
    # def waiting(self, what: str, waited: float, limit: float) -> None: ...
    # def wait_ended(self, what: str, answered: bool, waited: float) -> None: ...
    # A long step's progress (bench.checks.base.Progress), from the step's thread, at most a few times a second:
    # def step_progress(self, step: str, progress: Progress) -> None: ...


class Runner:
    """Runs one plan on one unit.

    Args:
        plan: the validated plan.
        devices: the bench's devices (:class:`bench.devices.DeviceSet`).
        operator: who answers prompts.
        sink: where each step is persisted as it ends.
        station: the station's name, for the record.
        listener: optional watcher (console output).
        lot, scenario: recorded with the run.
    """

    def __init__(
        self,
        plan: Plan,
        devices: Any,
        operator: Operator,
        sink: RecordSink | None = None,
        *,
        station: str = "",
        listener: RunListener | None = None,
        lot: str | None = None,
        scenario: str | None = None,
        reconnect_wait: float = RECONNECT_WAIT,
    ) -> None:
        self.plan = plan
        self.devices = devices
        self.operator = operator
        self.sink: RecordSink = sink or NullSink()
        self.listener = listener
        self.reconnect_wait = reconnect_wait
        self.record = RunRecord(
            run_id=str(uuid.uuid4()),
            plan_name=plan.name,
            plan_version=plan.version,
            plan_hash=plan.sha256,
            station=station,
            operator=operator.name,
            started_at=utcnow(),
            lot=lot,
            scenario=scenario,
            bench_version=__version__,
        )
        self._watch = Watch()
        self._gen: Generation | None = None
        self._overrun: Region | None = None  # a timed-out check the supervisor is recording
        # Held while a step is recorded and stored, and while the supervisor records or finishes:
        # the record and the sink are never used by two threads at once.
        self._record_lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._skipped_because: dict[str, str] = {}
        self._lost_roles: dict[str, str] = {}  # role -> step after which it was lost

    # ------------------------------------------------------------------ public
    def run(self) -> RunRecord:
        """Run every step and return the finished record.

        Raises:
            Interrupted: Ctrl-C; the run is recorded as ABORTED first.
            UsageError: the plan does not apply to the unit on the bench.
        """
        rec = self.record
        self.sink.start_run(rec)
        try:
            self.devices.open(self.plan.devices)
            self._stop_if_unit_unreachable()
            self._identify_unit()
            if self.listener is not None:
                self.listener.run_started(rec)
            self._supervise_steps()
        except KeyboardInterrupt:
            who = interrupts.interrupted_by()  # "interrupted by SIGTERM (...)", "... the operator (Ctrl-C, SIGINT)"
            self._take_over_interrupted_step(who)
            self._finish(Verdict.ABORTED, who)
            raise Interrupted(who) from None
        except ConfigError as exc:
            self._finish(Verdict.ERROR, said(exc))
            raise
        except _UnitUnreachable as stop:
            self._finish(Verdict.FAIL if isinstance(stop.error, DeviceError) else Verdict.ERROR, said(stop.error),
                         stop.error.fault_code)
            raise stop.error from None
        self._finish(None, None)
        return rec

    def abort(self) -> None:
        """From another thread: end this run as Ctrl-C would (its step recorded, the run ABORTED).

        :meth:`run` then raises :class:`Interrupted` on its own thread. Before the steps start
        (opening the devices, identifying the unit) it takes effect as soon as they do.
        """
        self._watch.interrupt()

    # ------------------------------------------------------------------ internals
    def _stop_if_unit_unreachable(self) -> None:
        """No step can run without the unit: stop with one clear error instead of N identical ones."""
        if "unit" not in self.plan.devices:
            return
        err = self.devices.error("unit")
        if err is not None:
            raise _UnitUnreachable(err)

    def _identify_unit(self) -> None:
        from drivers.interfaces import Unit

        unit = self.devices.get("unit")
        if not isinstance(unit, Unit):
            return
        try:
            ident = unit.identify()
        except BenchError as exc:
            _LOG.info("unit did not identify: %s", exc)
            return
        info = UnitInfo(ident.model, ident.serial, ident.hw_revision, ident.firmware)
        self.record.unit = info
        self.sink.set_unit(self.record.run_id, info)
        if not self.plan.applies_to(ident.model):
            raise UsageError(N_("plan {plan} is for {models}; the unit on the bench is a {model}", plan=self.plan.name,
                                models=", ".join(self.plan.models), model=ident.model))

    def _supervise_steps(self) -> None:
        """Run the steps on a step thread and watch their deadlines from this one."""
        resume: Resume | None = None
        start = 0
        while True:
            if self._watch.interrupted:  # stopped from another thread before a step thread started
                raise KeyboardInterrupt
            gen = Generation()
            self._gen = gen
            threading.Thread(target=self._steps_from, args=(gen, start, resume), name="bench-steps", daemon=True).start()
            self._overrun = None
            overrun = self._watch.supervise(gen)
            if overrun is None:
                return
            # A check outlived its step's timeout: the supervisor records it; a new thread goes on.
            step, ctx, resume = overrun.step, overrun.ctx, overrun.resume
            assert step is not None and ctx is not None and resume is not None
            self._overrun = overrun  # until a new thread has it: Ctrl-C meanwhile records it as interrupted
            ctx.abandon()  # the check's on_abandon calls, while its devices are still open
            resume.result = _timed_out(step, ctx)  # asks the devices first: closing them ends their calls
            self.devices.reset(step.check.devices)  # closing them unblocks the abandoned driver
            start = resume.index

    def _steps_from(self, gen: Generation, start: int, resume: Resume | None) -> None:
        """The step thread: steps ``start``.. in order (the first one resumed after a timed-out attempt)."""
        steps = self.plan.steps
        try:
            for index in range(start, len(steps)):
                self._run_step(gen, steps[index], index, len(steps), resume if index == start else None)
        except Abandoned:
            return
        except BaseException as exc:  # re-raised by the supervisor, on its thread
            self._watch.done(gen, exc)
            return
        self._watch.done(gen, None)

    def _take_over_interrupted_step(self, who: str) -> None:
        """Ctrl-C: end the step thread's check (recorded ERROR, saying ``who``) or prompt, or stop it between steps."""
        region = self._overrun or self._watch.stop(self._gen)
        if region is not None and region.ctx is not None and region.step is not None:
            region.ctx.abandon()
            self.devices.reset(region.step.check.devices)
            self._record_interrupted(region.step, region.ctx, region.resume, who)

    def _run_step(self, gen: Generation, step: Step, index: int, total: int, resume: Resume | None) -> None:
        result: Attempt | None = None
        if resume is None:
            started = utcnow()
            t0 = time.perf_counter()
            try:
                skip = self._skip_reason(gen, step)
            except OperatorTimeout as exc:  # nobody answered the step's prompt: an operator timeout; the run goes on
                rec = StepRecord(index, step.name, step.check.name, Outcome.TIMEOUT, started,
                                 time.perf_counter() - t0, 0, exc.fault_code, said(exc))
                self._record(gen, step, rec, total)
                return
            if skip is not None:
                # Not signed off (declined, or an instrument the station lacks): the run cannot PASS.
                skip_message, fault = skip
                rec = StepRecord(index, step.name, step.check.name, Outcome.SKIP, started, 0.0, 0, fault, skip_message)
                self._record(gen, step, rec, total)
                return
            attempt_no = 0
        else:  # the attempt before this one timed out
            started, t0, attempt_no, result = resume.started, resume.t0, resume.attempt_no, resume.result
            if attempt_no <= step.retries:
                _LOG.info("step %s: did not finish in time; retrying", step.name)
        while attempt_no <= step.retries:
            attempt_no += 1
            if self.listener is not None:
                self.listener.step_started(step, index, total, attempt_no)
            result = self._attempt(gen, step, Resume(index, started, t0, attempt_no))
            if result.outcome == Outcome.PASS:
                break
            if attempt_no <= step.retries:
                _LOG.info("step %s: %s (%s); retrying", step.name, result.outcome.value, result.message)
        assert result is not None
        rec = _step_record(step, index, result.outcome, started, time.perf_counter() - t0, attempt_no,
                           result.fault, result.message, result.ctx)
        self._record(gen, step, rec, total)
        if result.fault and (result.fault.startswith("LINK-") or result.fault == "BENCH-NET") \
                and "unit" in step.check.devices:
            self._watch.call(gen, lambda: self._recover_unit(step, result.fault == "BENCH-NET"))

    def _record(self, gen: Generation, step: Step, rec: StepRecord, total: int) -> None:
        with self._record_lock:
            if gen.abandoned:  # the supervisor recorded this step (or ended the run) already
                raise Abandoned
            self._keep(step, rec)
        if self.listener is not None:
            self.listener.step_ended(rec, total)

    def _keep(self, step: Step, rec: StepRecord) -> None:
        """Add a step to the record and the sink (the caller holds the record lock)."""
        self._outcomes[step.name] = rec.outcome
        self.record.steps.append(rec)
        self.sink.add_step(self.record.run_id, rec)

    def _skip_reason(self, gen: Generation, step: Step) -> tuple[Text, str | None] | None:
        """Why ``step`` is skipped, and the fault that stops the run from passing (None: no fault)."""
        unit = self.record.unit
        if step.models and unit is not None and unit.model not in step.models:
            return N_("not for model {model}", model=unit.model), None
        for req in step.requires:
            outcome = self._outcomes.get(req)
            if outcome != Outcome.PASS:
                self._skipped_because[step.name] = req
                return N_("requires {step} ({outcome})", step=req, outcome=OUTCOME_WORDS[outcome] if outcome else N_("not run")), None
        for role in step.check.devices:
            if role in self._lost_roles:
                self._skipped_because[step.name] = self._lost_roles[role]
                return N_("{role} lost after step {step}", role=role.replace("_", " "), step=self._lost_roles[role]), None
        urls = getattr(self.devices, "urls", None)  # the station's roles (a test's fake devices may not say)
        for role in step.check.devices:
            if role in OPTIONAL_ROLES and urls is not None and role not in urls:
                return N_("this station has no {instrument}", instrument=OPTIONAL_ROLES[role]), NO_INSTRUMENT_FAULT
        prompt = step.prompt
        if prompt and not self._watch.call(gen, lambda: self.operator.confirm(prompt, timeout=step.timeout)):
            return DECLINED, OPERATOR_SKIPPED
        return None

    def _attempt(self, gen: Generation, step: Step, where: Resume) -> Attempt:
        turn = getattr(self.devices, "turn", None)  # a multi-up slot: shared devices are used in turns
        if turn is None:
            return self._attempt_now(gen, step, where)
        with contextlib.ExitStack() as held:
            got = self._watch.call(gen, lambda: held.enter_context(turn(step.check.devices, gen, lambda: gen.abandoned)))
            if not got:
                raise Abandoned
            return self._attempt_now(gen, step, where)

    def _attempt_now(self, gen: Generation, step: Step, where: Resume) -> Attempt:
        watch = self._watch
        if step.check.devices:
            watch.call(gen, lambda: self.devices.open(step.check.devices))
        ctx = StepContext(
            step=step.name,
            spec=step.check,
            params=step.params,
            limits=step.limits,
            devices=self.devices.mapping(),
            operator=self.operator,
            deadline=time.monotonic() + step.timeout,
            state=self._state,
            progress=getattr(self.listener, "step_progress", None),
        )
        for role in step.check.devices:
            err = self.devices.error(role)
            if err is not None:
                return self._from_exception(err, ctx)
        watch.enter(Region(gen, ctx.deadline, step, ctx, where))
        try:
            step.check.func(ctx)
        except BaseException as exc:  # classified below, once the supervisor's claim is settled
            error: BaseException | None = exc
        else:
            error = None
        watch.leave(gen)  # raises Abandoned when the supervisor recorded this attempt already
        if error is not None:
            return self._from_exception(error, ctx)
        failed = [m for m in ctx.measurements if not m.passed]
        if failed:
            return Attempt(Outcome.FAIL, failed[0].fault or step.check.fault, _join(failed), ctx)
        return Attempt(Outcome.PASS, None, "", ctx)

    def _from_exception(self, exc: BaseException, ctx: StepContext) -> Attempt:
        if isinstance(exc, BenchError) and exc.detail:  # the wire-level facts: the step's log, not its message
            ctx.note(f"detail: {exc.detail}")
        if isinstance(exc, OperatorTimeout):  # a question nobody answered: not the unit's fault
            return Attempt(Outcome.TIMEOUT, exc.fault_code, said(exc), ctx)
        if isinstance(exc, DeviceError):
            return Attempt(Outcome.FAIL, exc.fault_code or ctx.spec.fault, said(exc), ctx)
        if isinstance(exc, BenchError):  # the bench's equipment, or another error of the bench's
            return Attempt(Outcome.ERROR, exc.fault_code or "BENCH-ERROR", said(exc), ctx)
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        _LOG.error("check %s crashed:\n%s", ctx.spec.name, "".join(traceback.format_exception(exc)))
        return Attempt(Outcome.ERROR, "BENCH-ERROR", N_("internal error in check {check}: {error}", check=ctx.spec.name,
                                                        error=type(exc).__name__ + ": " + str(exc)), ctx)

    def _recover_unit(self, step: Step, server: bool = False) -> None:
        """The unit (``server``: its serial server) dropped off the link: wait (bounded) for it, else mark it lost."""
        if self.record.unit is None:  # it never answered: nothing to wait for
            self._lost_roles["unit"] = step.name
            return
        _LOG.info("unit link lost in step %s; waiting up to %.0f s for it to come back", step.name, self.reconnect_wait)
        what = N_("the unit's serial server to take the connection again") if server else \
            N_("the unit to answer again on its diagnostic port")
        waiting = getattr(self.listener, "waiting", None)
        ended = getattr(self.listener, "wait_ended", None)
        limit = self.reconnect_wait
        t0 = time.monotonic()
        if waiting is not None:
            waiting(what, 0.0, limit)
        back = self.devices.reconnect(
            "unit", limit, progress=None if waiting is None else (lambda waited: waiting(what, waited, limit)))
        if ended is not None:
            ended(what, back, time.monotonic() - t0)
        if not back:
            self._lost_roles["unit"] = step.name

    def _record_interrupted(self, step: Step, ctx: StepContext, where: Resume | None, who: str) -> None:
        started, duration, attempts = utcnow(), 0.0, 1
        if where is not None:  # the attempt's own start, so a retry keeps its count and time
            started, duration, attempts = where.started, time.perf_counter() - where.t0, where.attempt_no
        with self._record_lock:
            self._keep(step, _step_record(step, len(self.record.steps), Outcome.ERROR, started, duration, attempts,
                                          INTERRUPTED, who, ctx))

    def _finish(self, verdict: Verdict | None, summary: str | None, fault: str | None = None) -> None:
        rec = self.record
        with self._record_lock:  # an abandoned step thread may be in the middle of storing a step
            rec.ended_at = utcnow()
            rec.findings = diagnose(rec.steps, self._skipped_because, self.plan.actions)
            if fault and not rec.findings:
                rec.findings = [finding_for(fault, self.plan.actions)]
            rec.verdict = verdict or verdict_of(rec.steps)
            rec.summary = summary or summarize(rec.verdict, rec.findings, rec.steps)
            self.sink.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)


class _UnitUnreachable(Exception):
    """Internal: the unit could not be opened, so the run stops before its first step."""

    def __init__(self, error: BenchError) -> None:
        super().__init__(str(error))
        self.error = error


def _step_record(
    step: Step,
    index: int,
    outcome: Outcome,
    started: datetime,
    duration_s: float,
    attempts: int,
    fault: str | None,
    message: str,
    ctx: StepContext,
) -> StepRecord:
    """The record of a step that ran: its outcome plus what the check measured, noted and attached."""
    return StepRecord(index, step.name, step.check.name, outcome, started, duration_s, attempts, fault, message,
                      list(ctx.measurements), list(ctx.notes), list(ctx.attachments))


def _timed_out(step: Step, ctx: StepContext) -> Attempt:
    """A check outlived its step: name the device call it was blocked in, when a device says so."""
    for role in step.check.devices:
        device = ctx.devices.get(role)
        pending = device.pending() if device is not None else None
        if pending is not None:
            return Attempt(Outcome.TIMEOUT, pending.fault_code,
                           N_("did not finish within {timeout:g} s: {role} still waiting {seconds:.1f} s for {what}",
                              timeout=step.timeout, role=role.replace("_", " "), seconds=pending.seconds,
                              what=pending.waiting_for), ctx)
    return Attempt(Outcome.TIMEOUT, "STEP-TIMEOUT", N_("did not finish within {timeout:g} s", timeout=step.timeout), ctx)


def _join(failed: list[Measurement]) -> str:
    """The failed measurements' messages, each once (two measurements of one fault: said once), kept translatable."""
    return join_texts(list(dict.fromkeys(m.message for m in failed)), separator=";")
