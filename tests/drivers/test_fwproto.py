"""The firmware-update payloads (docs/protocol.md §5b): each round-trips; a malformed one is a ProtocolError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import fwproto as fw
from drivers import unitproto as up
from drivers.codecs.linkframe import T_ACK, T_ERROR, T_EVENT, T_NAK
from drivers.errors import ProtocolError


def test_commands_have_names_and_need_the_fwupdate_capability() -> None:
    for cmd in (fw.CMD_FW_BEGIN, fw.CMD_FW_CHUNK, fw.CMD_FW_STATUS, fw.CMD_FW_COMMIT, fw.CMD_FW_ABORT):
        assert up.COMMAND_NAMES[cmd].startswith("FW_")
        assert up.COMMAND_CAPABILITY[cmd] == fw.FW_CAPABILITY
    assert up.BOOT_REASONS[3:] == ("update", "rollback")


def test_no_commands_answer_reads_as_a_link_frame_type() -> None:
    # Commands are 0x01-0x5F (docs/protocol.md §2): 0x60 | 0x80 is EVENT, and FW_BEGIN was once 0x60.
    for cmd in up.COMMAND_NAMES:
        assert 0x01 <= cmd <= 0x5F, hex(cmd)
        assert cmd | 0x80 not in (T_EVENT, T_ACK, T_NAK, T_ERROR)


@given(st.binary(min_size=1, max_size=600), st.booleans())
def test_begin_round_trips(header: bytes, downgrade: bool) -> None:
    msg = fw.FwBegin(header, downgrade)
    assert fw.FwBegin.decode(msg.encode()) == msg


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=1016))
def test_chunk_round_trips(session: int, offset: int, data: bytes) -> None:
    msg = fw.FwChunk(session, offset, data)
    encoded = msg.encode()
    assert len(encoded) == fw.CHUNK_OVERHEAD + len(data)
    assert fw.FwChunk.decode(encoded) == msg


def test_answers_round_trip() -> None:
    assert fw.FwBeginAnswer.decode(fw.FwBeginAnswer(7, 4096, 1 << 20).encode()) == fw.FwBeginAnswer(7, 4096, 1 << 20)
    assert fw.decode_offset(fw.encode_offset(65536)) == 65536
    assert fw.decode_session(fw.encode_session(9), "FW_COMMIT") == 9
    status = fw.FwStatus("receiving", 7, 4096, 1 << 20, "2.6.0", "2.5.0", "B", "rolled-back", "2.6.0 did not boot")
    back = fw.FwStatus.decode(status.encode())
    assert back == status and back.pending
    assert not fw.FwStatus("idle", 0, 0, 0, "", "2.5.0", "A", "none", "").pending


@pytest.mark.parametrize(("decode", "payload", "says"), [
    (fw.FwBegin.decode, b"\x00\x00\x05abc", "needs"),
    (fw.FwBegin.decode, b"\x00\x00\x01ab", "too many"),
    (fw.FwBeginAnswer.decode, b"\x00" * 11, "needs"),
    (fw.decode_offset, b"\x00" * 5, "too many"),
    (fw.FwChunk.decode, b"\x00" * 7, "needs"),
    (fw.FwStatus.decode, b"\x03" + b"\x00" * 12 + b"\x00\x00\x00\x00\x00", "unknown state code 3"),
])
def test_malformed_payloads_are_protocol_errors(decode: object, payload: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        decode(payload)  # type: ignore[operator]


@given(st.binary(max_size=80))
def test_any_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    for decode in (fw.FwBegin.decode, fw.FwBeginAnswer.decode, fw.FwChunk.decode, fw.FwStatus.decode,
                   fw.decode_offset):
        with contextlib.suppress(ProtocolError):
            decode(data)
