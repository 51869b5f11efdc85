"""One abstract class per device kind: the contract checks are written against.

Checks receive objects of these types and never learn whether they talk to a real unit over RS-232, a unit
behind ser2net, or the simulated unit on a pty. Drivers return the typed values below and raise our errors.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drivers.errors import DeviceError
from drivers.i18n import N_, join_texts

if TYPE_CHECKING:
    from drivers.firmware.image import FirmwareImage
    from drivers.fwproto import FwStatus, FwUpdateResult
    from drivers.txnproto import TxnRequest, TxnResult, TxnStage, UnitPrinterState

_TXN_TYPES = ("TxnRequest", "TxnResult", "TxnStage", "UnitPrinterState")


def __getattr__(name: str) -> Any:
    """The test-sale and firmware types, re-exported for checks, imported only when asked for (a run
    without a sale or an update does not pay for them at start-up)."""
    if name in _TXN_TYPES:
        from drivers import txnproto
        return getattr(txnproto, name)
    if name in ("FwStatus", "FwUpdateResult"):
        from drivers import fwproto
        return getattr(fwproto, name)
    if name == "FirmwareImage":
        from drivers.firmware import image
        return image.FirmwareImage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Pending:
    """A device call still waiting for the device: what for, for how long, and whose fault that is."""

    waiting_for: str  # "the card's answer to SELECT"
    seconds: float
    fault_code: str


class Device(abc.ABC):
    """An opened device with an explicit lifecycle (``close()`` or a ``with`` block)."""

    url: str
    #: True when several users may call it at once (a server every slot's unit reaches, such as the
    #: bench host): shared by a multi-up station's slots, it is used without taking turns.
    concurrent: ClassVar[bool] = False

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; calling it twice is harmless."""

    def pending(self) -> Pending | None:
        """The call this device is blocked in, if any; asked (from another thread) when a step times out.

        Drivers whose calls can outlast a step override it, so the timeout names the device at fault.
        """
        return None

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


@dataclass(frozen=True)
class DisplayInfo:
    """The display's geometry and what it can report about itself (DISPLAY_INFO)."""

    width: int  # pixels
    height: int  # pixels
    bits_per_pixel: int  # 1 (monochrome) or 16 (RGB565)
    text_rows: int
    text_columns: int
    checksum: bool  # the unit answers DISPLAY_CHECKSUM
    backlight_sense: bool  # the unit measures its backlight current

    @property
    def colour(self) -> bool:
        """True for a colour display (more than one bit per pixel)."""
        return self.bits_per_pixel > 1


@dataclass(frozen=True)
class DisplayChecksum:
    """CRC-32 of the unit's frame buffer as the unit computed it, with the geometry it used."""

    crc32: int
    width: int
    height: int


@dataclass(frozen=True)
class TrackRead:
    """What the bench found in one magstripe track. Never holds the track data itself."""

    track: int  # 1, 2 or 3
    present: bool  # the unit sent data for this track
    format_ok: bool  # sentinels, separators and field sizes as ISO 7813 says
    lrc_ok: bool  # the LRC character the unit sent matches the bench's own
    length: int = 0  # characters, sentinels and LRC included
    problem: str = ""  # why format_ok or lrc_ok is False, in words (no track data)


@dataclass(frozen=True)
class MsrSwipe:
    """A card swipe as the bench keeps it: verdicts per track and the masked PAN only.

    The raw track data is checked when the event arrives and dropped (PCI DSS: track
    data is never stored), so this object is safe to log, record and report.
    """

    unit_ok: bool  # the unit's own status byte said "read ok"
    tracks: tuple[TrackRead, ...] = ()
    masked_pan: str = ""  # first six and last four digits (drivers.codecs.pan.mask_pan)
    pan_luhn_ok: bool = False
    pans_agree: bool = True  # track 1 and track 2 carry the same PAN (when both were read)

    def track(self, number: int) -> TrackRead | None:
        """The result for track ``number``, or None when the event had no such track."""
        return next((t for t in self.tracks if t.track == number), None)


