"""The unit's configuration command set on the link: payload codecs (docs/protocol.md §5c).

Shared by the client (:mod:`drivers.unitconfig`) and the simulated unit so both speak the same
bytes. A setting is a flat key (``merchant_id``, ``receipt_header.1``, ``network.wifi.mode``) and a
text value; ``""`` is a setting that is not set. CONFIG_READ is paged: the host asks from a setting's
index and the unit sends as many as fit the agreed payload, with the total and a generation that
changes whenever a setting does. CONFIG_WRITE takes key/value pairs and answers a result per pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.errors import ProtocolError
from drivers.i18n import N_
from drivers.unitproto import CMD_CONFIG_READ as CMD_CONFIG_READ
from drivers.unitproto import CMD_CONFIG_WRITE as CMD_CONFIG_WRITE
from drivers.unitproto import Reader, Writer

CONFIG_CAPABILITY = "config"
#: Longest key and value on the wire, in UTF-8 bytes: one setting always fits a page of 256 bytes.
MAX_KEY = 48
MAX_VALUE = 128
#: Bytes of a CONFIG_READ answer before its settings (generation, total, first, count).
READ_HEADER = 9
#: Results of CONFIG_WRITE, per pair (the index is the code on the wire).
RESULTS = ("written", "unknown key", "invalid value", "read-only")


def pair_size(key: str, value: str) -> int:
    """Bytes a key/value pair takes on the wire."""
    return 2 + len(key.encode("utf-8")) + len(value.encode("utf-8"))


def _check_pair(key: str, value: str) -> None:
    if len(key.encode("utf-8")) > MAX_KEY or len(value.encode("utf-8")) > MAX_VALUE:
        raise ValueError(f"setting {key[:MAX_KEY]!r}: keys are at most {MAX_KEY} bytes, values {MAX_VALUE}")


def encode_read(first: int) -> bytes:
    """CONFIG_READ request: ``u16 first`` (the index of the first setting wanted)."""
    return Writer().u16(first).bytes()


def decode_read(payload: bytes) -> int:
    """Inverse of :func:`encode_read`."""
    r = Reader(payload, "CONFIG_READ")
    first = r.u16()
    r.end()
    return first


@dataclass(frozen=True)
class ConfigPage:
    """One CONFIG_READ answer: settings ``first`` .. ``first + len(settings) - 1`` of ``total``."""

    generation: int
    total: int
    first: int
    settings: tuple[tuple[str, str], ...]

    def encode(self) -> bytes:
        """``u32 generation, u16 total, u16 first, list<{str key, str value}>``."""
        w = Writer().u32(self.generation).u16(self.total).u16(self.first).u8(len(self.settings))
        for key, value in self.settings:
            _check_pair(key, value)
            w.str(key).str(value)
        return w.bytes()

    @staticmethod
    def decode(payload: bytes) -> ConfigPage:
        """Read a CONFIG_READ answer (:class:`~drivers.errors.ProtocolError` when malformed)."""
        r = Reader(payload, "CONFIG_READ answer")
        generation, total, first = r.u32(), r.u16(), r.u16()
        settings = tuple((r.str(), r.str()) for _ in range(r.u8()))
        r.end()
        if first + len(settings) > total:
            raise ProtocolError(N_("malformed CONFIG_READ answer: settings {first}+{settings_len} past the total {total}", first=first, settings_len=len(settings), total=total))
        return ConfigPage(generation, total, first, settings)


def encode_write(pairs: Sequence[tuple[str, str]]) -> bytes:
    """CONFIG_WRITE request: ``list<{str key, str value}>``.

    Raises:
        ValueError: more than 255 pairs, or a key or value too long.
    """
    if len(pairs) > 255:
        raise ValueError("CONFIG_WRITE takes at most 255 settings")
    w = Writer().u8(len(pairs))
    for key, value in pairs:
        _check_pair(key, value)
        w.str(key).str(value)
    return w.bytes()


def decode_write(payload: bytes) -> list[tuple[str, str]]:
    """Inverse of :func:`encode_write`."""
    r = Reader(payload, "CONFIG_WRITE")
    pairs = [(r.str(), r.str()) for _ in range(r.u8())]
    r.end()
    return pairs


def encode_write_answer(results: Sequence[tuple[str, str]]) -> bytes:
    """CONFIG_WRITE answer: ``list<{u8 result, str reason}>``, one per pair, in the request's order."""
    w = Writer().u8(len(results))
    for result, reason in results:
        w.u8(RESULTS.index(result)).str(reason)
    return w.bytes()


def decode_write_answer(payload: bytes, count: int) -> list[tuple[str, str]]:
    """Inverse of :func:`encode_write_answer`; ``count`` is how many pairs were sent."""
    r = Reader(payload, "CONFIG_WRITE answer")
    results = [(r.code(RESULTS, "result"), r.str()) for _ in range(r.u8())]
    r.end()
    if len(results) != count:
        raise ProtocolError(N_("malformed CONFIG_WRITE answer: {results_len} results for {count} settings", results_len=len(results), count=count))
    return results
