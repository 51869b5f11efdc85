"""A fake unit for small-piece tests of checks and the runner (the real unit is tested over a pty)."""

from __future__ import annotations

import time
import zlib
from collections import deque
from datetime import UTC, datetime

from drivers.interfaces import (
    BatteryStatus,
    CommsResult,
    DisplayChecksum,
    DisplayInfo,
    Identity,
    LogEntry,
    SelfTestResult,
    TamperState,
    Unit,
    UnitEvent,
)

KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "ENTER", "CANCEL", "CLEAR", "F1", "F2", "F3", "F4")


class FakeUnit(Unit):
    """Answers from fixed values; `closed` tells whether the runner closed it.

    Keypad, display and magstripe: ``events`` is the queue ``next_event`` serves (tests or
    operator actions put events in it, see :meth:`press` and :meth:`swipe`); ``frame`` is
    what the display holds, as bytes, set by ``display_pattern`` through ``render``.
    """

    url = "fake://"

    def __init__(self, model: str = "PT-300", **state: object) -> None:
        self.model = model
        self.closed = False
        self.firmware = str(state.get("firmware", "2.4.1"))
        self.post: list[SelfTestResult] = state.get("post", [  # type: ignore[assignment]
            SelfTestResult("ram", True, 0), SelfTestResult("flash", True, 0),
            SelfTestResult("rtc", True, 0), SelfTestResult("secure_element", True, 0)])
        self.batt: BatteryStatus = state.get("battery", BatteryStatus(4.0, 80, True, True))  # type: ignore[assignment]
        self.tamper_state: TamperState = state.get("tamper", TamperState(False, True))  # type: ignore[assignment]
        self.log: list[LogEntry] = state.get("log", [LogEntry(datetime.now(UTC), 1, "info")])  # type: ignore[assignment]
        self.comms: list[CommsResult] = state.get("comms", [CommsResult("ethernet", True, None, 12.0)])  # type: ignore[assignment]
        self.keys: tuple[str, ...] = tuple(state.get("keys", KEYS))  # type: ignore[arg-type]
        self.display: DisplayInfo = state.get("display", DisplayInfo(16, 4, 1, 2, 8, True, True))  # type: ignore[assignment]
        self.backlight_ma: float = float(state.get("backlight_ma", 30.0))  # type: ignore[arg-type]
        self.tracks: tuple[int, ...] = tuple(state.get("tracks", (1, 2)))  # type: ignore[arg-type]
        self.render = state.get("render")  # pattern -> frame bytes (default: the bench's own)
        self.events: deque[UnitEvent] = deque()
        self.keypad_on = self.msr_on = False
        self.pattern = "off"
        self.text: dict[tuple[int, int], str] = {}
        self.calls: list[str] = []

    def identify(self) -> Identity:
        return Identity(self.model, "SN1", "B", self.firmware, 1, frozenset(), 256)

    def self_test(self) -> list[SelfTestResult]:
        return list(self.post)

    def battery(self) -> BatteryStatus:
        return self.batt

    def tamper(self) -> TamperState:
        return self.tamper_state

    def event_log(self) -> list[LogEntry]:
        return list(self.log)

    def comms_test(self) -> list[CommsResult]:
        return list(self.comms)

    def reboot(self, wait: float = 10.0) -> Identity:
        return self.identify()

    def next_event(self, timeout: float) -> UnitEvent | None:
        if self.events:
            return self.events.popleft()
        time.sleep(min(timeout, 0.01))
        return None

    def keypad_enable(self, on: bool) -> tuple[str, ...]:
        self.calls.append(f"keypad {on}")
        self.keypad_on = on
        return self.keys

    def display_info(self) -> DisplayInfo:
        return self.display

    def display_write(self, row: int, column: int, text: str) -> None:
        self.text[(row, column)] = text

    def display_pattern(self, pattern: str) -> None:
        self.calls.append(f"pattern {pattern}")
        self.pattern = pattern

    def display_checksum(self) -> DisplayChecksum:
        from bench.checks.display import expected_frame

        d = self.display
        render = self.render or (lambda p: expected_frame(p, d.width, d.height, d.bits_per_pixel))
        return DisplayChecksum(zlib.crc32(render(self.pattern)), d.width, d.height)

    def display_backlight(self, level: int) -> float:
        self.calls.append(f"backlight {level}")
        return round(self.backlight_ma * level / 100, 1)

    def msr_enable(self, on: bool) -> tuple[int, ...]:
        self.calls.append(f"msr {on}")
        self.msr_on = on
        return self.tracks

    # -- helpers for tests: what a person does to the unit

    def key(self, kind: str, key: str, t_ms: int) -> None:
        """Queue one key event with the unit's timestamp."""
        self.events.append(UnitEvent(kind, {"key": key, "t_ms": t_ms}, time.monotonic()))

    def press(self, keys: list[str], *, dead: tuple[str, ...] = (), bouncing: tuple[str, ...] = (),
              held: tuple[str, ...] = ()) -> None:
        """Queue down/up events for each key, 150 ms apart; faulty keys behave as named."""
        t = 1000
        for k in keys:
            if k in dead:
                pass
            elif k in held:
                self.key("key_down", k, t)
            elif k in bouncing:
                self.key("key_down", k, t)
                self.key("key_up", k, t + 2)
                self.key("key_down", k, t + 5)
                self.key("key_up", k, t + 80)
            else:
                self.key("key_down", k, t)
                self.key("key_up", k, t + 80)
            t += 150

    def swipe(self, ok: bool, track1: str, track2: str, track3: str = "") -> None:
        """Queue a card_swipe event the way the driver hands it over (checked, no track data)."""
        from drivers.codecs.msr import summarize_swipe

        self.events.append(UnitEvent("card_swipe", {"ok": ok, "swipe": summarize_swipe(ok, track1, track2, track3)},
                                     time.monotonic()))

    def close(self) -> None:
        self.closed = True
