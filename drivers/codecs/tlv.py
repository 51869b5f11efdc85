"""BER-TLV (ISO/IEC 8825-1 as used by EMV): parse nested templates, find tags, build objects.

Tags are kept as integers of their full encoding (``0x6F``, ``0xBF0C``, ``0x9F38``).
EMV allows ``00`` (and ``FF``) padding between objects; it is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from drivers.i18n import N_

_LOG = logging.getLogger(__name__)


class TlvError(ValueError):
    """The bytes are not valid BER-TLV (truncated tag, length or value)."""


@dataclass(frozen=True)
class Tlv:
    """One data object: its tag, its value and, for a constructed tag, its children."""

    tag: int
    value: bytes
    children: tuple[Tlv, ...] = field(default=())

    @property
    def constructed(self) -> bool:
        """True when bit 6 of the first tag byte is set (the value is a list of objects)."""
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    @property
    def tag_hex(self) -> str:
        """The tag as upper-case hex (``BF0C``)."""
        n = max(1, (self.tag.bit_length() + 7) // 8)
        return self.tag.to_bytes(n, "big").hex().upper()

    def find(self, tag: int) -> Tlv | None:
        """First descendant (depth-first, self excluded) with ``tag``."""
        return find(self.children, tag)


def _parse_one(data: bytes, pos: int) -> tuple[Tlv, int]:
    start = pos
    first = data[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError(N_("truncated tag at offset {start}", start=start))
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
    if pos >= len(data):
        raise TlvError(N_("missing length for tag {tag:X} at offset {start}", tag=tag, start=start))
    length = data[pos]
    pos += 1
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 3:
            raise TlvError(N_("unsupported length form {length:02X} for tag {tag:X} at offset {start}", length=length, tag=tag, start=start))
        if pos + n > len(data):
            raise TlvError(N_("truncated length for tag {tag:X} at offset {start}", tag=tag, start=start))
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise TlvError(N_("value of tag {tag:X} at offset {start} needs {length} bytes, {value} left", tag=tag, start=start, length=length, value=len(data) - pos))
    value = data[pos:end]
    obj = Tlv(tag, value)
    if obj.constructed:
        obj = Tlv(tag, value, tuple(parse(value)))
    return obj, end


def parse(data: bytes) -> list[Tlv]:
    """Parse a sequence of BER-TLV objects (recursively into constructed ones).

    Raises:
        TlvError: the bytes are truncated or malformed.
    """
    out: list[Tlv] = []
    pos = 0
    data = bytes(data)
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        obj, pos = _parse_one(data, pos)
        out.append(obj)
    return out


def walk(objs: Iterable[Tlv]) -> Iterator[Tlv]:
    """Every object, depth-first, parents before children."""
    for obj in objs:
        yield obj
        yield from walk(obj.children)


def find(objs: Iterable[Tlv], tag: int) -> Tlv | None:
    """First object with ``tag`` anywhere in the tree, or None."""
    for obj in walk(objs):
        if obj.tag == tag:
            return obj
    return None


def find_all(objs: Iterable[Tlv], tag: int) -> list[Tlv]:
    """Every object with ``tag`` anywhere in the tree."""
    return [obj for obj in walk(objs) if obj.tag == tag]


def encode_length(n: int) -> bytes:
    """BER length octets for ``n``."""
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    if n <= 0xFFFF:
        return b"\x82" + n.to_bytes(2, "big")
    return b"\x83" + n.to_bytes(3, "big")


def build(tag: int, value: bytes) -> bytes:
    """Encode one object: tag, length, value."""
    n = max(1, (tag.bit_length() + 7) // 8)
    return tag.to_bytes(n, "big") + encode_length(len(value)) + value
