"""What the simulated unit answers: its command handlers, event payloads and event-log image.

:class:`UnitCommands` executes one command from the unit's validated profile and its
:class:`~drivers.sim.unitpanel.Panel` and returns the answer frame's type and payload
(docs/protocol.md §5); test sales (§5a) are :class:`~drivers.sim.unittxn.TxnEngine`'s, firmware
updates (§5b) :class:`~drivers.sim.unitfirmware.Firmware`'s. The link itself (frames, ACK/NAK, duplicates, events in flight,
reboots) is :mod:`drivers.sim.unitsim`'s job.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from drivers import txnproto as tp
from drivers import unitproto as up
from drivers.codecs.linkframe import (
    ERR_BAD_PAYLOAD,
    ERR_BUSY,
    ERR_UNSUPPORTED,
    MAX_PAYLOAD,
    MIN_PAYLOAD,
    RESPONSE_BIT,
    T_ERROR,
)
from drivers.errors import ProtocolError
from drivers.sim.unitconfig import ConfigRefused, UnitConfig
from drivers.sim.unitfirmware import Firmware, FwRefused
from drivers.sim.unitpanel import Panel
from drivers.sim.unitprofile import parse_time
from drivers.sim.unittxn import TxnEngine, TxnRefused


class _BadRequest(Exception):
    """A request payload the simulated unit cannot parse (answered with ERR_BAD_PAYLOAD)."""


class _Unsupported(Exception):
    """A request this unit's hardware cannot do (answered with ERR_UNSUPPORTED)."""


class _Busy(Exception):
    """The unit is doing something that excludes this request now (answered with ERR_BUSY)."""


