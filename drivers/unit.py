"""The POS unit's diagnostic command set over :class:`drivers.link.Link` (docs/protocol.md).

``open_unit(url)`` opens the link and does the HELLO handshake; the returned
:class:`UnitClient` implements :class:`drivers.interfaces.Unit`. A BOOT event that
arrives outside :meth:`UnitClient.reboot` means the unit reset by itself: the call
during which it is noticed raises DeviceError LINK-REBOOT.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drivers import unitproto as up
from drivers.codecs.linkframe import MAX_PAYLOAD, MIN_PAYLOAD
from drivers.codecs.msr import summarize_swipe
from drivers.codecs.pan import redact
from drivers.errors import BenchError, DeviceError, LinkTimeout, ProtocolError
from drivers.i18n import N_
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
from drivers.link import Link, LinkStats, ReceivedEvent

if TYPE_CHECKING:  # the sale and firmware codecs are imported when a sale, its event or an update comes
    from drivers.firmware.image import FirmwareImage
    from drivers.fwproto import FwStatus, FwUpdateResult
    from drivers.txnproto import TxnRequest, TxnResult, TxnStage, UnitPrinterState

_LOG = logging.getLogger(__name__)


def _is_boot(payload: bytes) -> bool:
    return bool(payload) and payload[0] == up.EV_BOOT


def _is_txn(payload: bytes) -> bool:
    return bool(payload) and payload[0] in (up.EV_TXN_STAGE, up.EV_TXN_RESULT)


def parse_identity(payload: bytes) -> Identity:
    """Decode a HELLO answer."""
    r = up.Reader(payload, "HELLO")
    version, max_payload = r.u8(), r.u16()
    model, serial, hw_revision, firmware = r.str(), r.str(), r.str(), r.str()
    caps = frozenset(r.str() for _ in range(r.u8()))
    return Identity(model, serial, hw_revision, firmware, version, caps, max_payload)


def parse_event(event: ReceivedEvent) -> UnitEvent:
    """Decode an event payload into a :class:`UnitEvent`; unknown kinds keep their raw bytes."""
    payload = event.payload
    if not payload:
        raise ProtocolError(N_("empty event payload"))
    code = payload[0]
    kind = up.EVENT_NAMES.get(code, "unknown")
    r = up.Reader(payload[1:], f"{kind} event")
    data: dict[str, object]
    if kind == "boot":
        reason = r.u8()
        data = {
            "reason": up.BOOT_REASONS[reason] if reason < len(up.BOOT_REASONS) else f"0x{reason:02X}",
            "boot_count": r.u32(),
            "firmware": r.str(),
        }
    elif kind in ("key_down", "key_up"):
        data = {"key": r.str()}
        if not r.done:
            data["t_ms"] = r.u32()  # the unit's millisecond clock at the key edge
    elif kind == "card_swipe":
        # The tracks are checked here and dropped: only verdicts and the masked PAN go on.
        ok = r.u8() == 0
        data = {"ok": ok, "swipe": summarize_swipe(ok, r.str(), r.str(), r.str())}
    elif kind == "tamper":
        data = {"tampered": bool(r.u8())}
    elif kind == "power":
        data = {"adapter_present": bool(r.u8()), "charge_percent": r.u8()}
    elif kind == "txn_stage":
        from drivers import txnproto as tp

        stage = tp.decode_txn_stage(payload)
        data = {"txn_id": stage.txn_id, "stage": stage.stage, "elapsed_ms": stage.elapsed_ms}
    elif kind == "txn_result":
        # What the unit says about the sale; the receipt lines are masked by the unit, only counted here.
        from drivers import txnproto as tp

        res = tp.decode_txn_result(payload)
        data = {"txn_id": res.txn_id, "outcome": res.outcome, "response_code": res.response_code,
                "cause": res.cause, "masked_pan": redact(res.masked_pan), "aid": res.aid,
                "interface": res.interface, "stan": res.stan, "flags": res.flags, "receipt_lines": len(res.receipt)}
    else:
        data = {"code": code, "raw": payload[1:].hex()}
    return UnitEvent(kind, data, event.received_at)


def parse_log(image: bytes) -> list[LogEntry]:
    """Decode a whole event-log image (concatenated records) into entries."""
    r = up.Reader(image, "event log")
    entries = []
    while not r.done:
        stamp, code, severity, text = r.u32(), r.u16(), r.u8(), r.str()
        if severity >= len(up.SEVERITIES):
            raise ProtocolError(N_("event log: unknown severity {severity}", severity=severity))
        entries.append(LogEntry(datetime.fromtimestamp(stamp, UTC), code, up.SEVERITIES[severity], text))
    return entries


class UnitClient(Unit):
    """A unit reached over the link; every method is one (or, for the log, several) commands."""

    def __init__(self, link: Link) -> None:
        self.url = link.url
        self.link = link
        self._log = _LOG.getChild(link.url)
        self._identity: Identity | None = None
        self._boots_seen = 0
        self._host_max = max(MIN_PAYLOAD, min(MAX_PAYLOAD, link.max_payload))  # what we announce in HELLO

    # ------------------------------------------------------------------ plumbing

    @property
    def stats(self) -> LinkStats:
        """Link counters (retransmissions, NAKs, CRC errors, resyncs, ...)."""
        return self.link.stats

    def link_counters(self) -> dict[str, int]:
        """The link's counters as a plain dict (see :class:`drivers.link.LinkStats`)."""
        return self.stats.as_dict()

    @property
    def identity(self) -> Identity | None:
        """The identity from the last handshake."""
        return self._identity

    def close(self) -> None:
        """Close the link (safe from another thread)."""
        self.link.close()

    def _call(self, command: int, payload: bytes = b"", **options: Any) -> bytes:
        name = up.COMMAND_NAMES.get(command, f"0x{command:02X}")
        answer = self.link.request(command, payload, name=name, **options)
        self._check_reboot(name)
        return answer.payload

    def _check_reboot(self, during: str) -> None:
        for event in self.link.pending_events():
            if event.index > self._boots_seen and _is_boot(event.payload):
                raise self._rebooted(event, during)

    def _rebooted(self, event: ReceivedEvent, during: str) -> DeviceError:
        """The LINK-REBOOT error for an unexpected BOOT ``event`` (which counts as seen from now on)."""
        self._boots_seen = max(self._boots_seen, event.index)
        self._identity = None
        info = parse_event(event).data
        return DeviceError(
            N_("the unit restarted by itself during {during} (reason: {info})", during=during, info=info['reason']),
            fault_code="LINK-REBOOT",
            detail=f"unit on {self.url}: BOOT event, reason {info['reason']}, boot #{info['boot_count']}",
        )

    def _forget_boots(self) -> None:
        for event in self.link.pending_events():
            if _is_boot(event.payload):
                self._boots_seen = max(self._boots_seen, event.index)

    def handshake(self, **options: Any) -> Identity:
        """Send HELLO, check the protocol version, agree on the payload size, return the identity.

        Both ends announce the largest payload they take; both then use the larger of the two
        that both take, ``min(ours, the unit's)`` (docs/protocol.md §5, HELLO).
        """
        payload = up.Writer().u8(up.PROTOCOL_VERSION).u16(self._host_max).bytes()
        answer = self.link.request(up.CMD_HELLO, payload, name="HELLO", **options)
        identity = parse_identity(answer.payload)
        if identity.protocol_version != up.PROTOCOL_VERSION:
            raise DeviceError(
                N_("the unit's firmware speaks diagnostic protocol {protocol_version}; this bench speaks {PROTOCOL_VERSION}", protocol_version=identity.protocol_version, PROTOCOL_VERSION=up.PROTOCOL_VERSION),
                fault_code="LINK-UNSUPPORTED",
                detail=f"HELLO from unit on {self.url}: protocol version {identity.protocol_version}",
            )
        self.link.max_payload = max(MIN_PAYLOAD, min(self._host_max, identity.max_payload))
        self._identity = identity
        self._log.debug("unit %s %s firmware %s", identity.model, identity.serial, identity.firmware)
        return identity

    # ------------------------------------------------------------------ the Unit contract

    def identify(self) -> Identity:
        """Model, serial, hardware revision, firmware and capabilities (a fresh HELLO)."""
        identity = self.handshake()
        self._check_reboot("HELLO")
        return identity

    def ping(self, data: bytes = b"") -> bytes:
        """Echo ``data`` through the unit (link check)."""
        return self._call(up.CMD_PING, data)

    def self_test(self) -> list[SelfTestResult]:
        """Power-on self-test results, one per subsystem."""
        r = up.Reader(self._call(up.CMD_SELF_TEST), "SELF_TEST")
        results = []
        for _ in range(r.u8()):
            subsystem, code, detail = r.str(), r.u16(), r.str()
            results.append(SelfTestResult(subsystem, code == 0, code, detail))
        return results

    def battery(self) -> BatteryStatus:
        """Battery voltage, charge, charging state and adapter presence."""
        r = up.Reader(self._call(up.CMD_BATTERY), "BATTERY")
        millivolts, percent, flags = r.u16(), r.u8(), r.u8()
        return BatteryStatus(
            millivolts / 1000.0, percent, bool(flags & up.BATT_CHARGING), bool(flags & up.BATT_ADAPTER)
        )

    def tamper(self) -> TamperState:
        """Tamper and key state."""
        r = up.Reader(self._call(up.CMD_TAMPER), "TAMPER")
        flags = r.u8()
        names = tuple(r.str() for _ in range(r.u8()))
        return TamperState(bool(flags & up.TAMPER_TAMPERED), bool(flags & up.TAMPER_KEYS_PRESENT), names)

    def comms_test(self) -> list[CommsResult]:
        """Network self-test of every interface (the unit may ACK first and answer later)."""
        r = up.Reader(self._call(up.CMD_COMMS_TEST), "COMMS_TEST")
        results = []
        for _ in range(r.u8()):
            name, link, signal, rtt = r.str(), r.u8(), r.i16(), r.u32()
            results.append(
                CommsResult(
                    name,
                    bool(link),
                    None if signal == up.SIGNAL_NONE else signal,
                    None if rtt == up.RTT_NONE else rtt / 1000.0,
                )
            )
        return results

    def event_log_bytes(self) -> bytes:
        """Download the raw event-log image by offset, restarting if the log changes meanwhile."""
        chunk = self.link.max_payload - up.LOG_READ_HEADER
        for _attempt in range(3):
            image = bytearray()
            generation: int | None = None
            total = 0
            while generation is None or len(image) < total:
                request = up.Writer().u32(len(image)).u16(chunk).bytes()
                r = up.Reader(self._call(up.CMD_LOG_READ, request), "LOG_READ")
                gen, total, offset, data = r.u32(), r.u32(), r.u32(), r.rest()
                if generation is None:
                    generation = gen
                elif gen != generation:
                    break  # the log changed under us: start again
                if offset != len(image) or (not data and len(image) < total):
                    raise ProtocolError(
                        N_("LOG_READ: asked offset {image_len}, got offset {offset} with {data_len} bytes", image_len=len(image), offset=offset, data_len=len(data))
                    )
                image += data
            else:
                return bytes(image[:total])
        raise DeviceError(
            N_("the unit's event log kept changing while the bench read it"), fault_code="UNIT-FAULT",
            detail=f"LOG_READ from unit on {self.url}: generation changed on every try",
        )

    def event_log(self) -> list[LogEntry]:
        """Download and decode the whole event log, oldest first."""
        return parse_log(self.event_log_bytes())

    def reboot(self, wait: float = 10.0) -> Identity:
        """Reboot, wait up to ``wait`` s for the BOOT event and a handshake, return the new identity.

        Raises:
            LinkTimeout: the unit did not come back within ``wait`` seconds.
        """
        deadline = time.monotonic() + wait
        self._forget_boots()
        try:
            self.link.request(up.CMD_REBOOT, name="REBOOT")
        except (LinkTimeout, ProtocolError) as exc:
            # The answer may have been lost while the unit was already going down: wait anyway.
            self._log.debug("REBOOT answer lost (%s); waiting for the unit to come back", exc)
        return self.await_boot(deadline, wait, "REBOOT")[0]

    def await_boot(self, deadline: float, wait: float, after: str) -> tuple[Identity, UnitEvent | None]:
        """Wait until ``deadline`` for the unit to come back from a restart; handshake; return the identity
        and the BOOT event (None when the event was lost and a HELLO found the unit back, §7).

        Raises:
            LinkTimeout: the unit did not come back in time.
        """
        last_try = time.monotonic()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self.link.next_event(min(remaining, 1.0), match=_is_boot)
            if event is not None and event.index <= self._boots_seen:
                continue  # a restart already dealt with (a power cut the caller recovered from)
            if event is not None:
                self._boots_seen = max(self._boots_seen, event.index)
                self._forget_boots()
                return self.handshake(), parse_event(event)
            if time.monotonic() - last_try >= 1.0 and deadline - time.monotonic() > 0.2:
                # The BOOT event may have been lost: a quick HELLO tells whether the unit is back.
                last_try = time.monotonic()
                try:
                    identity = self.handshake(retries=0, timeout=min(0.3, deadline - last_try))
                except BenchError:
                    continue
                # The BOOT event went out just before the HELLO answer: take it off the queue, or
                # the caller would read it as a second restart.
                late_event = None
                while (late := self.link.next_event(0, match=_is_boot)) is not None:
                    if late.index > self._boots_seen:
                        late_event = late
                    self._boots_seen = max(self._boots_seen, late.index)
                return identity, None if late_event is None else parse_event(late_event)
        raise LinkTimeout(N_("the unit did not come back within {round:g} s of being restarted", round=round(wait, 1)),
                          detail=f"unit on {self.url}: no BOOT event or HELLO answer within {round(wait, 1):g} s of {after}")

    def next_event(self, timeout: float) -> UnitEvent | None:
        """Return the next unsolicited event, or None when none arrives within ``timeout``."""
        event = self.link.next_event(timeout)
        if event is None:
            return None
        if _is_boot(event.payload):
            self._boots_seen = max(self._boots_seen, event.index)
        return parse_event(event)

    # ------------------------------------------------------------------ keypad, display, magstripe

    def keypad_enable(self, on: bool) -> tuple[str, ...]:
        """Turn keypad test mode on or off; return the unit's key layout."""
        return up.decode_key_layout(self._call(up.CMD_KEYPAD_ENABLE, bytes((1 if on else 0,))))

    def display_info(self) -> DisplayInfo:
        """The display's geometry, colour depth and what it can measure."""
        width, height, bpp, rows, columns, flags = up.decode_display_info(self._call(up.CMD_DISPLAY_INFO))
        return DisplayInfo(
            width, height, bpp, rows, columns,
            bool(flags & up.DISPLAY_FLAG_CHECKSUM), bool(flags & up.DISPLAY_FLAG_BACKLIGHT_SENSE),
        )

    def display_write(self, row: int, column: int, text: str) -> None:
        """Write ``text`` at a text row and column."""
        self._call(up.CMD_DISPLAY_WRITE, up.encode_display_write(row, column, text))

    def display_pattern(self, pattern: str) -> None:
        """Fill the display with a named test pattern."""
        self._call(up.CMD_DISPLAY_PATTERN, up.encode_display_pattern(pattern))

    def display_checksum(self) -> DisplayChecksum:
        """CRC-32 of the frame buffer as the unit computes it."""
        return DisplayChecksum(*up.decode_display_checksum(self._call(up.CMD_DISPLAY_CHECKSUM)))

    def display_backlight(self, level: int) -> float:
        """Set the backlight level (percent); return the measured backlight current in mA."""
        if not 0 <= level <= 100:
            raise ValueError(f"backlight level must be 0..100 %, got {level}")
        return up.decode_backlight_answer(self._call(up.CMD_DISPLAY_BACKLIGHT, bytes((level,))))

    def msr_enable(self, on: bool) -> tuple[int, ...]:
        """Arm or disarm the magstripe reader; return the tracks its head reads."""
        return up.decode_msr_tracks(self._call(up.CMD_MSR_ENABLE, bytes((1 if on else 0,))))

    # ------------------------------------------------------------------ test sales, receipt printer

    def sale(self, request: TxnRequest, timeout: float,
             on_stage: Callable[[TxnStage], None] | None = None) -> TxnResult:
        """Run one test sale (docs/protocol.md §5a) and return the unit's result.

        Sends TXN_START, then waits for the ``txn_result`` event of this sale, calling ``on_stage``
        with each of its ``txn_stage`` events. Events of other sales (a sale given up on earlier)
        are dropped; other events stay queued for :meth:`next_event`. Without a result in
        ``timeout`` seconds the unit is asked once with TXN_STATUS (the event may have been lost).

        Raises:
            DeviceError: TXN-TIMEOUT (no result in time), LINK-REBOOT (the unit reset during the
                sale), UNIT-FAULT (busy: a sale runs already), LINK-UNSUPPORTED (no ``txn``).
            ProtocolError: the unit refused the request (an unknown card, a bad amount).
        """
        from drivers import txnproto as tp

        deadline = time.monotonic() + timeout
        self._forget_stale_txn_events()
        txn_id = tp.decode_txn_accepted(self._call(up.CMD_TXN_START, tp.encode_txn_start(request)))
        label = f"sale {txn_id}"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self.link.next_event(remaining, match=lambda p: _is_txn(p) or _is_boot(p))
            if event is None:
                break
            payload = event.payload
            if _is_boot(payload):
                if event.index > self._boots_seen:
                    raise self._rebooted(event, label)
                continue
            if payload[0] == up.EV_TXN_STAGE:
                stage = tp.decode_txn_stage(payload)
                if stage.txn_id == txn_id and on_stage is not None:
                    on_stage(stage)
                continue
            result = tp.decode_txn_result(payload)
            if result.txn_id == txn_id:
                return result
        result = self.txn_status(txn_id)
        if result.outcome not in ("running", "unknown"):
            self._log.info("%s: result event lost, TXN_STATUS answered %s", label, result.outcome)
            return result
        raise DeviceError(
            N_("the unit gave no result for {label} within {timeout:g} s", label=label, timeout=timeout),
            fault_code="TXN-TIMEOUT",
            detail=f"unit on {self.url}: no txn_result event for {label} in {timeout:g} s; TXN_STATUS: {result.outcome}",
        )

    def _forget_stale_txn_events(self) -> None:
        """Drop the events of sales no longer waited for, so they cannot pile up."""
        while self.link.next_event(0, match=_is_txn) is not None:
            pass

    def txn_status(self, txn_id: int) -> TxnResult:
        """Ask the unit again for the result of sale ``txn_id`` (outcome ``running`` or ``unknown`` too)."""
        from drivers import txnproto as tp

        return tp.decode_txn_result(self._call(up.CMD_TXN_STATUS, tp.encode_txn_status(txn_id)), event=False)

    def printer_status(self) -> UnitPrinterState:
        """The unit's own receipt printer: paper, cover, head temperature, receipts printed."""
        from drivers import txnproto as tp

        return tp.decode_printer_state(self._call(up.CMD_PRINTER_STATUS))

    # ------------------------------------------------------------------ configuration (§5c), firmware updates (§5b)

    def config_read(self) -> dict[str, str]:
        """Every setting the unit reports, flat key -> value (``""``: not set) (:func:`drivers.unitconfig.read`)."""
        from drivers.unitconfig import read

        return read(self)

    def config_write(self, settings: Mapping[str, str]) -> dict[str, str]:
        """Write settings; each key's result (:func:`drivers.unitconfig.write`)."""
        from drivers.unitconfig import write

        return write(self, settings)

    def firmware_status(self) -> FwStatus:
        """The unit's update state: a transfer pending (``.pending``), the running version, the last result."""
        from drivers.fwproto import FwStatus

        return FwStatus.decode(self._call(up.CMD_FW_STATUS))

    def firmware_update(self, image: FirmwareImage, *, allow_downgrade: bool = False,
                        trusted: Mapping[bytes, bytes] | None = None,
                        progress: Callable[[int, int], None] | None = None, wait: float = 30.0) -> FwUpdateResult:
        """Flash ``image`` over the link, commit, wait for the restart (:func:`drivers.unitfirmware.update`)."""
        from drivers.unitfirmware import update

        return update(self, image, allow_downgrade=allow_downgrade, trusted=trusted, progress=progress, wait=wait)


def open_unit(url: str, **options: Any) -> UnitClient:
    """Open the link on ``url`` and do the handshake.

    Args:
        url: any pyserial URL or device path.
        **options: passed to :class:`drivers.link.Link` (``baudrate``, ``timeout``,
            ``retries``, ``busy_timeout``, ``max_payload``).

    Raises:
        EquipmentError: BENCH-PORT when the port cannot be opened.
        LinkTimeout, ProtocolError, DeviceError: the unit does not answer the handshake properly.
    """
    link = Link(url, **options).open()
    client = UnitClient(link)
    try:
        client.handshake()
        client._forget_boots()  # a BOOT sent before we were listening is not a surprise reboot
    except BaseException:
        link.close()
        raise
    return client
