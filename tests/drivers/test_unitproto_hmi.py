"""Exact bytes of the keypad, display and magstripe payloads (docs/protocol.md §5)."""

from __future__ import annotations

import pytest

from drivers import unitproto as up
from drivers.codecs.linkframe import encode_frame
from drivers.errors import ProtocolError
from drivers.sim.unitcommands import encode_event


def test_command_numbers() -> None:
    assert (up.CMD_DISPLAY_WRITE, up.CMD_DISPLAY_PATTERN, up.CMD_DISPLAY_CHECKSUM) == (0x20, 0x21, 0x22)
    assert (up.CMD_DISPLAY_BACKLIGHT, up.CMD_DISPLAY_INFO) == (0x23, 0x24)
    assert (up.CMD_KEYPAD_ENABLE, up.CMD_MSR_ENABLE) == (0x30, 0x38)


def test_display_requests() -> None:
    assert up.encode_display_write(2, 5, "OK") == bytes.fromhex("02 05 02 4F4B")
    assert [up.encode_display_pattern(p) for p in up.DISPLAY_PATTERNS] == [bytes([i]) for i in range(5)]
    with pytest.raises(ValueError):
        up.encode_display_pattern("plaid")
    frame = encode_frame(3, up.CMD_DISPLAY_PATTERN, up.encode_display_pattern("checkerboard"))
    assert frame[:6] == bytes.fromhex("A5 0001 03 21 02")


def test_display_answers() -> None:
    info = up.encode_display_info(128, 64, 1, 8, 21, up.DISPLAY_FLAG_CHECKSUM | up.DISPLAY_FLAG_BACKLIGHT_SENSE)
    assert info == bytes.fromhex("0080 0040 01 08 15 03")
    assert up.decode_display_info(info) == (128, 64, 1, 8, 21, 3)
    checksum = up.encode_display_checksum(0xCBF43926, 320, 240)
    assert checksum == bytes.fromhex("CBF43926 0140 00F0")
    assert up.decode_display_checksum(checksum) == (0xCBF43926, 320, 240)
    assert up.encode_backlight_answer(40.4) == bytes.fromhex("0194")
    assert up.decode_backlight_answer(bytes.fromhex("0194")) == 40.4
    assert up.encode_backlight_answer(-1) == b"\0\0"
    with pytest.raises(ProtocolError):
        up.decode_display_checksum(b"\x00\x01")


def test_keypad_and_msr_answers() -> None:
    layout = up.encode_key_layout(["1", "ENTER"])
    assert layout == bytes.fromhex("02 01 31 05 454E544552")
    assert up.decode_key_layout(layout) == ("1", "ENTER")
    assert up.encode_msr_tracks([1, 2]) == b"\x03" and up.encode_msr_tracks([3]) == b"\x04"
    assert up.decode_msr_tracks(b"\x05") == (1, 3)


def test_event_payloads() -> None:
    assert encode_event("key_down", {"key": "5", "t_ms": 60000}) == bytes.fromhex("02 01 35 0000EA60")
    assert encode_event("key_up", {"key": "F1"}) == bytes.fromhex("03 02 4631")
    assert encode_event("card_swipe", {"ok": False}) == bytes.fromhex("04 01 00 00 00")
    assert encode_event("card_swipe", {"ok": True, "track2": ";1=?8"}) == bytes.fromhex("04 00 00 05 3B313D3F38 00")
