"""Printer checks against the simulated USB printer: each fault ends in its own fault code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.checks.base import CheckSpec, StepContext
from bench.checks.printer import CHECKS
from bench.errors import DeviceError, PrinterError
from bench.operator import ScriptedOperator
from drivers.interfaces import Printer, PrinterIdentity, PrinterStatus
from drivers.registry import open_device
from drivers.sim.usbprinter import SimUsbBackend, SimUsbPrinter, install_sim_backend, uninstall_sim_backend

SPECS = {spec.name: spec for spec in CHECKS}


@pytest.fixture
def bus() -> Iterator[SimUsbBackend]:
    b = install_sim_backend("checks")
    yield b
    uninstall_sim_backend("checks")


def run(
    spec: CheckSpec,
    printer: Printer,
    params: dict[str, Any] | None = None,
    *,
    answer: bool = True,
    timeout: float = 10.0,
) -> tuple[str | None, StepContext]:
    """Run a check like the runner does; return (fault code or None for PASS, context)."""
    merged = {name: p.default for name, p in spec.params.items()}
    merged.update(params or {})
    ctx = StepContext(
        step=spec.name,
        spec=spec,
        params=merged,
        limits=dict(spec.measurements),
        devices={"printer": printer},
        operator=ScriptedOperator({"*": answer}),
        deadline=time.monotonic() + timeout,
    )
    try:
        spec.func(ctx)
    except DeviceError as exc:
        return exc.fault_code, ctx
    failed = [m for m in ctx.measurements if not m.passed]
    return (failed[0].fault or spec.fault) if failed else None, ctx


def printer_with(bus: SimUsbBackend, faults: dict[str, Any] | None = None) -> tuple[SimUsbPrinter, Printer]:
    sim = bus.add_printer(faults)
    printer = open_device("printer", sim.url)
    assert isinstance(printer, Printer)
    return sim, printer


def test_checks_are_declared() -> None:
    assert set(SPECS) == {"printer.status", "printer.test_page", "printer.cutter", "printer.throughput"}
    assert all(spec.devices == ("printer",) for spec in CHECKS)


def test_status_passes_on_a_good_printer(bus: SimUsbBackend) -> None:
    _, p = printer_with(bus)
    with p:
        fault, ctx = run(SPECS["printer.status"], p)
    assert fault is None
    values = {m.name: m.value for m in ctx.measurements}
    assert values["model"] == "TM-T88V" and values["cover_open"] is False


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"offline": True}, "PRN-OFFLINE"),
        ({"cover_open": True}, "PRN-COVER"),
        ({"paper_end": True}, "PRN-PAPER-END"),
        ({"head_overheat": True}, "PRN-HEAD-HOT"),
        ({"fatal": True}, "PRN-FATAL"),
        ({"cover_open": True, "paper_near_end": True}, "PRN-COVER"),
    ],
)
def test_status_fault_codes(bus: SimUsbBackend, faults: dict[str, bool], code: str) -> None:
    _, p = printer_with(bus, faults)
    with p:
        fault, _ = run(SPECS["printer.status"], p)
    assert fault == code


def test_status_cutter_error_after_a_jammed_cut(bus: SimUsbBackend) -> None:
    sim, p = printer_with(bus, {"cutter_jam": True})
    with p:
        assert run(SPECS["printer.status"], p)[0] is None
        sim.printer.feed(b"\x1dV\x00")
        assert run(SPECS["printer.status"], p)[0] == "PRN-CUTTER"


def test_near_end_notes_or_fails_by_param(bus: SimUsbBackend) -> None:
    _, p = printer_with(bus, {"paper_near_end": True})
    with p:
        fault, ctx = run(SPECS["printer.status"], p)
        assert fault is None
        assert any("near end" in n for n in ctx.notes)
        fault, _ = run(SPECS["printer.status"], p, {"near_end_fails": True})
        assert fault == "PRN-PAPER-NEAR-END"


def test_test_page_prints_attaches_png_and_asks(bus: SimUsbBackend) -> None:
    sim, p = printer_with(bus)
    with p:
        fault, ctx = run(SPECS["printer.test_page"], p)
        assert fault is None
        [att] = ctx.attachments
        assert (att.name, att.mime) == ("receipt.png", "image/png") and att.data[:8] == b"\x89PNG\r\n\x1a\n"
        page = bytes(sim.printer.page)
        assert b"BENCH PRINTER TEST" in page and b"\x1d(k" in page and b"\x1dk\x49" in page
        assert sim.printer.cuts == 1
        # the picture is of what was sent: it renders like what the printer received
        from drivers.escpos.render import render_png

        assert render_png(page[: page.rindex(b"\x1dr\x01")]).__len__() > 1000
        fault, _ = run(SPECS["printer.test_page"], p, answer=False)
        assert fault == "PRN-PRINT"


def test_test_page_on_a_printer_without_paper(bus: SimUsbBackend) -> None:
    sim, p = printer_with(bus, {"paper_end": True})
    with p:
        fault, _ = run(SPECS["printer.test_page"], p)
    assert fault == "PRN-PAPER-END"
    assert bytes(sim.printer.page) == b""


def test_test_page_offline_mid_print_fails_within_the_step(bus: SimUsbBackend) -> None:
    _, p = printer_with(bus, {"offline_after_bytes": 300, "buffer_size": 128})
    with p:
        t0 = time.monotonic()
        fault, ctx = run(SPECS["printer.test_page"], p, timeout=3.0)
        assert time.monotonic() - t0 < 4.0
    assert fault == "PRN-OFFLINE"
    assert ctx.attachments  # the picture of what was sent is kept for the report


def test_cutter(bus: SimUsbBackend) -> None:
    sim, p = printer_with(bus)
    with p:
        fault, ctx = run(SPECS["printer.cutter"], p, {"cuts": 3})
    assert fault is None and sim.printer.cuts == 3
    assert {m.name: m.value for m in ctx.measurements}["cuts_ok"] == 3


def test_cutter_jam(bus: SimUsbBackend) -> None:
    _, p = printer_with(bus, {"cutter_jam": True})
    with p:
        fault, ctx = run(SPECS["printer.cutter"], p, {"cuts": 2})
    assert fault == "PRN-CUTTER"
    assert {m.name: m.value for m in ctx.measurements}["cuts_ok"] == 0


def test_throughput_passes_fast_and_fails_slow(bus: SimUsbBackend) -> None:
    _, fast = printer_with(bus)
    with fast:
        fault, ctx = run(SPECS["printer.throughput"], fast, {"lines": 20})
    assert fault is None
    assert {m.name: m.value for m in ctx.measurements}["lines_per_s"] > 10
    _, slow = printer_with(bus, {"slow_lines_per_s": 5})
    with slow:
        fault, ctx = run(SPECS["printer.throughput"], slow, {"lines": 5})
    assert fault == "PRN-SLOW"
    lps = {m.name: m.value for m in ctx.measurements}["lines_per_s"]
    assert 3 < lps <= 5.1


class StopsPrinting(Printer):
    """A ready printer whose every write stops with the conditions given."""

    url = "fake://printer"

    def __init__(self, conditions: tuple[str, ...]) -> None:
        self.conditions = conditions

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        raise PrinterError("printer stopped accepting data after 0 bytes", conditions=self.conditions)

    def status(self, timeout: float = 2.0) -> PrinterStatus:
        return PrinterStatus(raw=b"\x12\x12\x12\x12")

    def identify(self, timeout: float = 2.0) -> PrinterIdentity:
        return PrinterIdentity("EPSON", "TM-T88V", "30.01")

    def wait_printed(self, timeout: float = 10.0) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("conditions", "code"),
    [
        ((), "PRN-OFFLINE"),
        (("offline",), "PRN-OFFLINE"),
        (("offline", "cover_open"), "PRN-COVER"),
        (("offline", "paper_end", "stopped_by_paper_end"), "PRN-PAPER-END"),
        (("offline", "cutter_error", "error"), "PRN-CUTTER"),
    ],
)
@pytest.mark.parametrize("check", ["printer.test_page", "printer.cutter", "printer.throughput"])
def test_a_printer_that_stops_fails_with_the_fault_of_its_condition(
    check: str, conditions: tuple[str, ...], code: str
) -> None:
    fault, _ = run(SPECS[check], StopsPrinting(conditions))
    assert fault == code
