"""ESC/POS, pure: command encoders, the ``DLE EOT n`` status decoder, and a command tokenizer.

Nothing here touches a port. The driver (:mod:`drivers.printer`), the simulated printer
(:mod:`drivers.sim.usbprinter`) and the renderer (:mod:`drivers.sim.escpos_render`) all
speak through these functions, so the bytes are tested once, exactly.

Status bytes follow the Epson ESC/POS reference for ``DLE EOT n`` (real-time status
transmission): in every status byte bit 1 and bit 4 are always 1, bits 0 and 7 always 0.

========  ===================  ========================================================
``n``     status               bits used here
========  ===================  ========================================================
1         printer              2 drawer pin 3 high, 3 offline, 5 waiting for online
                               recovery, 6 paper feed button pressed
2         offline cause        2 cover open, 3 paper being fed by the feed button,
                               5 printing stopped by paper end, 6 error occurred
3         error cause          2 recoverable error, 3 autocutter error,
                               5 unrecoverable error, 6 auto-recoverable error (head hot)
4         roll paper sensor    2+3 paper near end, 5+6 paper end
========  ===================  ========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.errors import ConfigError, ProtocolError
from drivers.interfaces import PrinterStatus

NUL = b"\x00"
LF = b"\n"
DLE = b"\x10"
EOT = b"\x04"
ENQ = b"\x05"
ESC = b"\x1b"
FS = b"\x1c"
GS = b"\x1d"

INIT = ESC + b"@"

# DLE EOT n
STATUS_PRINTER = 1
STATUS_OFFLINE = 2
STATUS_ERROR = 3
STATUS_PAPER = 4

# GS I n (information with a "_" header and a NUL terminator)
INFO_FIRMWARE = 0x41
INFO_MANUFACTURER = 0x42
INFO_MODEL = 0x43
INFO_SERIAL = 0x44

_FIXED_MASK = 0b1001_0011  # bits 7, 4, 1, 0
_FIXED_VALUE = 0b0001_0010  # bit 4 and bit 1 set, bits 7 and 0 clear

# (status n, bit mask, PrinterStatus field); 0b0110_0000 means "both bits set".
_STATUS_BITS: tuple[tuple[int, int, str], ...] = (
    (1, 0b0000_0100, "drawer_pin3"),
    (1, 0b0000_1000, "offline"),
    (1, 0b0010_0000, "waiting_online_recovery"),
    (1, 0b0100_0000, "feed_button"),
    (2, 0b0000_0100, "cover_open"),
    (2, 0b0000_1000, "paper_feeding"),
    (2, 0b0010_0000, "stopped_by_paper_end"),
    (2, 0b0100_0000, "error"),
    (3, 0b0000_0100, "recoverable_error"),
    (3, 0b0000_1000, "cutter_error"),
    (3, 0b0010_0000, "unrecoverable_error"),
    (3, 0b0100_0000, "auto_recoverable_error"),
    (4, 0b0000_1100, "paper_near_end"),
    (4, 0b0110_0000, "paper_end"),
)

BARCODE_TYPES: dict[str, int] = {
    "UPC-A": 65,
    "UPC-E": 66,
    "EAN13": 67,
    "EAN8": 68,
    "CODE39": 69,
    "ITF": 70,
    "CODABAR": 71,
    "CODE93": 72,
    "CODE128": 73,
}
"""``GS k m`` function-B type numbers (length-prefixed data); function A is ``m - 65``."""


# --------------------------------------------------------------------------- requests


def status_request(n: int) -> bytes:
    """``DLE EOT n``: ask for real-time status ``n`` (1..4); the printer answers one byte."""
    if n not in (1, 2, 3, 4):
        raise ConfigError(f"DLE EOT n: n must be 1..4, not {n}")
    return DLE + EOT + bytes([n])


def info_request(n: int) -> bytes:
    """``GS I n``: ask for printer information (``0x41`` firmware .. ``0x44`` serial)."""
    if not 0 <= n <= 0xFF:
        raise ConfigError(f"GS I n: n out of range: {n}")
    return GS + b"I" + bytes([n])


def paper_sensor_request() -> bytes:
    """``GS r 1``: paper sensor status, answered in order after everything sent before it.

    Unlike ``DLE EOT`` it waits its turn in the receive buffer, so its answer means
    "everything before me has been processed": the driver uses it to wait for printing.
    """
    return GS + b"r\x01"


# --------------------------------------------------------------------------- decoders


def check_status_byte(n: int, value: int) -> None:
    """Raise :class:`ProtocolError` when ``value`` is not a valid ``DLE EOT n`` answer."""
    if not 0 <= value <= 0xFF or value & _FIXED_MASK != _FIXED_VALUE:
        raise ProtocolError(
            f"printer answered DLE EOT {n} with {value:#04x}: fixed bits wrong (not an ESC/POS status byte)",
            fault_code="PRN-FATAL",
        )


def decode_status_byte(n: int, value: int) -> dict[str, bool]:
    """Decode one ``DLE EOT n`` answer into named conditions (only those ``n`` carries)."""
    check_status_byte(n, value)
    return {name: value & mask == mask for sn, mask, name in _STATUS_BITS if sn == n}


def decode_status(raw: bytes) -> PrinterStatus:
    """Decode the four answers to ``DLE EOT 1``..``DLE EOT 4`` (in that order)."""
    if len(raw) != 4:
        raise ProtocolError(f"expected 4 status bytes, got {len(raw)}: {raw.hex(' ')}", fault_code="PRN-FATAL")
    flags: dict[str, bool] = {}
    for n, value in enumerate(raw, start=1):
        flags.update(decode_status_byte(n, value))
    return PrinterStatus(raw=bytes(raw), **flags)


def encode_status_byte(n: int, status: PrinterStatus) -> int:
    """The ``DLE EOT n`` answer a printer in ``status`` sends (the inverse of the decoder)."""
    if n not in (1, 2, 3, 4):
        raise ConfigError(f"DLE EOT n: n must be 1..4, not {n}")
    value = _FIXED_VALUE
    for sn, mask, name in _STATUS_BITS:
        if sn == n and getattr(status, name):
            value |= mask
    return value


def decode_info(reply: bytes) -> str:
    """Decode a ``GS I n`` (n >= 0x41) answer: ``"_"`` + text + NUL."""
    if len(reply) < 2 or reply[:1] != b"_" or reply[-1:] != NUL:
        raise ProtocolError(f"malformed GS I answer: {reply[:40].hex(' ')}", fault_code="PRN-FATAL")
    return reply[1:-1].decode("ascii", errors="replace")


def encode_info(text: str) -> bytes:
    """A ``GS I n`` (n >= 0x41) answer carrying ``text``."""
    return b"_" + text.encode("ascii", errors="replace") + NUL


# --------------------------------------------------------------------------- page encoders


def text(s: str, encoding: str = "cp437") -> bytes:
    """Printable text in the printer's code page (default code page 437)."""
    return s.encode(encoding, errors="replace")


