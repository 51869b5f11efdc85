"""ESC/POS answers: the ``DLE EOT n`` status bytes and the ``GS I n`` information strings.

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

The driver decodes with these, the simulated printer encodes with them.
"""

from __future__ import annotations

from drivers.errors import ConfigError, ProtocolError
from drivers.escpos.encoders import NUL
from drivers.i18n import N_
from drivers.interfaces import PrinterStatus

# DLE EOT n
STATUS_PRINTER = 1
STATUS_OFFLINE = 2
STATUS_ERROR = 3
STATUS_PAPER = 4

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


def check_status_byte(n: int, value: int) -> None:
    """Raise :class:`ProtocolError` when ``value`` is not a valid ``DLE EOT n`` answer."""
    if not 0 <= value <= 0xFF or value & _FIXED_MASK != _FIXED_VALUE:
        raise ProtocolError(
            N_("printer answered DLE EOT {n} with {value:#04x}: fixed bits wrong (not an ESC/POS status byte)", n=n, value=value),
            fault_code="PRN-FATAL",
        )


def decode_status_byte(n: int, value: int) -> dict[str, bool]:
    """Decode one ``DLE EOT n`` answer into named conditions (only those ``n`` carries)."""
    check_status_byte(n, value)
    return {name: value & mask == mask for sn, mask, name in _STATUS_BITS if sn == n}


def decode_status(raw: bytes) -> PrinterStatus:
    """Decode the four answers to ``DLE EOT 1``..``DLE EOT 4`` (in that order)."""
    if len(raw) != 4:
        raise ProtocolError(N_("expected 4 status bytes, got {raw_len}: {hex}", raw_len=len(raw), hex=raw.hex(' ')), fault_code="PRN-FATAL")
    flags: dict[str, bool] = {}
    for n, value in enumerate(raw, start=1):
        flags.update(decode_status_byte(n, value))
    return PrinterStatus(raw=bytes(raw), **flags)


def encode_status_byte(n: int, status: PrinterStatus) -> int:
    """The ``DLE EOT n`` answer a printer in ``status`` sends (the inverse of the decoder)."""
    if n not in (1, 2, 3, 4):
        raise ConfigError(N_("DLE EOT n: n must be 1..4, not {n}", n=n))
    value = _FIXED_VALUE
    for sn, mask, name in _STATUS_BITS:
        if sn == n and getattr(status, name):
            value |= mask
    return value


def decode_info(reply: bytes) -> str:
    """Decode a ``GS I n`` (n >= 0x41) answer: ``"_"`` + text + NUL."""
    if len(reply) < 2 or reply[:1] != b"_" or reply[-1:] != NUL:
        raise ProtocolError(N_("malformed GS I answer: {hex}", hex=reply[:40].hex(' ')), fault_code="PRN-FATAL")
    return reply[1:-1].decode("ascii", errors="replace")


def encode_info(text: str) -> bytes:
    """A ``GS I n`` (n >= 0x41) answer carrying ``text``."""
    return b"_" + text.encode("ascii", errors="replace") + NUL
