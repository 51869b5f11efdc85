"""The runner: runs a plan's steps in order against a bench, under timeouts and retries.

The steps run on a step thread while the calling thread watches over them (the
supervisor), so a driver that blocks cannot hang the run: when a check outlives its
step's timeout, the supervisor records the step as TIMEOUT, closes the devices it used
(which unblocks the driver; they are reopened for the next step), abandons the step
thread and starts a new one at the next attempt or step. Ctrl-C reaches the supervisor,
which ends the current step, records it, and marks the run ABORTED. Every step is handed
to the sink (the store) before the next one starts, so a crash loses nothing already
measured.

Why a supervisor rather than a worker per check: handing each check to a worker thread
and waiting for its answer costs two thread wake-ups per step (50 us on a 2-CPU VM, more
than the whole rest of a step). Here a step that ends in time wakes nobody: the step
thread publishes "in a check until <deadline>" under a lock, and the supervisor sleeps
until the earliest deadline it was told about, wakes once per step timeout at most,
and only acts when the check it finds is still the one past its deadline.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bench import __version__
from bench.checks.base import StepContext
from bench.diagnosis import diagnose, finding_for, summarize, verdict_of
from bench.errors import BenchError, ConfigError, DeviceError, EquipmentError, Interrupted, UsageError
from bench.measure import Measurement
from bench.operator import Operator
from bench.plan import Plan, Step
from bench.record import (
    Finding,
    Outcome,
    RunRecord,
    StepRecord,
    UnitInfo,
    Verdict,
    utcnow,
)

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")

#: How long the runner waits for a unit that dropped off the link to come back.
RECONNECT_WAIT = 15.0


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


class _Abandoned(Exception):
    """Internal: raised on a step thread the supervisor gave up on, to end it quietly."""


class _Generation:
    """One step thread; ``abandoned`` once the supervisor took its step away (timeout or Ctrl-C)."""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False


@dataclass
class _Region:
    """What the step thread is doing that the supervisor may take over: a check, a prompt, a wait."""

    gen: _Generation
    deadline: float | None  # monotonic; None: no timeout (bounded by its own waits), but Ctrl-C may end it
    step: Step | None = None
    ctx: StepContext | None = None  # set for a check: what to record if it is taken over
    resume: _Resume | None = None


@dataclass
class _Resume:
    """Where a new step thread picks up after a timed-out attempt."""

    index: int
    started: datetime
    t0: float
    attempt_no: int
    result: _Attempt | None = None


class _Watch:
    """The handshake between the step thread and the supervisor (one lock, one condition).

    The step thread :meth:`enter`s a region before a check (or a prompt, or a wait) and
    :meth:`leave`s it after; both are an uncontended lock round trip. It notifies the
    supervisor only when the new deadline is earlier than the one it sleeps until, or
    when the thread is done.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._region: _Region | None = None
        self._wake_at = math.inf
        self._stopping = False
        self._done: _Generation | None = None
        self._error: BaseException | None = None

    # -- step thread side
    def enter(self, region: _Region) -> None:
        """The step thread starts something the supervisor may take over; raises _Abandoned when stopping."""
        with self._cond:
            if region.gen.abandoned or self._stopping:  # taken over, or Ctrl-C: no new region
                raise _Abandoned
            self._region = region
            if region.deadline is not None and region.deadline < self._wake_at:
                self._cond.notify()

    def leave(self, gen: _Generation) -> None:
        """The step thread is done with its region; raises _Abandoned when the supervisor took it."""
        with self._cond:
            if gen.abandoned:
                raise _Abandoned
            self._region = None

    def call(self, gen: _Generation, fn: Callable[[], _T]) -> _T:
        """``fn()`` in a region without a deadline (a prompt, a device open, a reconnect wait): Ctrl-C may end it."""
        self.enter(_Region(gen, None))
        try:
            return fn()
        finally:
            self.leave(gen)

    def done(self, gen: _Generation, error: BaseException | None) -> None:
        """The step thread ran out of steps (or failed with ``error``)."""
        with self._cond:
            if gen.abandoned:
                return
            self._done, self._error = gen, error
            self._cond.notify()

    # -- supervisor side
    def supervise(self, gen: _Generation) -> _Region | None:
        """Sleep until the step thread ends (None; its error re-raised) or a check overruns (that region)."""
        with self._cond:
            while True:
                if self._done is gen:
                    if self._error is not None:
                        raise self._error
                    return None
                region = self._region
                now = time.monotonic()
                if region is not None and region.deadline is not None and now >= region.deadline:
                    return self._take(region)
                self._wake_at = region.deadline if region is not None and region.deadline is not None else math.inf
                self._cond.wait(None if self._wake_at == math.inf else self._wake_at - now)

    def stop(self, gen: _Generation | None) -> _Region | None:
        """Ctrl-C: take the step thread's current region (None when it is between regions or done).

        Between regions the thread is abandoned at once: it stops at its next region or record
        (records are made under the runner's record lock, so never while the supervisor writes).
        """
        with self._cond:
            self._stopping = True
            if gen is None or gen.abandoned:
                return None
            if self._done is gen:
                if self._error is not None and not isinstance(self._error, KeyboardInterrupt):
                    _LOG.error("the step thread failed as the run was interrupted: %s", self._error)
                return None
            if self._region is not None:
                return self._take(self._region)
            gen.abandoned = True
            return None

    def _take(self, region: _Region) -> _Region:
        region.gen.abandoned = True
        self._region = None
        self._wake_at = math.inf
        return region


