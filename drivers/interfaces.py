"""One abstract class per device kind: the contract checks are written against.

Checks receive objects of these types and never learn whether they talk to a real
unit over RS-232, a unit behind ser2net, or the simulated unit on a pty. Drivers
return the typed values below and raise :mod:`bench.errors` exceptions.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self


class Device(abc.ABC):
    """An opened device with an explicit lifecycle (``close()`` or a ``with`` block)."""

    url: str

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; calling it twice is harmless."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- unit


@dataclass(frozen=True)
class Identity:
    """Who the unit says it is, from the capability/version handshake."""

    model: str
    serial: str
    hw_revision: str
    firmware: str
    protocol_version: int
    capabilities: frozenset[str]
    max_payload: int


@dataclass(frozen=True)
class SelfTestResult:
    """One subsystem's power-on self-test result (``code`` 0 means passed)."""

    subsystem: str
    passed: bool
    code: int
    detail: str = ""


@dataclass(frozen=True)
class BatteryStatus:
    """Battery and power-adapter readings."""

    voltage: float  # volts
    charge_percent: int
    charging: bool
    adapter_present: bool


@dataclass(frozen=True)
class TamperState:
    """Security state: a tampered unit has erased its keys and locked itself."""

    tampered: bool
    keys_present: bool
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogEntry:
    """One entry of the unit's event log."""

    timestamp: datetime  # timezone-aware, UTC
    code: int
    severity: str  # "info", "warning", "error"
    text: str = ""


@dataclass(frozen=True)
class CommsResult:
    """One network interface's self-test result."""

    interface: str  # "ethernet", "wifi", "cellular"
    link: bool
    signal_dbm: int | None
    rtt_ms: float | None


@dataclass(frozen=True)
class UnitEvent:
    """An unsolicited event from the unit (key press, card swipe, ...)."""

    kind: str
    data: dict[str, object] = field(default_factory=dict)
    received_at: float = 0.0  # time.monotonic() on the bench when it arrived


class Unit(Device):
    """The POS unit's diagnostic command set (see docs/protocol.md)."""

    @abc.abstractmethod
    def identify(self) -> Identity:
        """Model, serial, hardware revision, firmware version and capabilities."""

    @abc.abstractmethod
    def self_test(self) -> list[SelfTestResult]:
        """Power-on self-test results, one per subsystem."""

    @abc.abstractmethod
    def battery(self) -> BatteryStatus:
        """Battery voltage, charge, charging state and adapter presence."""

    @abc.abstractmethod
    def tamper(self) -> TamperState:
        """Tamper and key state."""

    @abc.abstractmethod
    def event_log(self) -> list[LogEntry]:
        """Download the whole event log (chunked transfer)."""

    @abc.abstractmethod
    def comms_test(self) -> list[CommsResult]:
        """Run the network self-test on every interface the unit has."""

    @abc.abstractmethod
    def reboot(self, wait: float = 10.0) -> Identity:
        """Reboot the unit, wait up to ``wait`` seconds for it to come back, return its identity."""

    @abc.abstractmethod
    def next_event(self, timeout: float) -> UnitEvent | None:
        """Return the next unsolicited event, or None when none arrives within ``timeout``."""
