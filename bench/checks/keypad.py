"""Keypad checks: every key registers once, nothing is stuck down, nothing bounces."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import BenchError
from bench.measure import Limit
from drivers.i18n import N_, join_texts
from drivers.interfaces import Unit, UnitEvent

_LOG = logging.getLogger(__name__)

_POLL_S = 0.1
_PROGRESS_S = 3.0


@dataclass
class KeyTracker:
    """Follows key_down/key_up events and finds dead, stuck and bouncing keys.

    Times are seconds: the unit's own clock (``t_ms`` in the event) for bounce gaps when
    the unit sends it, the bench's arrival time otherwise; the release timeout always runs
    on the bench's clock.

    Args:
        expected: keys that must be pressed.
        debounce_s: two key_down events of one key closer than this are a bounce.
        release_s: a key held down longer than this is stuck.
    """

    expected: list[str]
    debounce_s: float
    release_s: float
    pressed: set[str] = field(default_factory=set)
    stuck: dict[str, str] = field(default_factory=dict)
    bounced: dict[str, float] = field(default_factory=dict)  # key -> smallest down-to-down gap (s)
    unexpected: set[str] = field(default_factory=set)
    down_since: dict[str, float] = field(default_factory=dict)  # bench clock
    last_down: dict[str, float] = field(default_factory=dict)  # event clock
    _unit_base: int | None = None

    def _event_time(self, event: UnitEvent) -> float:
        t_ms = event.data.get("t_ms")
        if isinstance(t_ms, int):
            if self._unit_base is None:
                self._unit_base = t_ms
            return ((t_ms - self._unit_base) & 0xFFFFFFFF) / 1000.0
        return event.received_at

    def spontaneous(self, event: UnitEvent) -> None:
        """A key event before anyone was asked to press a key: a key_down means a stuck key."""
        key = str(event.data.get("key", ""))
        if event.kind == "key_down":
            self.stuck.setdefault(key, "reported down before any key was pressed")
            self.down_since[key] = event.received_at
        elif event.kind == "key_up":
            self.down_since.pop(key, None)

    def feed(self, event: UnitEvent) -> str | None:
        """Take one event; return the key when it registered for the first time."""
        key = str(event.data.get("key", ""))
        if event.kind not in ("key_down", "key_up") or key in self.stuck:
            return None
        if key not in self.expected:
            self.unexpected.add(key)
        t = self._event_time(event)
        if event.kind == "key_up":
            self.down_since.pop(key, None)
            return None
        previous = self.last_down.get(key)
        if previous is not None and t - previous < self.debounce_s:
            gap = max(0.0, t - previous)
            self.bounced[key] = min(gap, self.bounced.get(key, gap))
        self.last_down[key] = t
        self.down_since.setdefault(key, event.received_at)
        new = key not in self.pressed
        self.pressed.add(key)
        return key if new else None

    def expire(self, now: float) -> None:
        """Keys held down longer than the release timeout are stuck."""
        for key, since in list(self.down_since.items()):
            if now - since > self.release_s and key not in self.stuck:
                self.stuck[key] = N_("pressed and never released (held over {seconds:g} s)", seconds=self.release_s)

    @property
    def missing(self) -> list[str]:
        """Expected keys that never registered (and are not known to be stuck)."""
        return [k for k in self.expected if k not in self.pressed and k not in self.stuck]

    @property
    def held(self) -> list[str]:
        """Keys down now that are not (yet) declared stuck."""
        return [k for k in self.down_since if k not in self.stuck]


def _drain(unit: Unit, seconds: float, tracker: KeyTracker) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        event = unit.next_event(min(_POLL_S, left))
        if event is not None and event.kind in ("key_down", "key_up"):
            tracker.spontaneous(event)


def all_keys(ctx: StepContext) -> None:
    """Ask the operator to press every key once; find dead, stuck and bouncing keys."""
    unit = ctx.unit
    layout = unit.keypad_enable(True)
    try:
        expected = [str(k) for k in ctx.params["keys"]] or list(layout)
        not_on_unit = [k for k in expected if k not in layout]
        if not_on_unit:
            ctx.note(f"keys the plan expects but the unit's layout lacks: {', '.join(not_on_unit)}")
        tracker = KeyTracker(expected, float(ctx.params["debounce_ms"]) / 1000.0,
                             float(ctx.params["release_timeout_s"]))
        _drain(unit, float(ctx.params["settle_s"]), tracker)
        ctx.operator.perform("press_keys", N_("Press every key once, in any order: {keys}", keys=" ".join(expected)),
                             keys=expected)
        _collect(ctx, unit, tracker)
    finally:
        with contextlib.suppress(BenchError):
            unit.keypad_enable(False)
    _judge(ctx, tracker)


def _collect(ctx: StepContext, unit: Unit, tracker: KeyTracker) -> None:
    start = time.monotonic()
    deadline = start + min(float(ctx.params["timeout_s"]), max(0.0, ctx.remaining() - 1.0))
    idle_s = float(ctx.params["idle_s"])
    last_activity = start
    last_progress = start
    reported = len(tracker.missing)
    while True:
        ctx.check_cancelled()
        now = time.monotonic()
        tracker.expire(now)
        if not tracker.missing and not tracker.held:
            break
        if now >= deadline:
            break
        if not tracker.held and now - last_activity > idle_s:
            ctx.note(f"no key pressed for {idle_s:g} s: giving up on the rest")
            break
        if now - last_progress >= _PROGRESS_S and len(tracker.missing) != reported:
            reported = len(tracker.missing)
            last_progress = now
            ctx.note(f"still waiting for: {' '.join(tracker.missing) or '(key releases)'}")
        event = unit.next_event(min(_POLL_S, max(0.0, deadline - now)))
        if event is None:
            continue
        if event.kind in ("key_down", "key_up"):
            last_activity = time.monotonic()
        key = tracker.feed(event)
        if key is not None:
            ctx.log.info("key %s registered; %d to go", key, len(tracker.missing))
    tracker.expire(time.monotonic())
    for key in tracker.held:
        tracker.stuck[key] = N_("still down when the test ended")


def _judge(ctx: StepContext, tracker: KeyTracker) -> None:
    dead = tracker.missing
    problems: list[tuple[str, str]] = []
    for key, why in tracker.stuck.items():
        problems.append(("KEY-STUCK", N_("key {key} stuck: {why}", key=key, why=why)))
    for key in dead:
        problems.append(("KEY-DEAD", N_("key {key} dead", key=key)))
    for key, gap in tracker.bounced.items():
        problems.append(("KEY-BOUNCE", N_("key {key} bounced: two key-downs {gap_ms:.0f} ms apart (debounce window "
                                          "{debounce_ms:g} ms)", key=key, gap_ms=gap * 1000,
                                          debounce_ms=ctx.params["debounce_ms"])))
    for _, text in problems:
        ctx.note(text)
    if tracker.unexpected:
        ctx.note(f"keys reported that the plan did not ask for: {', '.join(sorted(tracker.unexpected))}")
    ctx.measure("keys.expected", len(tracker.expected))
    ctx.measure("keys.registered", len([k for k in tracker.expected if k in tracker.pressed]))
    ctx.measure("keys.dead", len(dead))
    ctx.measure("keys.stuck", len(tracker.stuck))
    ctx.measure("keys.bouncing", len(tracker.bounced))
    if problems:
        ctx.fail(join_texts([text for _, text in problems], separator=";"), problems[0][0])


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "keypad.all_keys",
        all_keys,
        N_("operator presses every key once: dead, stuck and bouncing keys"),
        devices=("unit",),
        params={
            "keys": Param(list, [], N_("keys that must register (default: the unit's own layout)")),
            "timeout_s": Param((int, float), 60.0, N_("seconds the operator has to press every key")),
            "idle_s": Param((int, float), 10.0, N_("stop waiting when no key was pressed for this long")),
            "debounce_ms": Param((int, float), 30.0, N_("two key-downs of one key closer than this are a bounce")),
            "release_timeout_s": Param((int, float), 2.0, N_("a key down longer than this is stuck")),
            "settle_s": Param((int, float), 0.5, N_("listen this long before asking: a key down now is stuck")),
        },
        measurements={
            "keys.expected": None,
            "keys.registered": None,
            "keys.dead": Limit(max=0, fault="KEY-DEAD"),
            "keys.stuck": Limit(max=0, fault="KEY-STUCK"),
            "keys.bouncing": Limit(max=0, fault="KEY-BOUNCE"),
        },
        fault="KEY-DEAD",
    ),
)
