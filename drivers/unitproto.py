"""The unit's diagnostic command set on the link: numbers and payload codecs (docs/protocol.md).

Shared by the client (:mod:`drivers.unit`) and the simulated unit
(:mod:`drivers.sim.unitsim`) so both sides speak exactly the same bytes. All integers are
big-endian; a ``str`` is a 1-byte length followed by that many UTF-8 bytes.
"""

from __future__ import annotations

import builtins
import struct

from drivers.errors import ProtocolError
from drivers.i18n import N_

PROTOCOL_VERSION = 1

# Commands (host -> unit). The answer's type is the command | 0x80.
CMD_HELLO = 0x01
CMD_PING = 0x02
CMD_REBOOT = 0x03
CMD_SELF_TEST = 0x10
CMD_BATTERY = 0x11
CMD_TAMPER = 0x12
CMD_COMMS_TEST = 0x13
CMD_LOG_READ = 0x14
# The unit's configuration for its merchant (payloads in drivers/configproto.py).
CMD_CONFIG_READ = 0x15
CMD_CONFIG_WRITE = 0x16
# The human-facing half of the unit: display, keypad, magstripe reader.
CMD_DISPLAY_WRITE = 0x20
CMD_DISPLAY_PATTERN = 0x21
CMD_DISPLAY_CHECKSUM = 0x22
CMD_DISPLAY_BACKLIGHT = 0x23
CMD_DISPLAY_INFO = 0x24
CMD_KEYPAD_ENABLE = 0x30
CMD_MSR_ENABLE = 0x38
# The unit's own receipt printer (PRINTER_PRINT is reserved, not implemented yet).
CMD_PRINTER_PRINT = 0x40
CMD_PRINTER_STATUS = 0x41
# Test transactions (payloads in drivers/txnproto.py).
CMD_TXN_START = 0x50
CMD_TXN_STATUS = 0x51
# Firmware updates (payloads in drivers/fwproto.py). Commands stop at 0x5F: 0x60 | 0x80 would be EVENT.
CMD_FW_BEGIN = 0x58
CMD_FW_CHUNK = 0x59
CMD_FW_STATUS = 0x5A
CMD_FW_COMMIT = 0x5B
CMD_FW_ABORT = 0x5C

COMMAND_NAMES = {
    CMD_HELLO: "HELLO",
    CMD_PING: "PING",
    CMD_REBOOT: "REBOOT",
    CMD_SELF_TEST: "SELF_TEST",
    CMD_BATTERY: "BATTERY",
    CMD_TAMPER: "TAMPER",
    CMD_COMMS_TEST: "COMMS_TEST",
    CMD_LOG_READ: "LOG_READ",
    CMD_CONFIG_READ: "CONFIG_READ",
    CMD_CONFIG_WRITE: "CONFIG_WRITE",
    CMD_DISPLAY_WRITE: "DISPLAY_WRITE",
    CMD_DISPLAY_PATTERN: "DISPLAY_PATTERN",
    CMD_DISPLAY_CHECKSUM: "DISPLAY_CHECKSUM",
    CMD_DISPLAY_BACKLIGHT: "DISPLAY_BACKLIGHT",
    CMD_DISPLAY_INFO: "DISPLAY_INFO",
    CMD_KEYPAD_ENABLE: "KEYPAD_ENABLE",
    CMD_MSR_ENABLE: "MSR_ENABLE",
    CMD_PRINTER_PRINT: "PRINTER_PRINT",
    CMD_PRINTER_STATUS: "PRINTER_STATUS",
    CMD_TXN_START: "TXN_START",
    CMD_TXN_STATUS: "TXN_STATUS",
    CMD_FW_BEGIN: "FW_BEGIN",
    CMD_FW_CHUNK: "FW_CHUNK",
    CMD_FW_STATUS: "FW_STATUS",
    CMD_FW_COMMIT: "FW_COMMIT",
    CMD_FW_ABORT: "FW_ABORT",
}

# The capability a unit must announce in HELLO for each command (HELLO/PING always work).
COMMAND_CAPABILITY = {
    CMD_REBOOT: "reboot",
    CMD_SELF_TEST: "selftest",
    CMD_BATTERY: "battery",
    CMD_TAMPER: "tamper",
    CMD_COMMS_TEST: "comms",
    CMD_LOG_READ: "eventlog",
    CMD_CONFIG_READ: "config",
    CMD_CONFIG_WRITE: "config",
    CMD_DISPLAY_WRITE: "display",
    CMD_DISPLAY_PATTERN: "display",
    CMD_DISPLAY_CHECKSUM: "display",
    CMD_DISPLAY_BACKLIGHT: "display",
    CMD_DISPLAY_INFO: "display",
    CMD_KEYPAD_ENABLE: "keypad",
    CMD_MSR_ENABLE: "msr",
    CMD_PRINTER_PRINT: "printer",
    CMD_PRINTER_STATUS: "printer",
    CMD_TXN_START: "txn",
    CMD_TXN_STATUS: "txn",
    CMD_FW_BEGIN: "fwupdate",
    CMD_FW_CHUNK: "fwupdate",
    CMD_FW_STATUS: "fwupdate",
    CMD_FW_COMMIT: "fwupdate",
    CMD_FW_ABORT: "fwupdate",
}