@dataclass
class _Attempt:
    outcome: Outcome
    fault: str | None
    message: str
    ctx: StepContext


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
        self._watch = _Watch()
        self._gen: _Generation | None = None
        self._overrun: _Region | None = None  # a timed-out check the supervisor is recording
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
            self._take_over_interrupted_step()
            self._finish(Verdict.ABORTED, "interrupted by the operator")
            raise Interrupted("interrupted by the operator") from None
        except ConfigError as exc:
            self._finish(Verdict.ERROR, str(exc))
            raise
        except _UnitUnreachable as stop:
            self._finish(Verdict.FAIL if isinstance(stop.error, DeviceError) else Verdict.ERROR, str(stop.error),
                         stop.error.fault_code)
            raise stop.error from None
        self._finish(None, None)
        return rec

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
            raise UsageError(
                f"plan {self.plan.name} is for {', '.join(self.plan.models)}; the unit on the bench is a {ident.model}"
            )

    def _supervise_steps(self) -> None:
        """Run the steps on a step thread and watch their deadlines from this one."""
        resume: _Resume | None = None
        start = 0
        while True:
            gen = _Generation()
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
            ctx.cancel.set()
            resume.result = _timed_out(step, ctx)  # asks the devices first: closing them ends their calls
            self.devices.reset(step.check.devices)  # closing them unblocks the abandoned driver
            start = resume.index

    def _steps_from(self, gen: _Generation, start: int, resume: _Resume | None) -> None:
        """The step thread: steps ``start``.. in order (the first one resumed after a timed-out attempt)."""
        steps = self.plan.steps
        try:
            for index in range(start, len(steps)):
                self._run_step(gen, steps[index], index, len(steps), resume if index == start else None)
        except _Abandoned:
            return
        except BaseException as exc:  # re-raised by the supervisor, on its thread
            self._watch.done(gen, exc)
            return
        self._watch.done(gen, None)

    def _take_over_interrupted_step(self) -> None:
        """Ctrl-C: end the step thread's check (recorded as interrupted) or prompt, or stop it between steps."""
        region = self._overrun or self._watch.stop(self._gen)
        if region is not None and region.ctx is not None and region.step is not None:
            region.ctx.cancel.set()
            self.devices.reset(region.step.check.devices)
            self._record_interrupted(region.step, region.ctx, region.resume)

    def _run_step(self, gen: _Generation, step: Step, index: int, total: int, resume: _Resume | None) -> None:
        result: _Attempt | None = None
        if resume is None:
            started = utcnow()
            t0 = time.perf_counter()
            skip = self._skip_reason(gen, step)
            if skip is not None:
                rec = StepRecord(index, step.name, step.check.name, Outcome.SKIP, started, 0.0, 0, None, skip)
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
            result = self._attempt(gen, step, _Resume(index, started, t0, attempt_no))
            if result.outcome == Outcome.PASS:
                break
            if attempt_no <= step.retries:
                _LOG.info("step %s: %s (%s); retrying", step.name, result.outcome.value, result.message)
        assert result is not None
        rec = _step_record(step, index, result.outcome, started, time.perf_counter() - t0, attempt_no,
                           result.fault, result.message, result.ctx)
        self._record(gen, step, rec, total)
        if result.fault and result.fault.startswith("LINK-") and "unit" in step.check.devices:
            self._watch.call(gen, lambda: self._recover_unit(step))

    def _record(self, gen: _Generation, step: Step, rec: StepRecord, total: int) -> None:
        with self._record_lock:
            if gen.abandoned:  # the supervisor recorded this step (or ended the run) already
                raise _Abandoned
            self._keep(step, rec)
        if self.listener is not None:
            self.listener.step_ended(rec, total)

    def _keep(self, step: Step, rec: StepRecord) -> None:
        """Add a step to the record and the sink (the caller holds the record lock)."""
        self._outcomes[step.name] = rec.outcome
        self.record.steps.append(rec)
        self.sink.add_step(self.record.run_id, rec)

    def _skip_reason(self, gen: _Generation, step: Step) -> str | None:
        unit = self.record.unit
        if step.models and unit is not None and unit.model not in step.models:
            return f"not for model {unit.model}"
        for req in step.requires:
            outcome = self._outcomes.get(req)
            if outcome != Outcome.PASS:
                self._skipped_because[step.name] = req
                return f"requires {req} ({outcome.value if outcome else 'not run'})"
        for role in step.check.devices:
            if role in self._lost_roles:
                self._skipped_because[step.name] = self._lost_roles[role]
                return f"{role.replace('_', ' ')} lost after step {self._lost_roles[role]}"
        prompt = step.prompt
        if prompt and not self._watch.call(gen, lambda: self.operator.confirm(prompt, timeout=step.timeout)):
            return "operator skipped the step"
        return None

    def _attempt(self, gen: _Generation, step: Step, where: _Resume) -> _Attempt:
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
        )
        for role in step.check.devices:
            err = self.devices.error(role)
            if err is not None:
                return self._from_exception(err, ctx)
        watch.enter(_Region(gen, ctx.deadline, step, ctx, where))
        try:
            step.check.func(ctx)
        except BaseException as exc:  # classified below, once the supervisor's claim is settled
            error: BaseException | None = exc
        else:
            error = None
        watch.leave(gen)  # raises _Abandoned when the supervisor recorded this attempt already
        if error is not None:
            return self._from_exception(error, ctx)
        failed = [m for m in ctx.measurements if not m.passed]
        if failed:
            return _Attempt(Outcome.FAIL, failed[0].fault or step.check.fault, _join(failed), ctx)
        return _Attempt(Outcome.PASS, None, "", ctx)

    def _from_exception(self, exc: BaseException, ctx: StepContext) -> _Attempt:
        if isinstance(exc, DeviceError):
            return _Attempt(Outcome.FAIL, exc.fault_code or ctx.spec.fault, str(exc), ctx)
        if isinstance(exc, EquipmentError):
            return _Attempt(Outcome.ERROR, exc.fault_code or "BENCH-ERROR", str(exc), ctx)
        if isinstance(exc, BenchError):
            return _Attempt(Outcome.ERROR, exc.fault_code or "BENCH-ERROR", str(exc), ctx)
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        _LOG.error("check %s crashed:\n%s", ctx.spec.name, "".join(traceback.format_exception(exc)))
        return _Attempt(
            Outcome.ERROR, "BENCH-ERROR", f"internal error in check {ctx.spec.name}: {type(exc).__name__}: {exc}", ctx
        )

    def _recover_unit(self, step: Step) -> None:
        """The unit dropped off the link: wait (bounded) for it to come back, else mark it lost."""
        if self.record.unit is None:  # it never answered: nothing to wait for
            self._lost_roles["unit"] = step.name
            return
        _LOG.info("unit link lost in step %s; waiting up to %.0f s for it to come back", step.name, self.reconnect_wait)
        if not self.devices.reconnect("unit", self.reconnect_wait):
            self._lost_roles["unit"] = step.name

    def _record_interrupted(self, step: Step, ctx: StepContext, where: _Resume | None) -> None:
        started, duration, attempts = utcnow(), 0.0, 1
        if where is not None:  # the attempt's own start, so a retry keeps its count and time
            started, duration, attempts = where.started, time.perf_counter() - where.t0, where.attempt_no
        with self._record_lock:
            self._keep(step, _step_record(step, len(self.record.steps), Outcome.ERROR, started, duration, attempts,
                                          None, "interrupted by the operator", ctx))

    def _finish(self, verdict: Verdict | None, summary: str | None, fault: str | None = None) -> None:
        rec = self.record
        with self._record_lock:  # an abandoned step thread may be in the middle of storing a step
            rec.ended_at = utcnow()
            rec.findings = diagnose(rec.steps, self._skipped_because, self.plan.actions)
            if fault and not rec.findings:
                rec.findings = [finding_for(fault, self.plan.actions)]
            rec.verdict = verdict or verdict_of(rec.steps)
            rec.summary = summary or summarize(rec.verdict, rec.findings)
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


def _timed_out(step: Step, ctx: StepContext) -> _Attempt:
    """A check outlived its step: name the device call it was blocked in, when a device says so."""
    message = f"did not finish within {step.timeout:g} s"
    for role in step.check.devices:
        device = ctx.devices.get(role)
        pending = device.pending() if device is not None else None
        if pending is not None:
            where = f"{role.replace('_', ' ')} still waiting {pending.seconds:.1f} s for {pending.waiting_for}"
            return _Attempt(Outcome.TIMEOUT, pending.fault_code, f"{message}: {where}", ctx)
    return _Attempt(Outcome.TIMEOUT, "STEP-TIMEOUT", message, ctx)


def _join(failed: list[Measurement]) -> str:
    return "; ".join(m.message for m in failed)
