"""The check contract: how a check is declared and what it receives when it runs.

A check is a plain function ``def check(ctx: StepContext) -> None``. It asks devices
for values, reports them with :meth:`StepContext.measure`, and raises a
:class:`bench.errors.DeviceError` (with a fault code) when the unit misbehaves. It
never catches broadly: the runner turns exceptions into outcomes.

Each check module ends with a ``CHECKS`` tuple of :class:`CheckSpec`; the registry in
:mod:`bench.checks` reads those tuples. Nothing registers itself on import.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bench.errors import DeviceError, EquipmentError
from bench.measure import Limit, Measurement, judge
from bench.record import AttachmentRecord
from drivers.i18n import N_, Text

if TYPE_CHECKING:
    from bench.operator import Operator
    from drivers.interfaces import Device, Unit

_REQUIRED: Any = object()
#: The station's roles in words, for a technician (the role names stay the station file's keys).
ROLE_WORDS: Mapping[str, Text] = {
    "unit": N_("unit"),
    "card_reader": N_("card reader"),
    "printer": N_("printer"),
    "host": N_("bench host"),
    "supply": N_("power supply"),
    "multimeter": N_("multimeter"),
    "scope": N_("oscilloscope"),
}
D = TypeVar("D", bound="Device")


@dataclass(frozen=True)
class Param:
    """A check parameter: its type(s), default (absent = required) and help text."""

    type: type | tuple[type, ...]
    default: Any = _REQUIRED
    help: str = ""
    #: (least, most) for a number; a plan's value outside is a plan error (any number is finite and within +-1e12).
    bounds: tuple[float, float] | None = None
    #: Checks a plan's value when the plan is loaded (a file it names, say); raises PlanError naming what is wrong.
    validate: Callable[[Any], None] | None = None

    @property
    def required(self) -> bool:
        """True when the plan must give this parameter."""
        return self.default is _REQUIRED


@dataclass(frozen=True)
class CheckSpec:
    """A check as the registry knows it.

    Attributes:
        name: dotted name used in plans, e.g. ``power.battery``.
        func: the function that runs it.
        summary: one line for ``bench list``.
        devices: roles the check needs (``unit``, ``card_reader``, ``printer``).
        params: accepted parameters.
        measurements: names of the measurements it reports, with their default limits
            (None = recorded, not judged unless the plan gives a limit).
        fault: fault code when it fails without a more specific one.
        check_params: checks the parameters together when the plan is loaded (each is already valid
            alone); returns what is wrong, or None.
    """

    name: str
    func: Callable[[StepContext], None]
    summary: str
    devices: tuple[str, ...] = ()
    params: Mapping[str, Param] = field(default_factory=dict)
    measurements: Mapping[str, Limit | None] = field(default_factory=dict)
    fault: str = "UNIT-FAULT"
    check_params: Callable[[Mapping[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class Progress:
    """How far a long step got: ``done`` of ``total`` items, live counts by name, a short phrase."""

    done: int
    total: int | None
    counts: dict[str, int | float]
    text: str = ""


class StepContext:
    """Everything a running check may use: devices, parameters, limits, operator, clock.

    Args:
        step: the step's name in the plan.
        spec: the check being run.
        params: parameters after defaults were applied.
        limits: limits by measurement name (plan limits over the check's defaults).
        devices: opened devices by role.
        operator: who answers prompts.
        deadline: ``time.monotonic()`` value when the step times out.
        cancel: set by the runner when the step timed out or was interrupted.
        progress: told how a long step is going (the console draws it); see :meth:`progress`.
    """

    def __init__(
        self,
        *,
        step: str,
        spec: CheckSpec,
        params: Mapping[str, Any],
        limits: Mapping[str, Limit | None],
        devices: Mapping[str, Device],
        operator: Operator,
        deadline: float,
        cancel: threading.Event | None = None,
        state: dict[str, Any] | None = None,
        progress: Callable[[str, Progress], None] | None = None,
    ) -> None:
        self.step = step
        self._progress = progress
        self.spec = spec
        self.params = params
        self.limits = limits
        self.devices = devices
        self.operator = operator
        self.deadline = deadline
        self.cancel = cancel or threading.Event()
        self.state = state if state is not None else {}
        self.measurements: list[Measurement] = []
        self.attachments: list[AttachmentRecord] = []
        self.notes: list[str] = []
        self._on_abandon: list[Callable[[], object]] = []

    @functools.cached_property
    def log(self) -> logging.Logger:
        """The step's logger (``bench.step.<name>``), made on first use."""
        return logging.getLogger(f"bench.step.{self.step}")

    # -- devices
    def device(self, role: str, kind: type[D]) -> D:
        """Return the device in ``role``; an equipment error when the station has none."""
        dev = self.devices.get(role)
        if dev is None:
            raise EquipmentError(N_("this station has no {role} configured",
                                    role=ROLE_WORDS.get(role) or role.replace("_", " ")), fault_code="BENCH-CONFIG")
        if not isinstance(dev, kind):
            raise EquipmentError(N_("{role} is a {found}, not a {wanted}", role=role, found=type(dev).__name__,
                                    wanted=kind.__name__), fault_code="BENCH-CONFIG")
        return dev

    @property
    def unit(self) -> Unit:
        """The unit under test."""
        from drivers.interfaces import Unit

        return self.device("unit", Unit)

    # -- time
    def remaining(self) -> float:
        """Seconds left before the step times out (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    def budget(self, wanted: float | None = None, *, margin: float = 0.3, floor: float = 0.05) -> float:
        """How long a device wait may take: ``wanted``, cut to end ``margin`` s before the step's deadline.

        The margin lets a check that waited in vain report its own fault ("no card detected")
        instead of losing the race with the runner's step timeout.
        """
        left = self.remaining() - margin
        return max(floor, left if wanted is None else min(wanted, left))

    # -- results
    def measure(
        self, name: str, value: Any, *, unit: str | None = None, limit: Limit | None = None, judged: bool = True,
        says: str | None = None,
    ) -> Measurement:
        """Record a measurement and judge it; a value outside its limit fails the step.

        The plan's limit for ``name`` wins; ``limit`` is the check's own default for
        measurements whose limit depends on what the unit reported. ``judged=False``
        records the value without judging it (it is explained by another measurement).
        ``says`` is what a failure means for the unit, in the bench's words (see
        :func:`bench.measure.judge` for the message it gets otherwise).
        """
        chosen = self.limits.get(name)
        if not judged:
            chosen = limit = None
        m = judge(name, value, unit=unit, limit=chosen if chosen is not None else limit, default_fault=self.spec.fault,
                  says=says)
        self.measurements.append(m)
        return m

    def attach(self, name: str, data: bytes, mime: str) -> None:
        """Attach a file (image, log) to the step's record."""
        self.attachments.append(AttachmentRecord(name, mime, data))

    def note(self, text: str) -> None:
        """Add a line to the step's log excerpt (shown in reports for failed steps)."""
        self.notes.append(text)
        self.log.info("%s", text)

    def fail(self, message: str, fault_code: str | None = None, *, detail: str | None = None) -> None:
        """Fail the step now with ``message`` (what it means for the unit) and ``fault_code`` (default:
        the check's); ``detail`` (the wire's facts) goes to the step's log."""
        raise DeviceError(message, fault_code=fault_code or self.spec.fault, detail=detail)

    def progress(self, done: int, total: int | None, counts: Mapping[str, int | float] | None = None,
                 text: str = "") -> None:
        """Tell the console how a long step goes: ``done`` of ``total`` (None: unknown), live counts, a phrase."""
        if self._progress is not None:
            self._progress(self.step, Progress(done, total, dict(counts or {}), text))

    def on_abandon(self, undo: Callable[[], object]) -> None:
        """Have the runner call ``undo`` if it gives up on this step (timeout, Ctrl-C), before it closes
        the step's devices: a ``finally`` of the check would run too late (or never), on closed devices."""
        self._on_abandon.append(undo)

    def abandon(self) -> None:
        """The runner gives up on this step: cancel it, then run its :meth:`on_abandon` calls (latest first)."""
        self.cancel.set()
        while self._on_abandon:
            undo = self._on_abandon.pop()
            try:
                undo()
            except Exception as exc:  # the device may be what failed: say so, go on closing
                self.log.warning("putting the bench back after the step was abandoned failed: %s", exc)

    def check_cancelled(self) -> None:
        """Raise when the runner gave up on this step; call it inside long loops."""
        if self.cancel.is_set():
            from bench.errors import Interrupted

            raise Interrupted(N_("step cancelled"))


REQUIRED = _REQUIRED