class Unit(Device):
    """The POS unit's diagnostic command set (see docs/protocol.md)."""

    def link_counters(self) -> dict[str, int]:
        """Counters of the link to the unit since it was opened (frames, NAKs, resends, lost events).

        Empty when the driver keeps none. The names are those of :class:`drivers.link.LinkStats`.
        """
        return {}

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
        """Return the next unsolicited event, or None when none arrives within ``timeout``.

        Key events carry ``{"key": name, "t_ms": unit clock}``; a ``card_swipe`` carries
        ``{"ok": bool, "swipe": MsrSwipe}`` and never the raw track data.
        """

    @abc.abstractmethod
    def keypad_enable(self, on: bool) -> tuple[str, ...]:
        """Turn keypad test mode on or off (key events go to the bench); return the key layout."""

    @abc.abstractmethod
    def display_info(self) -> DisplayInfo:
        """The display's geometry, colour depth and self-measurement capabilities."""

    @abc.abstractmethod
    def display_write(self, row: int, column: int, text: str) -> None:
        """Write ``text`` at a text row and column."""

    @abc.abstractmethod
    def display_pattern(self, pattern: str) -> None:
        """Fill the display with a test pattern (``off``, ``on``, ``checkerboard``, ``stripes``, ``colour_bars``)."""

    @abc.abstractmethod
    def display_checksum(self) -> DisplayChecksum:
        """CRC-32 of the frame buffer (LINK-UNSUPPORTED DeviceError when the unit cannot)."""

    @abc.abstractmethod
    def display_backlight(self, level: int) -> float:
        """Set the backlight to ``level`` percent; return the measured backlight current in mA."""

    @abc.abstractmethod
    def msr_enable(self, on: bool) -> tuple[int, ...]:
        """Arm (or disarm) the magstripe reader; return the track numbers its head reads."""

    def sale(self, request: TxnRequest, timeout: float,
             on_stage: Callable[[TxnStage], None] | None = None) -> TxnResult:
        """Run one test sale (docs/protocol.md §5a) and return the unit's result.

        ``on_stage`` is called with each ``txn_stage`` event as it arrives. Raises DeviceError
        ``TXN-TIMEOUT`` when no result came within ``timeout`` seconds, ``LINK-UNSUPPORTED`` when the
        unit has no ``txn`` capability, ``LINK-REBOOT`` when it reset during the sale.
        """
        raise _unsupported(self, N_("test transactions"))

    def txn_status(self, txn_id: int) -> TxnResult:
        """Ask the unit again for the result of sale ``txn_id`` (outcome ``running`` or ``unknown`` too)."""
        raise _unsupported(self, N_("test transactions"))

    def printer_status(self) -> UnitPrinterState:
        """The unit's own receipt printer: paper, cover, head temperature, receipts printed."""
        raise _unsupported(self, N_("its printer's status"))

    def firmware_status(self) -> FwStatus:
        """The unit's update state (docs/protocol.md §5b): a transfer pending, the running version, the last result."""
        raise _unsupported(self, N_("firmware updates"))

    def firmware_update(self, image: FirmwareImage, *, allow_downgrade: bool = False,
                        trusted: Mapping[bytes, bytes] | None = None,
                        progress: Callable[[int, int], None] | None = None, wait: float = 30.0) -> FwUpdateResult:
        """Flash ``image``, commit, wait for the restart (§5b; refusals: :meth:`drivers.unit.UnitClient.firmware_update`)."""
        raise _unsupported(self, N_("firmware updates"))

    def config_read(self) -> dict[str, str]:
        """The unit's settings (docs/protocol.md §5c): flat key -> value, ``""`` when not set."""
        raise _unsupported(self, N_("configuration"))

    def config_write(self, settings: Mapping[str, str]) -> dict[str, str]:
        """Write settings; per key ``written``, ``unknown key``, ``read-only`` or ``invalid value: why``."""
        raise _unsupported(self, N_("configuration"))


def _unsupported(unit: Unit, what: str) -> Exception:
    return DeviceError(N_("this unit driver cannot do {what}", what=what), fault_code="LINK-UNSUPPORTED")


# --------------------------------------------------------------------------- card reader


@dataclass(frozen=True)
class CardInfo:
    """A card as the reader sees it after power-on: its ATR and the negotiated protocol."""

    reader: str
    atr: bytes
    protocol: str  # "T=0", "T=1" or "" when not connected


@dataclass(frozen=True)
class ApduResponse:
    """A response APDU: data and status word (after GET RESPONSE / Le re-issue)."""

    data: bytes
    sw1: int
    sw2: int
    exchanges: int = 1  # how many APDUs went over the wire to get it

    @property
    def sw(self) -> int:
        """The status word as one integer (``0x9000``)."""
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        """True for ``9000``."""
        return self.sw == 0x9000


@dataclass(frozen=True)
class CardEvent:
    """A change seen on a reader: ``inserted``, ``removed`` or ``mute`` (card present, no ATR)."""

    kind: str
    reader: str
    atr: bytes = b""
    at: float = 0.0  # time.monotonic() on the bench when it was seen


