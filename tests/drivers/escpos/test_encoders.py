"""Exact bytes of the ESC/POS command encoders."""

from __future__ import annotations

import pytest

from drivers import escpos
from drivers.errors import ConfigError


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
