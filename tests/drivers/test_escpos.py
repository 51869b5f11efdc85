"""Exact bytes of the ESC/POS encoders and the DLE EOT status decoder."""

from __future__ import annotations

import pytest

from drivers import escpos
from drivers.errors import ConfigError, ProtocolError
from drivers.interfaces import PrinterStatus


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_status_request_bytes(n: int) -> None:
    assert escpos.status_request(n) == bytes([0x10, 0x04, n])


@pytest.mark.parametrize("n", [0, 5, 0x31])
def test_status_request_rejects_bad_n(n: int) -> None:
    with pytest.raises(ConfigError):
        escpos.status_request(n)


def test_info_and_sensor_requests() -> None:
    assert escpos.info_request(escpos.INFO_MODEL) == b"\x1d\x49\x43"
    assert escpos.info_request(escpos.INFO_FIRMWARE) == b"\x1d\x49\x41"
    assert escpos.paper_sensor_request() == b"\x1d\x72\x01"


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


def test_text_style_encoders() -> None:
    assert escpos.INIT == b"\x1b\x40"
    assert escpos.bold() == b"\x1b\x45\x01"
    assert escpos.bold(False) == b"\x1b\x45\x00"
    assert escpos.underline(2) == b"\x1b\x2d\x02"
    assert escpos.size(1, 1) == b"\x1d\x21\x00"
    assert escpos.size(2, 1) == b"\x1d\x21\x10"
    assert escpos.size(1, 2) == b"\x1d\x21\x01"
    assert escpos.size(8, 8) == b"\x1d\x21\x77"
    assert escpos.align("left") == b"\x1b\x61\x00"
    assert escpos.align("center") == b"\x1b\x61\x01"
    assert escpos.align("right") == b"\x1b\x61\x02"
    assert escpos.feed(3) == b"\x1b\x64\x03"
    assert escpos.line("Hé") == b"H\x82\n"  # code page 437
    with pytest.raises(ConfigError):
        escpos.size(9, 1)
    with pytest.raises(ConfigError):
        escpos.align("middle")


def test_cut_encoders() -> None:
    assert escpos.cut() == b"\x1d\x56\x00"
    assert escpos.cut(partial=True) == b"\x1d\x56\x01"
    assert escpos.cut(feed_dots=60) == b"\x1d\x56\x41\x3c"
    assert escpos.cut(partial=True, feed_dots=0) == b"\x1d\x56\x42\x00"


def test_raster_encoder() -> None:
    assert escpos.raster(16, 2, b"\xff\x00\x0f\xf0") == b"\x1d\x76\x30\x00\x02\x00\x02\x00\xff\x00\x0f\xf0"
    with pytest.raises(ConfigError):
        escpos.raster(16, 2, b"\xff")


def test_barcode_encoder() -> None:
    assert escpos.barcode("4006381333931", "EAN13", height=50, module=2, hri=0) == (
        b"\x1d\x68\x32\x1d\x77\x02\x1d\x48\x00\x1d\x6b\x43\x0d4006381333931"
    )
    assert escpos.barcode("AB1", "CODE128").endswith(b"\x1d\x6b\x49\x05{BAB1")


def test_qr_encoder() -> None:
    assert escpos.qr("hi", module=4, ec="M") == (
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
        b"\x1d\x28\x6b\x03\x00\x31\x43\x04"
        b"\x1d\x28\x6b\x03\x00\x31\x45\x31"
        b"\x1d\x28\x6b\x05\x00\x31\x50\x30hi"
        b"\x1d\x28\x6b\x03\x00\x31\x51\x30"
    )


def test_parser_names_commands() -> None:
    data = (
        escpos.INIT
        + escpos.bold()
        + b"AB\n"
        + escpos.status_request(2)
        + escpos.raster(8, 1, b"\x80")
        + escpos.barcode("12", "CODE39")
        + b"\x1dk\x04*1*\x00"
        + escpos.qr("x")
        + escpos.cut(feed_dots=3)
    )
    names = [c.name for c in escpos.commands(data)]
    assert names == [
        "ESC @",
        "ESC E",
        "text",
        "LF",
        "DLE EOT",
        "GS v 0",
        "GS h",
        "GS w",
        "GS H",
        "GS k",
        "GS k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS V",
    ]
    cmds = list(escpos.commands(data))
    assert cmds[4].realtime and cmds[4].args == b"\x02"
    assert cmds[9].data == b"12" and cmds[10].data == b"*1*"


def test_parser_waits_for_split_commands() -> None:
    data = b"AB" + escpos.raster(8, 2, b"\x80\x01")
    cmds, used = escpos.parse(data[:-1], final=False)
    assert [c.name for c in cmds] == ["text"] and used == 2
    cmds, used = escpos.parse(data[:-1], final=True)
    assert cmds[-1].name == "incomplete" and used == len(data) - 1
    assert escpos.next_command(data, 2) == (escpos.Command("GS v 0", data[4:10], b"\x80\x01"), len(data))