class CardReader(Device):
    """A contact or contactless card reader (PC/SC), with one card slot."""

    reader_name: str

    @abc.abstractmethod
    def list_readers(self) -> list[str]:
        """Names of every reader the card service lists now."""

    @abc.abstractmethod
    def card_present(self) -> bool:
        """True when a card (even a mute one) is in the reader now."""

    @abc.abstractmethod
    def wait_for_insert(self, timeout: float) -> float:
        """Wait for a card; return seconds waited (0.0 when already present); CardError on timeout."""

    @abc.abstractmethod
    def wait_for_remove(self, timeout: float) -> float:
        """Wait until the reader is empty; return seconds waited; CardError on timeout."""

    @abc.abstractmethod
    def wait_for_change(self, timeout: float) -> CardEvent | None:
        """The next insert/remove on this reader, or None when nothing changes within ``timeout``."""

    @abc.abstractmethod
    def connect(self, timeout: float = 5.0) -> CardInfo:
        """Wait up to ``timeout`` for a card, power it and negotiate T=0 or T=1."""

    @abc.abstractmethod
    def transmit(self, apdu: bytes, timeout: float = 5.0) -> ApduResponse:
        """Send a command APDU; ``61xx`` and ``6Cxx`` are handled here, so callers see the final answer."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Release the card (unpowered); harmless when not connected."""


# --------------------------------------------------------------------------- printer

_CONDITION_WORDS: dict[str, str] = {
    "cover_open": N_("cover open"),
    "paper_end": N_("paper end"),
    "paper_near_end": N_("paper near end"),
    "cutter_error": N_("autocutter error"),
    "auto_recoverable_error": N_("head overheated (auto-recoverable error)"),
    "unrecoverable_error": N_("unrecoverable error"),
    "recoverable_error": N_("recoverable error"),
    "offline": N_("offline"),
    "feed_button": N_("feed button pressed"),
    "paper_feeding": N_("paper being fed by the feed button"),
    "waiting_online_recovery": N_("waiting for online recovery"),
    "stopped_by_paper_end": N_("printing stopped by paper end"),
    "error": N_("error occurred"),
}


@dataclass(frozen=True)
class PrinterStatus:
    """Real-time status of an ESC/POS printer (``DLE EOT 1..4``), one named flag per condition.

    ``raw`` holds the four status bytes as received (empty when the transport has none).
    """

    offline: bool = False
    cover_open: bool = False
    paper_end: bool = False
    paper_near_end: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False  # head overheat
    recoverable_error: bool = False
    feed_button: bool = False
    paper_feeding: bool = False  # paper being fed by the feed button
    waiting_online_recovery: bool = False
    stopped_by_paper_end: bool = False
    error: bool = False  # "an error occurred" summary bit of the offline cause
    drawer_pin3: bool = False
    raw: bytes = b""

    @property
    def conditions(self) -> tuple[str, ...]:
        """Names of the flags that are set (the drawer pin is not a condition)."""
        skip = {"raw", "drawer_pin3"}
        return tuple(
            name for name in self.__dataclass_fields__ if name not in skip and getattr(self, name) is True
        )

    def describe(self) -> str:
        """The conditions in words, e.g. ``"offline, cover open"`` (``"ready"`` when none)."""
        return join_texts([_CONDITION_WORDS.get(c, c) for c in self.conditions]) or N_("ready")

    @property
    def ready(self) -> bool:
        """True when the printer can print now (online, no error, paper present, cover closed)."""
        return not (
            self.offline or self.cover_open or self.paper_end or self.cutter_error or self.unrecoverable_error
            or self.auto_recoverable_error or self.recoverable_error or self.error
        )


@dataclass(frozen=True)
class PrinterIdentity:
    """Who the printer says it is (``GS I``, and the IEEE 1284 device ID on USB)."""

    manufacturer: str
    model: str
    firmware: str
    serial: str = ""
    device_id: str = ""  # IEEE 1284 "MFG:...;MDL:...;CMD:...;" when the transport has one


class Printer(Device):
    """An ESC/POS receipt printer (USB, serial, or built into the unit)."""

    @abc.abstractmethod
    def write(self, data: bytes, timeout: float = 10.0) -> None:
        """Send ESC/POS bytes; a printer that stops accepting them raises a PrinterError in ``timeout``."""

    @abc.abstractmethod
    def status(self, timeout: float = 2.0) -> PrinterStatus:
        """Real-time status (``DLE EOT 1..4``), answered even when the printer is offline."""

    @abc.abstractmethod
    def identify(self, timeout: float = 2.0) -> PrinterIdentity:
        """Manufacturer, model, firmware and serial (``GS I``)."""

    @abc.abstractmethod
    def wait_printed(self, timeout: float = 10.0) -> None:
        """Return once everything sent so far was processed; PrinterError when not within ``timeout``."""
