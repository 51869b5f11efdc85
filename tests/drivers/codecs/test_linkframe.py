"""Tests of the link's frame codec: exact bytes, and the decoder's properties on any input."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.codecs.linkframe import (
    MAX_PAYLOAD,
    SOF,
    T_ACK,
    T_NAK,
    Frame,
    FrameDecoder,
    crc16,
    encode_frame,
)
from drivers.errors import ProtocolError

# ---------------------------------------------------------------------------- exact bytes


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


def _crc_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE straight from its definition, one bit at a time."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_crc_matches_an_independent_implementation() -> None:
    data = bytes(range(256)) * 3
    assert crc16(data) == _crc_bitwise(data)
    assert crc16(memoryview(data)[5:300]) == _crc_bitwise(data[5:300])


def test_encode_empty_hello_exact_bytes() -> None:
    # CRC over 00 00 01 01 computed by hand with CRC-16/CCITT-FALSE = 0xA7D0
    assert encode_frame(1, 0x01) == bytes.fromhex("A5 0000 01 01 A7D0")


def test_encode_with_payload_exact_bytes() -> None:
    assert encode_frame(7, 0x11, b"\x01\x02") == bytes.fromhex("A5 0002 07 11 0102 7C9E")


def test_encode_ack_and_nak() -> None:
    assert encode_frame(0x42, T_ACK)[:5] == bytes((SOF, 0, 0, 0x42, 0xF0))
    assert encode_frame(0, T_NAK)[4] == 0xF1


def test_encode_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        encode_frame(256, 1)
    with pytest.raises(ValueError):
        encode_frame(0, 1, bytes(MAX_PAYLOAD + 1))


# ---------------------------------------------------------------------------- decoder properties

frames_st = st.builds(
    Frame,
    seq=st.integers(0, 255),
    type=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
)


def _drain(decoder: FrameDecoder) -> list[Frame]:
    """Feed idle-line expiries until nothing is pending (what Link does on a quiet line)."""
    out: list[Frame] = []
    for _ in range(MAX_PAYLOAD * 4):
        if not decoder.pending:
            break
        out += decoder.expire()
    assert decoder.pending == 0
    return out


@given(frames_st)
def test_round_trip(frame: Frame) -> None:
    assert FrameDecoder().feed(encode_frame(frame.seq, frame.type, frame.payload)) == [frame]


@given(st.lists(frames_st, max_size=5))
def test_concatenated_frames(frames: list[Frame]) -> None:
    wire = b"".join(encode_frame(f.seq, f.type, f.payload) for f in frames)
    assert FrameDecoder().feed(wire) == frames


@given(st.lists(frames_st, max_size=3))
def test_one_byte_at_a_time(frames: list[Frame]) -> None:
    decoder = FrameDecoder()
    got: list[Frame] = []
    for f in frames:
        for byte in encode_frame(f.seq, f.type, f.payload):
            got += decoder.feed(bytes((byte,)))
    assert got == frames


@settings(max_examples=300)
@given(st.binary(max_size=4096) | st.lists(st.sampled_from([SOF, 0, 1, 2, 0xFF]), max_size=4096).map(bytes))
def test_random_bytes_only_frames_or_protocol_error(data: bytes) -> None:
    decoder = FrameDecoder()
    started = time.perf_counter()
    try:
        out = decoder.feed(data) + _drain(decoder)
    except ProtocolError:
        return
    assert all(isinstance(f, Frame) and len(f.payload) <= MAX_PAYLOAD for f in out)
    assert time.perf_counter() - started < 2.0


@given(st.binary(max_size=600), frames_st)
def test_resync_after_garbage(garbage: bytes, frame: Frame) -> None:
    decoder = FrameDecoder()
    out = decoder.feed(garbage + encode_frame(frame.seq, frame.type, frame.payload)) + _drain(decoder)
    assert out and out[-1] == frame


@given(frames_st, frames_st, st.data())
def test_corrupted_or_truncated_frame_then_good_frame(bad: Frame, good: Frame, data: st.DataObject) -> None:
    whole = encode_frame(bad.seq, bad.type, bad.payload)
    wire = bytearray(whole)
    good_wire = encode_frame(good.seq, good.type, good.payload)
    if data.draw(st.booleans(), label="truncate"):
        wire = wire[: data.draw(st.integers(1, len(wire) - 1), label="cut")]
        # When the next frame's first bytes are the missing ones (a CRC ending in 0xA5 = SOF), the wire
        # really does carry the whole bad frame: no decoder can tell, so that case proves nothing.
        assume((bytes(wire) + good_wire)[: len(whole)] != whole)
    else:
        pos = data.draw(st.integers(1, len(wire) - 1), label="pos")
        wire[pos] ^= data.draw(st.integers(1, 255), label="xor")
    decoder = FrameDecoder()
    out = decoder.feed(bytes(wire) + good_wire) + _drain(decoder)
    assert out[-1] == good
    assert bad not in out[:-1] or bad == good  # a damaged frame is never delivered


def test_corrupted_frame_counts_crc_error() -> None:
    wire = bytearray(encode_frame(3, 0x10, b"hello"))
    wire[7] ^= 0x01
    decoder = FrameDecoder()
    assert decoder.feed(bytes(wire)) == []
    assert decoder.crc_errors == 1


def test_oversized_length_is_a_false_start() -> None:
    decoder = FrameDecoder(max_payload=16)
    good = encode_frame(1, 2, b"x")
    assert decoder.feed(bytes((SOF, 0xFF, 0xFF)) + good) == [Frame(1, 2, b"x")]
    assert decoder.resyncs == 1
