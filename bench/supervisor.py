"""The step thread and its supervisor: the handshake that lets a run outlive a blocked check.

The runner (:mod:`bench.runner`) runs a plan's steps on a step thread while the calling
thread supervises. Why a supervisor rather than a worker per check: handing each check to a
worker thread and waiting for its answer costs two thread wake-ups per step (50 us on a
2-CPU VM, more than the whole rest of a step). Here a step that ends in time wakes nobody:
the step thread publishes "in a check until <deadline>" under a lock, and the supervisor
sleeps until the earliest deadline it was told about (a quarter second at most, so a signal
is never left pending), and only acts when the check it finds is still the one past its deadline.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bench.checks.base import StepContext
from bench.plan import Step
from bench.record import Outcome

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")

#: The longest the supervisor sleeps without looking up, so Ctrl-C or SIGTERM is acted on within it.
SIGNAL_LATENCY = 0.25


class Abandoned(Exception):
    """Raised on a step thread the supervisor gave up on, to end it quietly."""


class Generation:
    """One step thread; ``abandoned`` once the supervisor took its step away (timeout or Ctrl-C)."""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False


@dataclass
class Region:
    """What the step thread is doing that the supervisor may take over: a check, a prompt, a wait."""

    gen: Generation
    deadline: float | None  # monotonic; None: no timeout (bounded by its own waits), but Ctrl-C may end it
    step: Step | None = None
    ctx: StepContext | None = None  # set for a check: what to record if it is taken over
    resume: Resume | None = None


@dataclass
class Resume:
    """Where a new step thread picks up after a timed-out attempt."""

    index: int
    started: datetime
    t0: float
    attempt_no: int
    result: Attempt | None = None


class Watch:
    """The handshake between the step thread and the supervisor (one lock, one condition).

    The step thread :meth:`enter`s a region before a check (or a prompt, or a wait) and
    :meth:`leave`s it after; both are an uncontended lock round trip. It notifies the
    supervisor only when the new deadline is earlier than the one it sleeps until, or
    when the thread is done.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._region: Region | None = None
        self._wake_at = math.inf
        self._stopping = False
        self._done: Generation | None = None
        self._error: BaseException | None = None
        self._interrupted = False

    # -- step thread side
    def enter(self, region: Region) -> None:
        """The step thread starts something the supervisor may take over; raises Abandoned when stopping."""
        with self._cond:
            if region.gen.abandoned or self._stopping:  # taken over, or Ctrl-C: no new region
                raise Abandoned
            self._region = region
            if region.deadline is not None and region.deadline < self._wake_at:
                self._cond.notify()

    def leave(self, gen: Generation) -> None:
        """The step thread is done with its region; raises Abandoned when the supervisor took it."""
        with self._cond:
            if gen.abandoned:
                raise Abandoned
            self._region = None

    def call(self, gen: Generation, fn: Callable[[], _T]) -> _T:
        """``fn()`` in a region without a deadline (a prompt, a device open, a reconnect wait): Ctrl-C may end it."""
        self.enter(Region(gen, None))
        try:
            return fn()
        finally:
            self.leave(gen)

    def done(self, gen: Generation, error: BaseException | None) -> None:
        """The step thread ran out of steps (or failed with ``error``)."""
        with self._cond:
            if gen.abandoned:
                return
            self._done, self._error = gen, error
            self._cond.notify()

    # -- supervisor side
    def supervise(self, gen: Generation) -> Region | None:
        """Sleep until the step thread ends (None; its error re-raised) or a check overruns (that region)."""
        with self._cond:
            while True:
                if self._interrupted:  # another thread stopped this run (a multi-up run's Ctrl-C)
                    raise KeyboardInterrupt
                if self._done is gen:
                    if self._error is not None:
                        raise self._error
                    return None
                region = self._region
                now = time.monotonic()
                if region is not None and region.deadline is not None and now >= region.deadline:
                    return self._take(region)
                self._wake_at = region.deadline if region is not None and region.deadline is not None else math.inf
                # Capped: a signal that lands just before this thread blocks in the lock finds no
                # system call to interrupt, and its handler runs only when the thread next wakes.
                self._cond.wait(min(self._wake_at - now, SIGNAL_LATENCY))

    def interrupt(self) -> None:
        """From any thread: the supervisor raises KeyboardInterrupt, as on Ctrl-C, within a moment.

        Signals reach only the main thread; this is how the runs of a multi-up station, each
        supervised on its own thread, are all ended by one Ctrl-C.
        """
        with self._cond:
            self._interrupted = self._stopping = True  # the step thread starts no new region
            self._cond.notify_all()

    @property
    def interrupted(self) -> bool:
        """True once :meth:`interrupt` was called."""
        return self._interrupted

    def stop(self, gen: Generation | None) -> Region | None:
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

    def _take(self, region: Region) -> Region:
        region.gen.abandoned = True
        self._region = None
        self._wake_at = math.inf
        return region


@dataclass
class Attempt:
    """How one attempt at a step ended, with the context that holds what the check measured."""

    outcome: Outcome
    fault: str | None
    message: str
    ctx: StepContext