def line(s: str = "", encoding: str = "cp437") -> bytes:
    """A line of text ended by ``LF`` (print and feed one line)."""
    return text(s, encoding) + LF


def bold(on: bool = True) -> bytes:
    """``ESC E n``: emphasized (bold) on/off."""
    return ESC + b"E" + bytes([1 if on else 0])


def underline(dots: int = 1) -> bytes:
    """``ESC - n``: underline 0 (off), 1 or 2 dots thick."""
    if dots not in (0, 1, 2):
        raise ConfigError(f"underline must be 0, 1 or 2 dots, not {dots}")
    return ESC + b"-" + bytes([dots])


def size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: character size, 1..8 times in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ConfigError(f"character size must be 1..8 each way, not {width}x{height}")
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


_ALIGN = {"left": 0, "center": 1, "right": 2}


def align(where: str) -> bytes:
    """``ESC a n``: justification ``left``, ``center`` or ``right``."""
    if where not in _ALIGN:
        raise ConfigError(f"alignment must be one of {sorted(_ALIGN)}, not {where!r}")
    return ESC + b"a" + bytes([_ALIGN[where]])


def feed(lines: int = 1) -> bytes:
    """``ESC d n``: print the buffer and feed ``n`` lines."""
    if not 0 <= lines <= 255:
        raise ConfigError(f"feed lines out of range: {lines}")
    return ESC + b"d" + bytes([lines])


