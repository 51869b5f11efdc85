"""ESC/POS as a printer reads it: split a byte stream into commands.

The simulated printer runs what it receives through :func:`next_command`; the renderer
(:mod:`drivers.escpos.render`) draws :func:`commands`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
