"""The ESC/POS printer driver over the simulated USB bus: status, identity, writes, stalls, faults."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers import escpos
from drivers.errors import EquipmentError, PrinterError
from drivers.interfaces import Printer
from drivers.registry import open_device
from drivers.sim.usbprinter import SimUsbBackend, install_sim_backend, uninstall_sim_backend

ROOT = Path(__file__).resolve().parents[2]


def open_printer(url: str) -> Printer:
    p = open_device("printer", url)
    assert isinstance(p, Printer)
    return p


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
    ("faults", "conditions", "words"),
    [
        ({}, (), "ready"),
        ({"offline": True}, ("offline",), "offline"),
        ({"cover_open": True}, ("offline", "cover_open"), "offline, cover open"),
        ({"paper_end": True}, ("offline", "paper_end", "stopped_by_paper_end"), "offline, paper end, printing stopped by paper end"),
        ({"paper_near_end": True}, ("paper_near_end",), "paper near end"),
        ({"head_overheat": True}, ("offline", "auto_recoverable_error", "waiting_online_recovery", "error"),
         "offline, head overheated (auto-recoverable error), waiting for online recovery, error occurred"),
        ({"fatal": True}, ("offline", "unrecoverable_error", "error"), "offline, unrecoverable error, error occurred"),
        ({"feed_button": True}, ("feed_button", "paper_feeding"), "feed button pressed, paper being fed by the feed button"),
    ],
)
def test_each_fault_decodes_to_its_conditions(
    bus: SimUsbBackend, faults: dict[str, bool], conditions: tuple[str, ...], words: str
) -> None:
    sim = bus.add_printer(faults)
    with open_printer(sim.url) as p:
        st = p.status()
    assert set(st.conditions) == set(conditions)
    assert st.describe() == words


def test_offline_mid_print_fails_in_time(bus: SimUsbBackend) -> None:
    sim = bus.add_printer({"offline_after_bytes": 500, "buffer_size": 256})
    with open_printer(sim.url) as p:
        t0 = time.monotonic()
        with pytest.raises(PrinterError) as info:
            p.write(escpos.line("y" * 60) * 200, timeout=1.0)
        assert time.monotonic() - t0 < 2.0
    assert info.value.conditions == ("offline",) and info.value.fault_code == "PRN-OFFLINE"
    assert "stopped accepting data" in str(info.value) and "(offline)" in str(info.value)


def test_cover_opened_before_wait_printed(bus: SimUsbBackend) -> None:
    sim = bus.add_printer()
    with open_printer(sim.url) as p:
        p.write(escpos.line("first"))
        sim.printer.set_fault("cover_open", True)
        p.write(escpos.line("second"))  # buffered while offline
        with pytest.raises(PrinterError) as info:
            p.wait_printed(timeout=0.3)
        assert "cover_open" in info.value.conditions and "(offline, cover open)" in str(info.value)
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


def test_closed_printer_is_an_equipment_error(bus: SimUsbBackend) -> None:
    p = open_printer(bus.add_printer().url)
    p.close()
    p.close()
    with pytest.raises(EquipmentError):
        p.status()


def test_unit_printer_is_not_available_yet() -> None:
    with pytest.raises(EquipmentError) as info:
        open_printer("unit://")
    assert "not available yet" in str(info.value)


def _names_in(path: Path) -> Iterator[str]:
    """Every module an import names, and every string (an importlib target is one)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or ""
            yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_the_real_driver_never_names_the_simulator() -> None:
    modules = sorted((ROOT / "drivers").glob("printer*.py"))
    assert {m.name for m in modules} >= {"printer.py", "printer_usb.py", "printer_serial.py"}
    for path in modules:
        named = [n for n in _names_in(path) if "drivers.sim" in n or "drivers/sim" in n]
        assert not named, f"{path.name} names the simulator: {named}"
    code = (
        "import sys, drivers.printer, drivers.printer_usb, drivers.printer_serial, drivers.registry; "
        "print(sorted(m for m in sys.modules if m.startswith('drivers.sim')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
