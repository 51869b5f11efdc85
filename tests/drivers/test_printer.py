"""The printer driver over the simulated USB bus (and a pty for serial): same code, other backend."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from drivers import escpos
from drivers.errors import ConfigError, DeviceError, EquipmentError
from drivers.interfaces import Printer
from drivers.printer import fault_for, open_printer
from drivers.registry import open_device
from drivers.sim.usbprinter import SimPrinter, SimUsbBackend, install_sim_backend, uninstall_sim_backend


@pytest.fixture
def bus() -> Iterator[SimUsbBackend]:
    b = install_sim_backend()
    yield b
    uninstall_sim_backend()


def test_open_through_registry_status_and_identity(bus: SimUsbBackend) -> None:
    sim = bus.add_printer()
    with open_device("printer", sim.url) as p:
        assert isinstance(p, Printer)
        st = p.status()
        assert st.ready and st.raw == b"\x12\x12\x12\x12"
        ident = p.identify()
        assert (ident.manufacturer, ident.model, ident.firmware, ident.serial) == (
            "EPSON",
            "TM-T88V",
            "30.01 ESC/POS",
            "SIM00001",
        )
        assert ident.device_id.startswith("MFG:EPSON;CMD:ESC/POS;MDL:TM-T88V;")


def test_write_reaches_the_page(bus: SimUsbBackend) -> None:
    sim = bus.add_printer()
    data = escpos.INIT + escpos.line("x" * 100) * 100  # several chunks and packets
    with open_printer(sim.url) as p:
        p.write(data)
        p.wait_printed(timeout=2.0)
    assert bytes(sim.printer.page) == data + escpos.paper_sensor_request()


@pytest.mark.parametrize(
    ("faults", "condition", "code"),
    [
        ({"offline": True}, "offline", "PRN-OFFLINE"),
        ({"cover_open": True}, "cover_open", "PRN-COVER"),
        ({"paper_end": True}, "paper_end", "PRN-PAPER-END"),
        ({"paper_near_end": True}, "paper_near_end", "PRN-PAPER-NEAR-END"),
        ({"head_overheat": True}, "auto_recoverable_error", "PRN-HEAD-HOT"),
        ({"fatal": True}, "unrecoverable_error", "PRN-FATAL"),
        ({"feed_button": True}, "feed_button", None),
    ],
)
def test_each_fault_decodes_to_its_condition(
    bus: SimUsbBackend, faults: dict[str, bool], condition: str, code: str | None
) -> None:
    sim = bus.add_printer(faults)
    with open_printer(sim.url) as p:
        st = p.status()
    assert getattr(st, condition) is True
    assert fault_for(st) == code


def test_offline_mid_print_fails_in_time(bus: SimUsbBackend) -> None:
    sim = bus.add_printer({"offline_after_bytes": 500, "buffer_size": 256})
    with open_printer(sim.url) as p:
        t0 = time.monotonic()
        with pytest.raises(DeviceError) as info:
            p.write(escpos.line("y" * 60) * 200, timeout=1.0)
        assert time.monotonic() - t0 < 2.0
    assert info.value.fault_code == "PRN-OFFLINE"
    assert "stopped accepting data" in str(info.value) and "offline" in str(info.value)


def test_cover_opened_before_wait_printed(bus: SimUsbBackend) -> None:
    sim = bus.add_printer()
    with open_printer(sim.url) as p:
        p.write(escpos.line("first"))
        sim.printer.set_fault("cover_open", True)
        p.write(escpos.line("second"))  # buffered while offline
        with pytest.raises(DeviceError) as info:
            p.wait_printed(timeout=0.3)
        assert info.value.fault_code == "PRN-COVER"
        sim.printer.set_fault("cover_open", False)
        p.wait_printed(timeout=1.0)  # the late GS r answer is drained, not confused
        assert p.status().ready
    assert b"second" in bytes(sim.printer.page)


def test_slow_printer_is_paced(bus: SimUsbBackend) -> None:
    sim = bus.add_printer({"slow_lines_per_s": 50})
    with open_printer(sim.url) as p:
        t0 = time.monotonic()
        p.write(escpos.line("z") * 10)
        p.wait_printed()
        assert time.monotonic() - t0 >= 0.18


def test_url_errors(bus: SimUsbBackend) -> None:
    with pytest.raises(EquipmentError):
        open_printer("usb://04b8:0e15?backend=sim")  # nothing plugged
    bus.add_printer()
    with pytest.raises(EquipmentError):
        open_printer("usb://04b8:0e15?backend=sim&serial=NOPE")
    with pytest.raises(EquipmentError):
        open_printer("usb://04b8:0e15?backend=sim:not-installed")
    with pytest.raises(ConfigError):
        open_printer("usb://04b8:0e15?backend=winusb")
    with pytest.raises(ConfigError):
        open_printer("usb://epson")
    with pytest.raises(EquipmentError) as info:
        open_printer("unit://")
    assert "not available yet" in str(info.value)
    with pytest.raises(EquipmentError):
        open_printer("serial:///dev/does-not-exist?baud=38400")


def test_closed_printer_is_an_equipment_error(bus: SimUsbBackend) -> None:
    p = open_printer(bus.add_printer().url)
    p.close()
    p.close()
    with pytest.raises(EquipmentError):
        p.status()


def test_serial_printer_on_a_pty() -> None:
    """The same driver over pyserial: a SimPrinter answers on the other end of a pty."""
    master, slave = os.openpty()
    sim = SimPrinter()
    stop = threading.Event()

    def serve() -> None:
        import select

        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                replies = sim.feed(os.read(master, 4096))
                if replies:
                    os.write(master, replies)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with open_printer(f"serial://{os.ttyname(slave)}?baud=38400") as p:
            assert p.status().ready
            assert p.identify().model == "TM-T88V"
            p.write(escpos.line("over serial"))
            p.wait_printed(timeout=2.0)
        assert b"over serial" in bytes(sim.page)
    finally:
        stop.set()
        t.join()
        os.close(master)
        os.close(slave)
