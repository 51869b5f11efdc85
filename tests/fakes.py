"""A fake unit for small-piece tests of checks and the runner (the real unit is tested over a pty)."""

from __future__ import annotations

from datetime import UTC, datetime

from drivers.interfaces import (
    BatteryStatus,
    CommsResult,
    Identity,
    LogEntry,
    SelfTestResult,
    TamperState,
    Unit,
    UnitEvent,
)


class FakeUnit(Unit):
    """Answers from fixed values; `closed` tells whether the runner closed it."""

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
        return None

    def close(self) -> None:
        self.closed = True