# Event kinds (first payload byte of an EVENT frame).
EV_BOOT = 0x01
EV_KEY_DOWN = 0x02
EV_KEY_UP = 0x03
EV_CARD_SWIPE = 0x04
EV_TAMPER = 0x05
EV_POWER = 0x06
EV_TXN_STAGE = 0x07
EV_TXN_RESULT = 0x08
EVENT_NAMES = {
    EV_BOOT: "boot",
    EV_KEY_DOWN: "key_down",
    EV_KEY_UP: "key_up",
    EV_CARD_SWIPE: "card_swipe",
    EV_TAMPER: "tamper",
    EV_POWER: "power",
    EV_TXN_STAGE: "txn_stage",
    EV_TXN_RESULT: "txn_result",
}
EVENT_CODES = {name: code for code, name in EVENT_NAMES.items()}
# update: the unit restarted into the image FW_COMMIT switched to; rollback: that image did not
# boot and the unit went back to the one it ran before (docs/protocol.md §5b).
BOOT_REASONS = ("power_on", "commanded", "watchdog", "update", "rollback")

SEVERITIES = ("info", "warning", "error")
BATT_CHARGING = 0x01
BATT_ADAPTER = 0x02
TAMPER_TAMPERED = 0x01
TAMPER_KEYS_PRESENT = 0x02
SIGNAL_NONE = -32768  # i16: interface has no radio
RTT_NONE = 0xFFFFFFFF  # u32 microseconds: no round trip measured
LOG_READ_HEADER = 12  # generation u32, total u32, offset u32

# DISPLAY_PATTERN codes, by name (the index is the code on the wire).
DISPLAY_PATTERNS = ("off", "on", "checkerboard", "stripes", "colour_bars")
DISPLAY_FLAG_CHECKSUM = 0x01  # DISPLAY_INFO flags: the unit answers DISPLAY_CHECKSUM
DISPLAY_FLAG_BACKLIGHT_SENSE = 0x02  # ... and measures its backlight current
BACKLIGHT_UNIT_MA = 0.1  # DISPLAY_BACKLIGHT answers the current in tenths of a milliampere
MSR_TRACK_BITS = {1: 0x01, 2: 0x02, 3: 0x04}  # MSR_ENABLE answer: which tracks the head reads


class Writer:
    """Builds a payload from big-endian integers and short strings."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        """Append an unsigned byte."""
        self._parts.append(struct.pack(">B", value))
        return self

    def u16(self, value: int) -> Writer:
        """Append an unsigned 16-bit integer."""
        self._parts.append(struct.pack(">H", value))
        return self

    def i16(self, value: int) -> Writer:
        """Append a signed 16-bit integer."""
        self._parts.append(struct.pack(">h", value))
        return self

    def u32(self, value: int) -> Writer:
        """Append an unsigned 32-bit integer."""
        self._parts.append(struct.pack(">I", value))
        return self

    def str(self, value: str) -> Writer:
        """Append a string: 1-byte length, UTF-8 bytes (truncated to 255 bytes)."""
        data = value.encode("utf-8")[:255]
        self._parts.append(bytes((len(data),)) + data)
        return self

    def raw(self, data: bytes) -> Writer:
        """Append bytes as they are."""
        self._parts.append(bytes(data))
        return self

    def bytes(self) -> bytes:
        """The payload built so far."""
        return b"".join(self._parts)


class Reader:
    """Reads a payload; a short or malformed payload raises ProtocolError naming the message."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def _take(self, count: int) -> bytes:
        if self._pos + count > len(self._data):
            raise ProtocolError(
                N_("malformed {what} payload: needs {value} bytes, got {data_len}", what=self._what, value=self._pos + count, data_len=len(self._data))
            )
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def u8(self) -> int:
        """Read an unsigned byte."""
        return int(self._take(1)[0])

    def u16(self) -> int:
        """Read an unsigned 16-bit integer."""
        return int(struct.unpack(">H", self._take(2))[0])

    def i16(self) -> int:
        """Read a signed 16-bit integer."""
        return int(struct.unpack(">h", self._take(2))[0])

    def u32(self) -> int:
        """Read an unsigned 32-bit integer."""
        return int(struct.unpack(">I", self._take(4))[0])

    def str(self) -> str:
        """Read a length-prefixed UTF-8 string."""
        raw = self._take(self.u8())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(N_("malformed {what} payload: string is not UTF-8", what=self._what)) from exc

    def rest(self) -> bytes:
        """Read every remaining byte."""
        return self._take(len(self._data) - self._pos)

    def take(self, count: int) -> bytes:
        """Read ``count`` bytes."""
        return self._take(count)

    def code(self, names: tuple[builtins.str, ...], field: builtins.str) -> builtins.str:
        """Read a u8 code and return its name in ``names`` (an unknown code is malformed)."""
        value = self.u8()
        if value >= len(names):
            raise ProtocolError(N_("malformed {what} payload: unknown {field} code {value}", what=self._what, field=field, value=value))
        return names[value]

    def end(self) -> None:
        """Refuse bytes left over (a payload longer than its message is malformed)."""
        if not self.done:
            raise ProtocolError(N_("malformed {what} payload: {value} bytes too many", what=self._what, value=len(self._data) - self._pos))

    @property
    def done(self) -> bool:
        """True when every byte was read."""
        return self._pos >= len(self._data)


