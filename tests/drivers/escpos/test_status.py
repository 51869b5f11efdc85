"""The DLE EOT status decoder and the GS I answers, bit by bit."""

from __future__ import annotations

import pytest

from drivers import escpos
from drivers.errors import ProtocolError
from drivers.interfaces import PrinterStatus


def test_all_clear_status_is_0x12_everywhere() -> None:
    st = escpos.decode_status(b"\x12\x12\x12\x12")
    assert st.conditions == ()
    assert st.ready
    assert st.raw == b"\x12\x12\x12\x12"


@pytest.mark.parametrize(
    ("n", "value", "flag"),
    [
        (1, 0x16, "drawer_pin3"),
        (1, 0x1A, "offline"),
        (1, 0x32, "waiting_online_recovery"),
        (1, 0x52, "feed_button"),
        (2, 0x16, "cover_open"),
        (2, 0x1A, "paper_feeding"),
        (2, 0x32, "stopped_by_paper_end"),
        (2, 0x52, "error"),
        (3, 0x16, "recoverable_error"),
        (3, 0x1A, "cutter_error"),
        (3, 0x32, "unrecoverable_error"),
        (3, 0x52, "auto_recoverable_error"),
        (4, 0x1E, "paper_near_end"),
        (4, 0x72, "paper_end"),
    ],
)
def test_each_status_bit_decodes_to_its_condition(n: int, value: int, flag: str) -> None:
    decoded = escpos.decode_status_byte(n, value)
    assert decoded[flag] is True
    assert [k for k, v in decoded.items() if v] == [flag]
    # and back: the encoder sets exactly that bit on top of the fixed bits
    assert escpos.encode_status_byte(n, PrinterStatus(**{flag: True})) == value


def test_paper_sensor_needs_both_bits() -> None:
    assert escpos.decode_status_byte(4, 0x16)["paper_near_end"] is False
    assert escpos.decode_status_byte(4, 0x32)["paper_end"] is False


@pytest.mark.parametrize("value", [0x13, 0x10, 0x02, 0x92, 0x00, 0xFF])
def test_fixed_bits_are_checked(value: int) -> None:
    with pytest.raises(ProtocolError) as info:
        escpos.decode_status_byte(1, value)
    assert info.value.fault_code == "PRN-FATAL"


def test_decode_status_needs_four_bytes() -> None:
    with pytest.raises(ProtocolError):
        escpos.decode_status(b"\x12\x12")


def test_info_reply() -> None:
    assert escpos.decode_info(b"_TM-T88V\x00") == "TM-T88V"
    assert escpos.encode_info("EPSON") == b"_EPSON\x00"
    with pytest.raises(ProtocolError):
        escpos.decode_info(b"TM-T88V\x00")
