"""The link's frame codec (docs/protocol.md §1-2): bytes to frames and back, no I/O.

:func:`encode_frame` builds one frame; the incremental :class:`FrameDecoder` hunts for the
start byte, bounds the length field, checks the CRC-16/CCITT-FALSE and resynchronises after
garbage or truncated frames. Both ends of the link use it: the host's session
(:mod:`drivers.link`) and the simulated unit (:mod:`drivers.sim.unitsim`).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

SOF = 0xA5
"""Start-of-frame byte."""
MAX_PAYLOAD = 1024
"""Largest payload the protocol allows; either end may announce a smaller one in HELLO."""
MIN_PAYLOAD = 32
"""Smallest maximum payload an end may announce (a smaller announcement counts as this)."""
OVERHEAD = 7
"""SOF + LEN(2) + SEQ + TYPE + CRC(2)."""

# Frame types that belong to the link itself (commands are 0x01-0x5F, answers cmd|0x80).
T_EVENT = 0xE0
T_ACK = 0xF0
T_NAK = 0xF1
T_ERROR = 0xFE
RESPONSE_BIT = 0x80

# Error codes carried by an ERROR frame.
ERR_UNSUPPORTED = 0x01
ERR_BAD_PAYLOAD = 0x02
ERR_BUSY = 0x03
ERR_INTERNAL = 0x04
ERROR_NAMES = {
    ERR_UNSUPPORTED: "unsupported command",
    ERR_BAD_PAYLOAD: "bad payload",
    ERR_BUSY: "busy",
    ERR_INTERNAL: "internal error",
}


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0 (check 0x29B1).

    ``binascii.crc_hqx`` is exactly this CRC, in C: a 1 KiB frame costs microseconds, not the
    fraction of a millisecond a Python loop takes, which shows in the link's turnaround.
    """
    return binascii.crc_hqx(data, crc)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: sequence number, type byte and payload."""

    seq: int
    type: int
    payload: bytes = b""


def encode_frame(seq: int, ftype: int, payload: bytes = b"", *, max_payload: int = MAX_PAYLOAD) -> bytes:
    """Encode one frame: ``A5 LEN_hi LEN_lo SEQ TYPE PAYLOAD CRC_hi CRC_lo``.

    Raises:
        ValueError: seq or type out of 0..255, or payload longer than ``max_payload``.
    """
    if not 0 <= seq <= 0xFF or not 0 <= ftype <= 0xFF:
        raise ValueError(f"seq and type must be bytes, got seq={seq} type={ftype}")
    if len(payload) > max_payload:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the maximum of {max_payload}")
    body = bytes((len(payload) >> 8, len(payload) & 0xFF, seq, ftype)) + bytes(payload)
    crc = crc16(body)
    return bytes((SOF,)) + body + bytes((crc >> 8, crc & 0xFF))


class FrameDecoder:
    """Incremental frame decoder that resynchronises on garbage.

    ``feed`` never blocks and never raises: bytes that do not make a frame are skipped
    (counted in ``discarded`` and ``resyncs``), frames with a bad CRC are dropped
    (counted in ``crc_errors``) and the hunt for the start byte resumes one byte after
    the false start. Each byte starts at most one candidate frame, so the work per byte
    is bounded by the maximum frame size.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()
        self._hunting = False
        self.crc_errors = 0
        self.resyncs = 0
        self.discarded = 0
        self.frames = 0

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for the rest of a frame."""
        return len(self._buf)

    def _discard(self, count: int) -> None:
        if count <= 0:
            return
        del self._buf[:count]
        self.discarded += count
        if not self._hunting:
            self._hunting = True
            self.resyncs += 1

    def feed(self, data: bytes | bytearray) -> list[Frame]:
        """Add received bytes; return every complete, valid frame they finish."""
        self._buf += data
        return self._scan()

    def expire(self) -> list[Frame]:
        """The line went idle with a partial frame pending: drop its start byte and rescan.

        A truncated frame (or a corrupted length) would otherwise hold back the good
        frames behind it until more bytes arrive.
        """
        if not self._buf:
            return []
        self._discard(1)
        return self._scan()

    def reset(self) -> None:
        """Forget any buffered bytes."""
        self._buf.clear()
        self._hunting = False

    def _scan(self) -> list[Frame]:
        frames: list[Frame] = []
        buf = self._buf
        while buf:
            start = buf.find(SOF)
            if start < 0:
                self._discard(len(buf))
                break
            self._discard(start)
            if len(buf) < 3:
                break
            length = (buf[1] << 8) | buf[2]
            if length > self.max_payload:
                self._discard(1)
                continue
            total = OVERHEAD + length
            if len(buf) < total:
                break
            got = (buf[total - 2] << 8) | buf[total - 1]
            if crc16(memoryview(buf)[1 : total - 2]) != got:
                self.crc_errors += 1
                self._discard(1)
                continue
            frames.append(Frame(buf[3], buf[4], bytes(buf[5 : total - 2])))
            del buf[:total]
            self._hunting = False
            self.frames += 1
        return frames