def encode_log_entry(timestamp: int, code: int, severity: str, text: str) -> bytes:
    """One event-log record: u32 UNIX seconds (UTC), u16 code, u8 severity, str text."""
    return Writer().u32(timestamp).u16(code).u8(SEVERITIES.index(severity)).str(text).bytes()


# --------------------------------------------------------------------------- display, keypad, msr


def encode_display_write(row: int, column: int, text: str) -> bytes:
    """DISPLAY_WRITE request: ``u8 row, u8 column, str text``."""
    return Writer().u8(row).u8(column).str(text).bytes()


def encode_display_pattern(pattern: str) -> bytes:
    """DISPLAY_PATTERN request: ``u8 pattern`` (see :data:`DISPLAY_PATTERNS`).

    Raises:
        ValueError: an unknown pattern name.
    """
    if pattern not in DISPLAY_PATTERNS:
        raise ValueError(f"unknown display pattern {pattern!r} (known: {', '.join(DISPLAY_PATTERNS)})")
    return Writer().u8(DISPLAY_PATTERNS.index(pattern)).bytes()


def encode_display_info(
    width: int, height: int, bits_per_pixel: int, text_rows: int, text_columns: int, flags: int
) -> bytes:
    """DISPLAY_INFO answer: ``u16 width, u16 height, u8 bits per pixel, u8 rows, u8 columns, u8 flags``."""
    return Writer().u16(width).u16(height).u8(bits_per_pixel).u8(text_rows).u8(text_columns).u8(flags).bytes()


def decode_display_info(payload: bytes) -> tuple[int, int, int, int, int, int]:
    """Inverse of :func:`encode_display_info`: (width, height, bpp, rows, columns, flags)."""
    r = Reader(payload, "DISPLAY_INFO")
    return r.u16(), r.u16(), r.u8(), r.u8(), r.u8(), r.u8()


def encode_display_checksum(crc: int, width: int, height: int) -> bytes:
    """DISPLAY_CHECKSUM answer: ``u32 CRC-32 of the frame buffer, u16 width, u16 height``."""
    return Writer().u32(crc).u16(width).u16(height).bytes()


def decode_display_checksum(payload: bytes) -> tuple[int, int, int]:
    """Inverse of :func:`encode_display_checksum`: (crc, width, height)."""
    r = Reader(payload, "DISPLAY_CHECKSUM")
    return r.u32(), r.u16(), r.u16()


def encode_backlight_answer(milliamps: float) -> bytes:
    """DISPLAY_BACKLIGHT answer: ``u16`` measured current in 0.1 mA (clamped to 0..6553.5 mA)."""
    return Writer().u16(max(0, min(0xFFFF, round(milliamps / BACKLIGHT_UNIT_MA)))).bytes()


def decode_backlight_answer(payload: bytes) -> float:
    """Inverse of :func:`encode_backlight_answer`: milliamperes."""
    return round(Reader(payload, "DISPLAY_BACKLIGHT").u16() * BACKLIGHT_UNIT_MA, 1)


def encode_key_layout(keys: list[str] | tuple[str, ...]) -> bytes:
    """KEYPAD_ENABLE answer: ``list<str key>``, the unit's key layout."""
    w = Writer().u8(len(keys))
    for key in keys:
        w.str(key)
    return w.bytes()


def decode_key_layout(payload: bytes) -> tuple[str, ...]:
    """Inverse of :func:`encode_key_layout`."""
    r = Reader(payload, "KEYPAD_ENABLE")
    return tuple(r.str() for _ in range(r.u8()))


def encode_msr_tracks(tracks: list[int] | tuple[int, ...]) -> bytes:
    """MSR_ENABLE answer: ``u8`` mask of the tracks the head reads (bit0 track 1 ... bit2 track 3)."""
    mask = 0
    for track in tracks:
        mask |= MSR_TRACK_BITS[track]
    return Writer().u8(mask).bytes()


def decode_msr_tracks(payload: bytes) -> tuple[int, ...]:
    """Inverse of :func:`encode_msr_tracks`: the track numbers, ascending."""
    mask = Reader(payload, "MSR_ENABLE").u8()
    return tuple(track for track, bit in MSR_TRACK_BITS.items() if mask & bit)
