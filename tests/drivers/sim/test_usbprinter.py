"""The simulated USB bus: pyusb enumerates its printers, bulk and control transfers reach them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import usb.core
import usb.util
from PIL import Image, ImageOps

from drivers import escpos
from drivers.escpos.render import render
from drivers.sim.usbprinter import SimUsbBackend, install_sim_backend, uninstall_sim_backend


@pytest.fixture
def backend() -> Iterator[SimUsbBackend]:
    b = install_sim_backend("test-usbprinter")
    yield b
    uninstall_sim_backend("test-usbprinter")


def test_pyusb_enumerates_a_printer_class_device(backend: SimUsbBackend) -> None:
    sim = backend.add_printer()
    dev = usb.core.find(idVendor=0x04B8, idProduct=0x0E15, backend=backend)
    assert dev is not None
    assert (dev.bDeviceClass, dev.bNumConfigurations, dev.bcdUSB) == (0, 1, 0x0200)
    assert dev.manufacturer == "EPSON"
    assert dev.product == "TM-T88V"
    assert dev.serial_number == sim.printer.info.serial
    cfg = dev[0]
    intf = cfg[(0, 0)]
    assert (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol) == (7, 1, 2)
    eps = {e.bEndpointAddress: e for e in intf}
    assert set(eps) == {0x01, 0x82}
    assert usb.util.endpoint_type(eps[0x01].bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
    assert usb.util.endpoint_direction(eps[0x82].bEndpointAddress) == usb.util.ENDPOINT_IN
    # find by class, the way a generic printer client looks for it
    assert usb.core.find(backend=backend, custom_match=lambda d: d.idVendor == 0x04B8) is not None
    assert usb.core.find(idVendor=0x1234, backend=backend) is None


def test_raw_descriptors_over_control_transfers(backend: SimUsbBackend) -> None:
    backend.add_printer()
    dev = usb.core.find(idVendor=0x04B8, backend=backend)
    raw = bytes(dev.ctrl_transfer(0x80, 6, 0x0100, 0, 18))
    assert raw[:2] == b"\x12\x01" and raw[8:12] == b"\xb8\x04\x15\x0e"
    cfg = bytes(dev.ctrl_transfer(0x80, 6, 0x0200, 0, 255))
    assert len(cfg) == 32 and cfg[9 + 5 : 9 + 8] == b"\x07\x01\x02"


def test_ieee1284_get_device_id(backend: SimUsbBackend) -> None:
    backend.add_printer()
    dev = usb.core.find(idVendor=0x04B8, backend=backend)
    dev.set_configuration()
    raw = bytes(dev.ctrl_transfer(0xA1, 0, 0, 0, 1024))
    length = int.from_bytes(raw[:2], "big")
    assert length == len(raw)
    assert raw[2:].decode() == "MFG:EPSON;CMD:ESC/POS;MDL:TM-T88V;CLS:PRINTER;DES:EPSON TM-T88V;"
    assert bytes(dev.ctrl_transfer(0xA1, 1, 0, 0, 1)) == b"\x18"  # GET_PORT_STATUS: no error, selected


def test_bulk_roundtrip_dle_eot(backend: SimUsbBackend) -> None:
    backend.add_printer({"cover_open": True})
    dev = usb.core.find(idVendor=0x04B8, backend=backend)
    dev.set_configuration()
    dev.write(0x01, escpos.status_request(2), 1000)
    assert bytes(dev.read(0x82, 64, 1000)) == b"\x16"
    with pytest.raises(usb.core.USBTimeoutError):
        dev.read(0x82, 64, 50)


def test_offline_bulk_write_times_out_in_time(backend: SimUsbBackend) -> None:
    backend.add_printer({"offline": True, "buffer_size": 16})
    dev = usb.core.find(idVendor=0x04B8, backend=backend)
    dev.set_configuration()
    t0 = time.monotonic()
    with pytest.raises(usb.core.USBTimeoutError):
        dev.write(0x01, b"x" * 100, 200)
    assert 0.15 < time.monotonic() - t0 < 1.0
    dev.write(0x01, escpos.status_request(1), 200)  # real-time requests still get through
    assert bytes(dev.read(0x82, 64, 200)) == b"\x1a"


def test_multiple_printers_have_distinct_serials_and_urls(backend: SimUsbBackend) -> None:
    a = backend.add_printer()
    b = backend.add_printer()
    assert a.printer.info.serial != b.printer.info.serial
    assert a.url == "usb://04b8:0e15?backend=sim:test-usbprinter&serial=SIM00001"
    assert len(list(usb.core.find(find_all=True, idVendor=0x04B8, backend=backend))) == 2


def _ink_bbox(img: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageOps.invert(img.convert("L")).getbbox()


def test_python_escpos_prints_text_qr_and_barcode(backend: SimUsbBackend) -> None:
    printer_mod = pytest.importorskip("escpos.printer")
    sim = backend.add_printer()
    p = printer_mod.Usb(0x04B8, 0x0E15, usb_args={"backend": backend}, timeout=1000, profile="TM-T88V")
    p.open()
    try:
        p.set(align="left")
        p.textln("Hello from python-escpos")
        p.qr("https://example.com", size=6, native=True)
        p.barcode("4006381333931", "EAN13", height=60, width=2, pos="OFF")
        p.cut()
    finally:
        p.close()
    page = bytes(sim.printer.page)
    names = [c.name for c in escpos.commands(page)]
    assert "GS ( k" in names and "GS k" in names and "GS V" in names
    assert b"Hello from python-escpos" in page
    img = render(page)
    assert img.width == 576
    text_only = render(page[: page.index(b"Hello") + 30])
    bbox = _ink_bbox(img)
    assert bbox is not None
    # text in the first lines, then the QR and the barcode below it
    text_box = _ink_bbox(text_only)
    assert text_box is not None and text_box[3] < 80
    below = img.crop((0, text_box[3] + 4, 576, img.height))
    below_box = _ink_bbox(below)
    assert below_box is not None and below_box[3] - below_box[1] > 150  # QR (~150 dots) + 60-dot barcode
    assert sim.printer.cuts == 1