class UnitCommands:
    """The unit's command handlers.

    Args:
        profile: the unit's validated profile.
        panel: its display, keypad and magstripe head.
        txn: its test sales (a new engine when not given).
    """

    def __init__(self, profile: Mapping[str, Any], panel: Panel, txn: TxnEngine | None = None) -> None:
        self.profile = profile
        self.faults: Mapping[str, Any] = profile["faults"]
        self.panel = panel
        self.txn = txn if txn is not None else TxnEngine(profile)
        self.log_generation = 1
        self.log_image = build_log_image(profile)
        self.max_payload = int(profile["max_payload"])
        """Largest payload the unit sends: its own maximum, or the host's if HELLO announced less."""
        self.firmware = Firmware(profile)
        self.config = UnitConfig(profile)  # in flash: the same object across reboots

    def execute(self, cmd: int, payload: bytes, now: float) -> tuple[int, bytes]:
        """Run one command; return the answer's frame type (``cmd | 0x80`` or ERROR) and payload."""
        name = up.COMMAND_NAMES.get(cmd, f"0x{cmd:02X}")
        cap = up.COMMAND_CAPABILITY.get(cmd)
        handler = _HANDLERS.get(cmd)
        if handler is None or (cap is not None and cap not in self.profile["capabilities"]):
            return T_ERROR, _error(cmd, ERR_UNSUPPORTED, f"{name} not supported by this unit")
        try:
            answer = handler(self, payload, now)
        except _BadRequest as exc:
            return T_ERROR, _error(cmd, ERR_BAD_PAYLOAD, str(exc))
        except _Unsupported as exc:
            return T_ERROR, _error(cmd, ERR_UNSUPPORTED, str(exc))
        except _Busy as exc:
            return T_ERROR, _error(cmd, ERR_BUSY, str(exc))
        except (FwRefused, ConfigRefused) as exc:
            return T_ERROR, _error(cmd, exc.code, str(exc))
        return cmd | RESPONSE_BIT, answer

    def boot(self, reason: str) -> str:
        """The unit restarts (after its boot time): the firmware says what runs now; return the BOOT reason."""
        reason, entry = self.firmware.boot(reason)
        if entry is not None:
            code, severity, text = entry
            self.log_image += up.encode_log_entry(int(datetime.now(UTC).timestamp()), code, severity, text)
            self.log_generation += 1
        return reason

    # ------------------------------------------------------------------ link-level commands

    def _hello(self, payload: bytes, now: float) -> bytes:
        # The host announces the largest payload it takes (u16 after its version); a host that
        # announced none takes the protocol's maximum. Both ends then use the smaller maximum.
        prof = self.profile
        host_max = int.from_bytes(payload[1:3], "big") if len(payload) >= 3 else MAX_PAYLOAD
        self.max_payload = max(MIN_PAYLOAD, min(int(prof["max_payload"]), host_max))
        w = up.Writer().u8(up.PROTOCOL_VERSION).u16(prof["max_payload"])
        w.str(prof["model"]).str(prof["serial"]).str(prof["hw_revision"]).str(self.firmware.running)
        w.u8(len(prof["capabilities"]))
        for cap in prof["capabilities"]:
            w.str(cap)
        return w.bytes()

    def _ping(self, payload: bytes, now: float) -> bytes:
        return payload

    def _reboot(self, payload: bytes, now: float) -> bytes:
        return b""  # the link session starts the reboot once this answer is out

    # ------------------------------------------------------------------ health

    def _self_test(self, payload: bytes, now: float) -> bytes:
        results = self.profile["self_test"]
        w = up.Writer().u8(len(results))
        for subsystem, result in results.items():
            if result == "pass":
                code, detail = 0, ""
            elif isinstance(result, dict):
                code, detail = int(result["code"]), str(result.get("detail", ""))
            else:
                code, detail = int(result), ""
            w.str(subsystem).u16(code).str(detail)
        return w.bytes()

    def _battery(self, payload: bytes, now: float) -> bytes:
        b = self.profile["battery"]
        flags = (up.BATT_CHARGING if b["charging"] else 0) | (up.BATT_ADAPTER if b["adapter_present"] else 0)
        volts, percent = self.txn.battery()  # sales drain it
        return up.Writer().u16(round(volts * 1000)).u8(percent).u8(flags).bytes()

    def _tamper(self, payload: bytes, now: float) -> bytes:
        t = self.profile["tamper"]
        flags = up.TAMPER_TAMPERED if t["tampered"] else 0
        flags |= up.TAMPER_KEYS_PRESENT if t["keys_present"] else 0
        w = up.Writer().u8(flags).u8(len(t["flags"]))
        for flag in t["flags"]:
            w.str(str(flag))
        return w.bytes()

    def _comms(self, payload: bytes, now: float) -> bytes:
        interfaces = self.profile["comms"]
        w = up.Writer().u8(len(interfaces))
        for name, iface in interfaces.items():
            signal = up.SIGNAL_NONE if iface["signal_dbm"] is None else int(iface["signal_dbm"])
            rtt = up.RTT_NONE if iface["rtt_ms"] is None else round(float(iface["rtt_ms"]) * 1000)
            w.str(name).u8(1 if iface["link"] else 0).i16(signal).u32(rtt)
        return w.bytes()

    def _log_read(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 6:
            raise _BadRequest("LOG_READ wants u32 offset, u16 max_len")
        offset = int.from_bytes(payload[:4], "big")
        max_len = int.from_bytes(payload[4:], "big")
        total = len(self.log_image)
        if offset > total:
            raise _BadRequest(f"offset {offset} beyond log end {total}")
        size = min(max_len, self.max_payload - up.LOG_READ_HEADER)
        chunk = self.log_image[offset : offset + size]
        return up.Writer().u32(self.log_generation).u32(total).u32(offset).raw(chunk).bytes()

    # ------------------------------------------------------------------ configuration (§5c)

    def _config_read(self, payload: bytes, now: float) -> bytes:
        return self.config.read(payload, self.max_payload)

    def _config_write(self, payload: bytes, now: float) -> bytes:
        return self.config.write(payload, self.max_payload)

    # ------------------------------------------------------------------ keypad, magstripe, display

    def _flag(self, payload: bytes, name: str) -> bool:
        if len(payload) != 1 or payload[0] > 1:
            raise _BadRequest(f"{name} wants u8 on/off")
        return payload[0] == 1

    def _keypad_enable(self, payload: bytes, now: float) -> bytes:
        self.panel.set_keypad(self._flag(payload, "KEYPAD_ENABLE"), now)
        return up.encode_key_layout(self.profile["keys"])

    def _msr_enable(self, payload: bytes, now: float) -> bytes:
        self.panel.msr_on = self._flag(payload, "MSR_ENABLE")
        return up.encode_msr_tracks(self.profile["msr"]["tracks"])

    def _display_info(self, payload: bytes, now: float) -> bytes:
        spec = self.profile["display"]
        flags = up.DISPLAY_FLAG_BACKLIGHT_SENSE | (up.DISPLAY_FLAG_CHECKSUM if spec["checksum"] else 0)
        return up.encode_display_info(
            spec["width"], spec["height"], spec["bits_per_pixel"], spec["text_rows"], spec["text_columns"], flags
        )

    def _display_write(self, payload: bytes, now: float) -> bytes:
        try:
            r = up.Reader(payload, "DISPLAY_WRITE")
            row, column, text = r.u8(), r.u8(), r.str()
        except ProtocolError as exc:
            raise _BadRequest(str(exc)) from exc
        d = self.panel.display
        columns = int(self.profile["display"]["text_columns"])
        if row >= len(d.text) or column >= columns:
            raise _BadRequest(f"row {row}, column {column} is off the display")
        line = d.text[row].ljust(column)
        d.text[row] = (line[:column] + text + line[column + len(text) :])[:columns]
        return b""

    def _display_pattern(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 1 or payload[0] >= len(up.DISPLAY_PATTERNS):
            raise _BadRequest("DISPLAY_PATTERN wants u8 pattern 0..4")
        pattern = up.DISPLAY_PATTERNS[payload[0]]
        if pattern == "colour_bars" and self.panel.display.bpp == 1:
            raise _Unsupported("colour bars need a colour display")
        self.panel.display.fill(pattern)
        return b""

    def _display_checksum(self, payload: bytes, now: float) -> bytes:
        if not self.profile["display"]["checksum"]:
            raise _Unsupported("this display cannot read back its frame buffer")
        d = self.panel.display
        return up.encode_display_checksum(zlib.crc32(d.frame_bytes()), d.width, d.height)

    def _display_backlight(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 1 or payload[0] > 100:
            raise _BadRequest("DISPLAY_BACKLIGHT wants u8 level 0..100")
        level = payload[0]
        self.panel.display.backlight = level
        if self.faults["backlight_failed"]:
            current = 0.1  # leakage through a driver with an open LED string
        else:
            current = float(self.profile["display"]["backlight_ma"]) * level / 100 + (0.4 if level else 0.0)
        return up.encode_backlight_answer(current)

    # ------------------------------------------------------------------ test sales, receipt printer

    def _txn_start(self, payload: bytes, now: float) -> bytes:
        try:
            request = tp.decode_txn_start(payload)
        except ProtocolError as exc:
            raise _BadRequest(str(exc)) from exc
        try:
            self.txn.start(request)
        except TxnRefused as exc:
            if exc.code == ERR_BUSY:
                raise _Busy(str(exc)) from exc
            raise _BadRequest(str(exc)) from exc
        return tp.encode_txn_accepted(request.txn_id)

    def _txn_status(self, payload: bytes, now: float) -> bytes:
        try:
            txn_id = tp.decode_txn_status(payload)
        except ProtocolError as exc:
            raise _BadRequest(str(exc)) from exc
        return tp.encode_txn_result(self.txn.status(txn_id), self.max_payload, event=False)

    def _printer_status(self, payload: bytes, now: float) -> bytes:
        return tp.encode_printer_state(self.txn.printer_state())

    # ------------------------------------------------------------------ firmware updates (§5b)

    def _fw_begin(self, payload: bytes, now: float) -> bytes:
        return self.firmware.begin(payload, busy=self.txn.busy)

    def _fw_chunk(self, payload: bytes, now: float) -> bytes:
        return self.firmware.chunk(payload)

    def _fw_status(self, payload: bytes, now: float) -> bytes:
        return self.firmware.status(payload)

    def _fw_commit(self, payload: bytes, now: float) -> bytes:
        return self.firmware.commit(payload)  # the link session restarts the unit once the answer is out

    def _fw_abort(self, payload: bytes, now: float) -> bytes:
        return self.firmware.abort(payload)


_HANDLERS: dict[int, Callable[[UnitCommands, bytes, float], bytes]] = {
    up.CMD_HELLO: UnitCommands._hello,
    up.CMD_PING: UnitCommands._ping,
    up.CMD_REBOOT: UnitCommands._reboot,
    up.CMD_SELF_TEST: UnitCommands._self_test,
    up.CMD_BATTERY: UnitCommands._battery,
    up.CMD_TAMPER: UnitCommands._tamper,
    up.CMD_COMMS_TEST: UnitCommands._comms,
    up.CMD_LOG_READ: UnitCommands._log_read,
    up.CMD_CONFIG_READ: UnitCommands._config_read,
    up.CMD_CONFIG_WRITE: UnitCommands._config_write,
    up.CMD_KEYPAD_ENABLE: UnitCommands._keypad_enable,
    up.CMD_MSR_ENABLE: UnitCommands._msr_enable,
    up.CMD_DISPLAY_INFO: UnitCommands._display_info,
    up.CMD_DISPLAY_WRITE: UnitCommands._display_write,
    up.CMD_DISPLAY_PATTERN: UnitCommands._display_pattern,
    up.CMD_DISPLAY_CHECKSUM: UnitCommands._display_checksum,
    up.CMD_DISPLAY_BACKLIGHT: UnitCommands._display_backlight,
    up.CMD_TXN_START: UnitCommands._txn_start,
    up.CMD_TXN_STATUS: UnitCommands._txn_status,
    up.CMD_PRINTER_STATUS: UnitCommands._printer_status,
    up.CMD_FW_BEGIN: UnitCommands._fw_begin,
    up.CMD_FW_CHUNK: UnitCommands._fw_chunk,
    up.CMD_FW_STATUS: UnitCommands._fw_status,
    up.CMD_FW_COMMIT: UnitCommands._fw_commit,
    up.CMD_FW_ABORT: UnitCommands._fw_abort,
}


def _error(cmd: int, code: int, text: str) -> bytes:
    return up.Writer().u8(cmd).u8(code).str(text).bytes()


def encode_event(kind: str, data: Mapping[str, Any]) -> bytes:
    """Encode an event payload (see docs/protocol.md, "Events").

    A ``boot`` event takes ``reason``, ``boot_count`` and ``firmware`` from ``data``; ``txn_stage``
    a :class:`~drivers.txnproto.TxnStage` under ``stage``; ``txn_result`` a
    :class:`~drivers.txnproto.TxnResult` under ``result`` (and the payload limit, ``max_payload``).
    """
    if kind not in up.EVENT_CODES:
        raise ValueError(f"unknown event kind {kind!r} (known: {', '.join(up.EVENT_CODES)})")
    if kind == "txn_stage":
        stage = data.get("stage")
        return tp.encode_txn_stage(stage if isinstance(stage, tp.TxnStage) else tp.TxnStage(0, "done", 0))
    if kind == "txn_result":
        result = data.get("result")
        limit = data.get("max_payload", MAX_PAYLOAD)
        return tp.encode_txn_result(result if isinstance(result, tp.TxnResult) else tp.TxnResult(0, "unknown"),
                                    limit if isinstance(limit, int) else MAX_PAYLOAD)
    w = up.Writer().u8(up.EVENT_CODES[kind])
    if kind == "boot":
        reason = str(data.get("reason", "power_on"))
        w.u8(up.BOOT_REASONS.index(reason)).u32(int(str(data.get("boot_count", 1))))
        w.str(str(data.get("firmware", "")))
    elif kind in ("key_down", "key_up"):
        w.str(str(data.get("key", "")))
        if "t_ms" in data:
            w.u32(int(str(data["t_ms"])))
    elif kind == "card_swipe":
        w.u8(0 if data.get("ok", True) else 1)
        for track in ("track1", "track2", "track3"):
            w.str(str(data.get(track, "")))
    elif kind == "tamper":
        w.u8(1 if data.get("tampered", True) else 0)
    elif kind == "power":
        w.u8(1 if data.get("adapter_present", True) else 0).u8(int(str(data.get("charge_percent", 0))))
    return w.bytes()


def build_log_image(profile: Mapping[str, Any], now: datetime | None = None) -> bytes:
    """Serialise the profile's event log (plus ``event_log_fill`` synthetic entries), oldest first."""
    now = now or datetime.now(UTC)
    entries: list[tuple[datetime, int, str, str]] = []
    for entry in profile["event_log"]:
        entries.append((parse_time(entry["time"], now), int(entry["code"]), entry["severity"], entry["text"]))
    fill = int(profile["event_log_fill"])
    span = timedelta(days=30)
    for i in range(fill):
        when = now - span + span * i / max(fill, 1)
        entries.append((when, 0x0100 + i % 7, "info", f"fill entry {i:05d}: periodic status report ok"))
    entries.sort(key=lambda e: e[0])
    return b"".join(up.encode_log_entry(int(t.timestamp()), c, sev, text) for t, c, sev, text in entries)
