"""CONFIG_READ / CONFIG_WRITE codecs (docs/protocol.md §5c): round trips, and malformed payloads refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import configproto as cp
from drivers import unitproto as up
from drivers.codecs.linkframe import T_ACK, T_ERROR, T_EVENT, T_NAK
from drivers.errors import ProtocolError

keys = st.text(max_size=12)  # at most 48 UTF-8 bytes
values = st.text(max_size=32)  # at most 128


def test_the_numbers_are_free_commands_below_0x60_with_the_config_capability() -> None:
    assert (cp.CMD_CONFIG_READ, cp.CMD_CONFIG_WRITE) == (0x15, 0x16)
    for cmd in (cp.CMD_CONFIG_READ, cp.CMD_CONFIG_WRITE):
        assert up.COMMAND_CAPABILITY[cmd] == cp.CONFIG_CAPABILITY == "config"
        assert cmd | 0x80 not in (T_EVENT, T_ACK, T_NAK, T_ERROR)
    assert len(up.COMMAND_NAMES) == len(set(up.COMMAND_NAMES.values()))


@given(st.integers(0, 0xFFFFFFFF), st.integers(0, 300), st.lists(st.tuples(keys, values), max_size=30))
def test_a_page_round_trips(generation: int, extra: int, settings: list[tuple[str, str]]) -> None:
    page = cp.ConfigPage(generation, len(settings) + extra, 0, tuple(settings))
    assert cp.ConfigPage.decode(page.encode()) == page


@given(st.lists(st.tuples(keys, values), max_size=40))
def test_a_write_round_trips(pairs: list[tuple[str, str]]) -> None:
    assert cp.decode_write(cp.encode_write(pairs)) == pairs
    results = [(cp.RESULTS[i % 4], v) for i, (_k, v) in enumerate(pairs)]
    assert cp.decode_write_answer(cp.encode_write_answer(results), len(pairs)) == results


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused_as_malformed(data: bytes) -> None:
    for decode in (cp.ConfigPage.decode, cp.decode_write, cp.decode_read, lambda d: cp.decode_write_answer(d, 1)):
        try:
            decode(data)
        except ProtocolError as exc:
            assert "malformed" in str(exc)


def test_a_page_past_its_total_and_an_answer_of_the_wrong_length_are_malformed() -> None:
    with pytest.raises(ProtocolError, match="past the total 1"):
        cp.ConfigPage.decode(up.Writer().u32(7).u16(1).u16(1).u8(1).str("a").str("").bytes())
    with pytest.raises(ProtocolError, match="2 results for 3 settings"):
        cp.decode_write_answer(cp.encode_write_answer([("written", ""), ("read-only", "")]), 3)
    with pytest.raises(ProtocolError, match="unknown result code 4"):
        cp.decode_write_answer(b"\x01\x04\x00", 1)
    assert cp.decode_read(cp.encode_read(513)) == 513


def test_keys_and_values_longer_than_the_protocol_takes_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="values 128"):
        cp.encode_write([("acquirer_host", "tcp://" + "a" * 130 + ":1")])
    with pytest.raises(ValueError, match="keys are at most 48"):
        cp.encode_write([("k" * 49, "")])
    with pytest.raises(ValueError, match="at most 255"):
        cp.encode_write([("a", "b")] * 256)
    # The longest setting and the page header fit a 256-byte payload.
    assert cp.READ_HEADER + cp.pair_size("k" * cp.MAX_KEY, "v" * cp.MAX_VALUE) <= 256