def cut(partial: bool = False, feed_dots: int | None = None) -> bytes:
    """``GS V``: cut; with ``feed_dots``, feed that far first (function B: ``GS V 65/66 n``)."""
    if feed_dots is None:
        return GS + b"V" + bytes([1 if partial else 0])
    if not 0 <= feed_dots <= 255:
        raise ConfigError(f"cut feed out of range: {feed_dots}")
    return GS + b"V" + bytes([66 if partial else 65, feed_dots])


def raster(width_dots: int, height: int, bits: bytes, scale: int = 0) -> bytes:
    """``GS v 0 m``: a raster bit image, rows of ``ceil(width/8)`` bytes, MSB left, 1 = black."""
    width_bytes = (width_dots + 7) // 8
    if len(bits) != width_bytes * height:
        raise ConfigError(f"raster data is {len(bits)} bytes; {width_bytes}x{height} needs {width_bytes * height}")
    if not (0 < width_bytes <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ConfigError(f"raster size out of range: {width_dots}x{height}")
    return GS + b"v0" + bytes([scale]) + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little") + bits


def barcode(data: str, kind: str = "CODE128", height: int = 80, module: int = 2, hri: int = 2) -> bytes:
    """``GS h``/``GS w``/``GS H`` then ``GS k m n d1..dn`` (function B) for ``kind``.

    ``hri``: human-readable text 0 none, 1 above, 2 below, 3 both. CODE128 data must
    start with a code set selector (``{A``, ``{B`` or ``{C``); ``{B`` is added when absent.
    """
    if kind not in BARCODE_TYPES:
        raise ConfigError(f"unknown barcode type {kind!r}; known: {', '.join(BARCODE_TYPES)}")
    if kind == "CODE128" and not data.startswith(("{A", "{B", "{C")):
        data = "{B" + data
    payload = data.encode("ascii")
    if not 1 <= len(payload) <= 255:
        raise ConfigError(f"barcode data length out of range: {len(payload)}")
    return (
        GS
        + b"h"
        + bytes([height])
        + GS
        + b"w"
        + bytes([module])
        + GS
        + b"H"
        + bytes([hri])
        + GS
        + b"k"
        + bytes([BARCODE_TYPES[kind], len(payload)])
        + payload
    )


_QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}


def _gs_k2d(fn: int, data: bytes) -> bytes:
    body = b"1" + bytes([fn]) + data  # cn = 49 (QR code)
    return GS + b"(k" + len(body).to_bytes(2, "little") + body


def qr(data: str, module: int = 6, ec: str = "M") -> bytes:
    """``GS ( k`` QR code model 2: select model, module size, error correction, store, print."""
    if not 1 <= module <= 16:
        raise ConfigError(f"QR module size must be 1..16, not {module}")
    if ec not in _QR_EC:
        raise ConfigError(f"QR error correction must be one of {sorted(_QR_EC)}, not {ec!r}")
    payload = data.encode("utf-8")
    return (
        _gs_k2d(65, b"\x32\x00")  # fn 165: model 2
        + _gs_k2d(67, bytes([module]))  # fn 167: module size
        + _gs_k2d(69, bytes([_QR_EC[ec]]))  # fn 169: error correction
        + _gs_k2d(80, b"0" + payload)  # fn 180: store
        + _gs_k2d(81, b"0")  # fn 181: print
    )


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class Command:
    """One ESC/POS command (or a run of text) as the printer reads it.

    Attributes:
        name: ``"text"``, ``"LF"``, ``"ESC E"``, ``"GS v 0"``, ``"GS ( k"``, ``"DLE EOT"``, ...
            or ``"unknown"`` for a byte the tokenizer does not know.
        args: the fixed parameter bytes after the command bytes.
        data: variable-length data (text, image bits, barcode data, function data).
    """

    name: str
    args: bytes = b""
    data: bytes = b""

    @property
    def realtime(self) -> bool:
        """True for commands a printer executes at once, even offline (``DLE EOT``, ``DLE ENQ``)."""
        return self.name in ("DLE EOT", "DLE ENQ", "DLE DC4")


