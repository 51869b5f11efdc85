"""ESC/POS command encoders: the bytes a host sends to a receipt printer.

Pure functions, nothing touches a port; tested against exact bytes. Requests
(``DLE EOT n``, ``GS I n``, ``GS r``) come first, then what goes on paper.
"""

from __future__ import annotations

from drivers.errors import ConfigError
from drivers.i18n import N_, is_wide

NUL = b"\x00"
LF = b"\n"
DLE = b"\x10"
EOT = b"\x04"
ENQ = b"\x05"
ESC = b"\x1b"
FS = b"\x1c"
GS = b"\x1d"

INIT = ESC + b"@"

# GS I n (information with a "_" header and a NUL terminator)
INFO_FIRMWARE = 0x41
INFO_MANUFACTURER = 0x42
INFO_MODEL = 0x43
INFO_SERIAL = 0x44

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
        raise ConfigError(N_("DLE EOT n: n must be 1..4, not {n}", n=n))
    return DLE + EOT + bytes([n])


def info_request(n: int) -> bytes:
    """``GS I n``: ask for printer information (``0x41`` firmware .. ``0x44`` serial)."""
    if not 0 <= n <= 0xFF:
        raise ConfigError(N_("GS I n: n out of range: {n}", n=n))
    return GS + b"I" + bytes([n])


def paper_sensor_request() -> bytes:
    """``GS r 1``: paper sensor status, answered in order after everything sent before it.

    Unlike ``DLE EOT`` it waits its turn in the receive buffer, so its answer means
    "everything before me has been processed": the driver uses it to wait for printing.
    """
    return GS + b"r\x01"


# --------------------------------------------------------------------------- page encoders


#: The double-byte code Chinese ESC/POS printers take in Chinese character mode (``FS &``); GB 2312 is its subset.
CHINESE_ENCODING = "gb18030"


def text(s: str, encoding: str = "cp437") -> bytes:
    """Printable text in the printer's code page (default code page 437).

    Chinese characters (wide, East Asian) are sent the way Chinese printers take them: each run
    in Chinese character mode (``FS &``), in GB 18030, then back to the code page (``FS .``).
    """
    if not any(is_wide(c) for c in s):
        return s.encode(encoding, errors="replace")
    out = bytearray()
    run: list[str] = []
    for c in s:
        if is_wide(c):
            run.append(c)
            continue
        if run:
            out += FS + b"&" + "".join(run).encode(CHINESE_ENCODING, errors="replace") + FS + b"."
            run = []
        out += c.encode(encoding, errors="replace")
    if run:
        out += FS + b"&" + "".join(run).encode(CHINESE_ENCODING, errors="replace") + FS + b"."
    return bytes(out)


def line(s: str = "", encoding: str = "cp437") -> bytes:
    """A line of text ended by ``LF`` (print and feed one line)."""
    return text(s, encoding) + LF


def bold(on: bool = True) -> bytes:
    """``ESC E n``: emphasized (bold) on/off."""
    return ESC + b"E" + bytes([1 if on else 0])


def underline(dots: int = 1) -> bytes:
    """``ESC - n``: underline 0 (off), 1 or 2 dots thick."""
    if dots not in (0, 1, 2):
        raise ConfigError(N_("underline must be 0, 1 or 2 dots, not {dots}", dots=dots))
    return ESC + b"-" + bytes([dots])


def size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: character size, 1..8 times in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ConfigError(N_("character size must be 1..8 each way, not {width}x{height}", width=width, height=height))
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


_ALIGN = {"left": 0, "center": 1, "right": 2}


def align(where: str) -> bytes:
    """``ESC a n``: justification ``left``, ``center`` or ``right``."""
    if where not in _ALIGN:
        raise ConfigError(N_("alignment must be one of {sorted}, not {where!r}", sorted=sorted(_ALIGN), where=where))
    return ESC + b"a" + bytes([_ALIGN[where]])


def feed(lines: int = 1) -> bytes:
    """``ESC d n``: print the buffer and feed ``n`` lines."""
    if not 0 <= lines <= 255:
        raise ConfigError(N_("feed lines out of range: {lines}", lines=lines))
    return ESC + b"d" + bytes([lines])


def cut(partial: bool = False, feed_dots: int | None = None) -> bytes:
    """``GS V``: cut; with ``feed_dots``, feed that far first (function B: ``GS V 65/66 n``)."""
    if feed_dots is None:
        return GS + b"V" + bytes([1 if partial else 0])
    if not 0 <= feed_dots <= 255:
        raise ConfigError(N_("cut feed out of range: {feed_dots}", feed_dots=feed_dots))
    return GS + b"V" + bytes([66 if partial else 65, feed_dots])


def raster(width_dots: int, height: int, bits: bytes, scale: int = 0) -> bytes:
    """``GS v 0 m``: a raster bit image, rows of ``ceil(width/8)`` bytes, MSB left, 1 = black."""
    width_bytes = (width_dots + 7) // 8
    if len(bits) != width_bytes * height:
        raise ConfigError(N_("raster data is {bits_len} bytes; {width_bytes}x{height} needs {value}", bits_len=len(bits), width_bytes=width_bytes, height=height, value=width_bytes * height))
    if not (0 < width_bytes <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ConfigError(N_("raster size out of range: {width_dots}x{height}", width_dots=width_dots, height=height))
    return GS + b"v0" + bytes([scale]) + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little") + bits


def barcode(data: str, kind: str = "CODE128", height: int = 80, module: int = 2, hri: int = 2) -> bytes:
    """``GS h``/``GS w``/``GS H`` then ``GS k m n d1..dn`` (function B) for ``kind``.

    ``hri``: human-readable text 0 none, 1 above, 2 below, 3 both. CODE128 data must
    start with a code set selector (``{A``, ``{B`` or ``{C``); ``{B`` is added when absent.
    """
    if kind not in BARCODE_TYPES:
        raise ConfigError(N_("unknown barcode type {kind!r}; known: {items}", kind=kind, items=', '.join(BARCODE_TYPES)))
    if kind == "CODE128" and not data.startswith(("{A", "{B", "{C")):
        data = "{B" + data
    payload = data.encode("ascii")
    if not 1 <= len(payload) <= 255:
        raise ConfigError(N_("barcode data length out of range: {payload_len}", payload_len=len(payload)))
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
        raise ConfigError(N_("QR module size must be 1..16, not {module}", module=module))
    if ec not in _QR_EC:
        raise ConfigError(N_("QR error correction must be one of {sorted}, not {ec!r}", sorted=sorted(_QR_EC), ec=ec))
    payload = data.encode("utf-8")
    return (
        _gs_k2d(65, b"\x32\x00")  # fn 165: model 2
        + _gs_k2d(67, bytes([module]))  # fn 167: module size
        + _gs_k2d(69, bytes([_QR_EC[ec]]))  # fn 169: error correction
        + _gs_k2d(80, b"0" + payload)  # fn 180: store
        + _gs_k2d(81, b"0")  # fn 181: print
    )