# commands with a fixed number of parameter bytes: prefix -> (name, count)
_FIXED: dict[bytes, tuple[str, int]] = {
    b"\x10\x04": ("DLE EOT", 1),
    b"\x10\x05": ("DLE ENQ", 1),
    b"\x10\x14": ("DLE DC4", 3),
    b"\x1b@": ("ESC @", 0),
    b"\x1b2": ("ESC 2", 0),
    b"\x1b<": ("ESC <", 0),
    b"\x1b!": ("ESC !", 1),
    b"\x1bE": ("ESC E", 1),
    b"\x1bG": ("ESC G", 1),
    b"\x1b-": ("ESC -", 1),
    b"\x1ba": ("ESC a", 1),
    b"\x1bd": ("ESC d", 1),
    b"\x1be": ("ESC e", 1),
    b"\x1bJ": ("ESC J", 1),
    b"\x1bK": ("ESC K", 1),
    b"\x1bM": ("ESC M", 1),
    b"\x1bt": ("ESC t", 1),
    b"\x1bR": ("ESC R", 1),
    b"\x1b3": ("ESC 3", 1),
    b"\x1b{": ("ESC {", 1),
    b"\x1br": ("ESC r", 1),
    b"\x1bV": ("ESC V", 1),
    b"\x1b ": ("ESC SP", 1),
    b"\x1bU": ("ESC U", 1),
    b"\x1b%": ("ESC %", 1),
    b"\x1bc": ("ESC c", 2),
    b"\x1b$": ("ESC $", 2),
    b"\x1b\\": ("ESC \\", 2),
    b"\x1bp": ("ESC p", 3),
    b"\x1bi": ("ESC i", 0),
    b"\x1bm": ("ESC m", 0),
    b"\x1d!": ("GS !", 1),
    b"\x1dB": ("GS B", 1),
    b"\x1dH": ("GS H", 1),
    b"\x1df": ("GS f", 1),
    b"\x1dh": ("GS h", 1),
    b"\x1dw": ("GS w", 1),
    b"\x1dI": ("GS I", 1),
    b"\x1dr": ("GS r", 1),
    b"\x1da": ("GS a", 1),
    b"\x1db": ("GS b", 1),
    b"\x1dL": ("GS L", 2),
    b"\x1dW": ("GS W", 2),
    b"\x1dP": ("GS P", 2),
    b"\x1d$": ("GS $", 2),
    b"\x1c.": ("FS .", 0),
    b"\x1c&": ("FS &", 0),
    b"\x1c!": ("FS !", 1),
    b"\x1cC": ("FS C", 1),
    b"\x1cp": ("FS p", 2),
}
_SINGLE = {0x0A: "LF", 0x0D: "CR", 0x09: "HT", 0x0C: "FF"}
_PREFIXES = {0x10, 0x1B, 0x1C, 0x1D}


class _Incomplete(Exception):
    """The buffer ends inside a command."""


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise _Incomplete


def _one(buf: bytes, i: int) -> tuple[Command, int]:
    """Parse the command at ``buf[i]``; return it and the index after it."""
    b = buf[i]
    if b in _SINGLE:
        return Command(_SINGLE[b]), i + 1
    if b not in _PREFIXES:
        if b < 0x20:
            return Command("unknown", bytes([b])), i + 1
        j = i
        while j < len(buf) and buf[j] >= 0x20:
            j += 1
        return Command("text", data=buf[i:j]), j
    _need(buf, i + 2)
    head = buf[i : i + 2]
    fixed = _FIXED.get(head)
    if fixed is not None:
        name, count = fixed
        _need(buf, i + 2 + count)
        return Command(name, buf[i + 2 : i + 2 + count]), i + 2 + count
    if head == b"\x1dV":  # GS V m [n]
        _need(buf, i + 3)
        m = buf[i + 2]
        count = 2 if m in (65, 66, 97, 98, 103, 104) else 1
        _need(buf, i + 2 + count)
        return Command("GS V", buf[i + 2 : i + 2 + count]), i + 2 + count
    if head == b"\x1dv":  # GS v 0 m xL xH yL yH d...
        _need(buf, i + 8)
        args = buf[i + 2 : i + 8]
        size = int.from_bytes(args[2:4], "little") * int.from_bytes(args[4:6], "little")
        _need(buf, i + 8 + size)
        return Command("GS v 0", args, buf[i + 8 : i + 8 + size]), i + 8 + size
    if head == b"\x1dk":  # GS k m ...
        _need(buf, i + 3)
        m = buf[i + 2]
        if m <= 6:  # function A: NUL-terminated
            end = buf.find(b"\x00", i + 3)
            if end < 0:
                raise _Incomplete
            return Command("GS k", bytes([m]), buf[i + 3 : end]), end + 1
        _need(buf, i + 4)
        n = buf[i + 3]
        _need(buf, i + 4 + n)
        return Command("GS k", bytes([m]), buf[i + 4 : i + 4 + n]), i + 4 + n
    if head == b"\x1d(":  # GS ( X pL pH d1..dp
        _need(buf, i + 5)
        p = int.from_bytes(buf[i + 3 : i + 5], "little")
        _need(buf, i + 5 + p)
        return Command("GS ( " + chr(buf[i + 2]), b"", buf[i + 5 : i + 5 + p]), i + 5 + p
    if head == b"\x1d8":  # GS 8 L p1 p2 p3 p4 d...
        _need(buf, i + 7)
        p = int.from_bytes(buf[i + 3 : i + 7], "little")
        _need(buf, i + 7 + p)
        return Command("GS 8 " + chr(buf[i + 2]), b"", buf[i + 7 : i + 7 + p]), i + 7 + p
    if head == b"\x1b*":  # ESC * m nL nH d...
        _need(buf, i + 5)
        m = buf[i + 2]
        n = int.from_bytes(buf[i + 3 : i + 5], "little")
        size = n * (3 if m >= 32 else 1)
        _need(buf, i + 5 + size)
        return Command("ESC *", buf[i + 2 : i + 5], buf[i + 5 : i + 5 + size]), i + 5 + size
    if head == b"\x1bD":  # ESC D n1 .. NUL (tab stops)
        end = buf.find(b"\x00", i + 2)
        if end < 0:
            raise _Incomplete
        return Command("ESC D", buf[i + 2 : end]), end + 1
    return Command("unknown", head), i + 2


def next_command(buf: bytes, i: int = 0) -> tuple[Command, int] | None:
    """The command starting at ``buf[i]`` and the index after it; None when ``buf`` ends inside it."""
    try:
        return _one(buf, i)
    except _Incomplete:
        return None


def parse(buf: bytes, *, final: bool = True) -> tuple[list[Command], int]:
    """Split ``buf`` into commands.

    Args:
        buf: bytes as sent to the printer.
        final: True when no more bytes follow; then a truncated command at the end
            becomes an ``"incomplete"`` command instead of being left over.

    Returns:
        The commands and how many bytes of ``buf`` they used (less than ``len(buf)`` only
        when ``final`` is False and the buffer ends inside a command).
    """
    out: list[Command] = []
    i = 0
    while i < len(buf):
        try:
            cmd, i2 = _one(buf, i)
        except _Incomplete:
            if not final:
                return out, i
            out.append(Command("incomplete", data=bytes(buf[i:])))
            return out, len(buf)
        out.append(cmd)
        i = i2
    return out, i


def commands(buf: bytes) -> Iterable[Command]:
    """All commands in a complete byte stream."""
    return parse(buf, final=True)[0]
