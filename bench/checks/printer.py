"""Checks of the receipt printer: real-time status, test page, autocutter, throughput.

Every status condition fails with its own fault code (cover open ``PRN-COVER``, paper end
``PRN-PAPER-END``, ...; the table is :data:`bench.faults.PRINTER_CONDITIONS`). Measurements
are reported most specific first, so a cover-open printer (which is also offline) fails as
``PRN-COVER``, not ``PRN-OFFLINE``. A printer that stops taking data mid-print ends the
step with the driver's PrinterError within the step's remaining time, never a hang, and
with the fault code of the condition the error names.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import DeviceError, PrinterError
from bench.faults import PRINTER_CONDITIONS, printer_fault
from bench.measure import Limit
from drivers import escpos
from drivers.i18n import N_
from drivers.interfaces import Printer, PrinterStatus

_LOG = logging.getLogger(__name__)

STATUS_TIMEOUT = 2.0
TEST_PAGE_QUESTION = N_(
    "Is the test page printed cleanly (every text size legible, no white gaps in the black ruler bar, "
    "barcode and QR code sharp)?"
)


def _printer(ctx: StepContext) -> Printer:
    return ctx.device("printer", Printer)


def _fails_with_the_condition(check: Callable[[StepContext], None]) -> Callable[[StepContext], None]:
    """A printer that stopped fails with the fault of the condition it showed (``bench.faults``)."""

    @functools.wraps(check)
    def run(ctx: StepContext) -> None:
        try:
            check(ctx)
        except PrinterError as exc:
            code = printer_fault(exc.conditions)
            if code is None or code == exc.fault_code:
                raise
            raise PrinterError(exc.message, conditions=exc.conditions, fault_code=code, detail=exc.detail) from exc

    return run


def _judge_status(ctx: StepContext, st: PrinterStatus, *, near_end_fails: bool) -> bool:
    """Measure every condition against its fault code; True when none failed."""
    ok = True
    # Offline is what a printer reports *because* of a cover, paper or head condition; it is
    # a fault of its own only when no such cause explains it.
    explained = any(getattr(st, name) for name, _ in PRINTER_CONDITIONS if name not in ("offline", "paper_near_end"))
    for name, code in PRINTER_CONDITIONS:
        value = bool(getattr(st, name))
        if name == "offline" and explained:
            ctx.measure(name, value, judged=False)
            continue
        if name == "paper_near_end" and not near_end_fails:
            ctx.measure(name, value)
            if value:
                ctx.note("paper near end: replace the roll soon (not a failure on this plan)")
            continue
        m = ctx.measure(name, value, limit=Limit(equals=False, fault=code))
        ok = ok and m.passed
    if st.feed_button:
        ctx.note("the paper feed button is pressed")
    return ok


def _require_ready(ctx: StepContext, printer: Printer) -> None:
    """Fail with the condition's fault code when the printer cannot print now."""
    st = printer.status(timeout=ctx.budget(STATUS_TIMEOUT))
    code = printer_fault(st.conditions, near_end=False)
    if code is not None:
        raise DeviceError(N_("printer not ready: {status}", status=st.describe()), fault_code=code,
                          detail=f"status bytes {st.raw.hex(' ')}")


@_fails_with_the_condition
def status(ctx: StepContext) -> None:
    """Read real-time status (each condition fails with its own fault code), then identity when online.

    ``GS I`` is not a real-time command: an offline printer holds it, so identity is read
    only when the status shows the printer online.
    """
    printer = _printer(ctx)
    st = printer.status(timeout=ctx.budget(STATUS_TIMEOUT))
    ctx.note(f"status bytes {st.raw.hex(' ')}: {st.describe()}")
    _judge_status(ctx, st, near_end_fails=bool(ctx.params["near_end_fails"]))
    if ctx.params["identify"] and not st.offline:
        ident = printer.identify(timeout=ctx.budget(STATUS_TIMEOUT))
        ctx.note(f"{ident.manufacturer} {ident.model} firmware {ident.firmware} serial {ident.serial or '-'}")
        if ident.device_id:
            ctx.note(f"IEEE 1284 device ID: {ident.device_id}")
        ctx.measure("model", ident.model)
        ctx.measure("firmware", ident.firmware)


def _ruler(width: int = 576) -> bytes:
    """A raster dot ruler: a solid bar (a dead dot shows as a white streak) over tick marks."""
    width_bytes = width // 8
    rows: list[bytes] = [b"\xff" * width_bytes] * 24
    for r in range(16):
        row = bytearray(width_bytes)
        for x in range(0, width, 8):
            if r < 6 or x % 64 == 0 or (x % 32 == 0 and r < 11):
                row[x // 8] |= 0x80
        rows.append(bytes(row))
    bits = b"".join(rows)
    return escpos.raster(width, len(rows), bits)


def test_page_bytes(qr_data: str, barcode_data: str, title: str = "BENCH PRINTER TEST") -> bytes:
    """The test page: text sizes, bold, alignment, dot ruler, barcode, QR, cut."""
    return b"".join(
        [
            escpos.INIT,
            escpos.align("center"),
            escpos.bold(True),
            escpos.size(2, 2),
            escpos.line(title),
            escpos.size(1, 1),
            escpos.bold(False),
            escpos.line(time.strftime("%Y-%m-%d %H:%M:%S")),
            escpos.align("left"),
            escpos.line("Font A 12x24: ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            escpos.line("0123456789 abcdefghijklmnopqrstuvwxyz !#%&*"),
            escpos.bold(True),
            escpos.line("Bold: THE QUICK BROWN FOX"),
            escpos.bold(False),
            escpos.size(2, 1),
            escpos.line("Double width"),
            escpos.size(1, 2),
            escpos.line("Double height"),
            escpos.size(2, 2),
            escpos.line("Double both"),
            escpos.size(1, 1),
            escpos.align("right"),
            escpos.line("right aligned"),
            escpos.align("left"),
            escpos.line("Dot ruler (no white streaks allowed):"),
            _ruler(),
            escpos.feed(1),
            escpos.align("center"),
            escpos.barcode(barcode_data, "CODE128", height=80, module=2, hri=2),
            escpos.feed(1),
            escpos.qr(qr_data, module=6, ec="M"),
            escpos.feed(1),
            escpos.line("-- end of test page --"),
            escpos.align("left"),
            escpos.cut(partial=False, feed_dots=60),
        ]
    )


@_fails_with_the_condition
def test_page(ctx: StepContext) -> None:
    """Print the test page, attach the picture of what was sent, and ask the operator to judge it."""
    printer = _printer(ctx)
    _require_ready(ctx, printer)
    page = test_page_bytes(str(ctx.params["qr_data"]), str(ctx.params["barcode_data"]))
    try:
        from drivers.escpos.render import render_png
    except ImportError as exc:  # Pillow missing: the page still prints
        ctx.note(f"no receipt picture: {exc}")
    else:
        ctx.attach("receipt.png", render_png(page), "image/png")
    ctx.measure("bytes_sent", len(page), unit="B")
    # The page must be on paper within print_timeout, however long the operator may take
    # to judge it: a printer that stops mid-page fails here, not at the end of the step.
    print_deadline = time.monotonic() + min(float(ctx.params["print_timeout"]), ctx.remaining())
    printer.write(page, timeout=max(0.05, print_deadline - time.monotonic()))
    printer.wait_printed(timeout=max(0.05, print_deadline - time.monotonic()))
    st = printer.status(timeout=ctx.budget(STATUS_TIMEOUT))
    if not _judge_status(ctx, st, near_end_fails=False):
        return
    accepted = ctx.operator.confirm(TEST_PAGE_QUESTION, timeout=ctx.budget(float(ctx.params["confirm_timeout"])))
    ctx.measure("operator_accepts", accepted, limit=Limit(equals=True, fault="PRN-PRINT"))


@_fails_with_the_condition
def cutter(ctx: StepContext) -> None:
    """Cut the paper ``cuts`` times; after each cut the status must show no autocutter error."""
    printer = _printer(ctx)
    _require_ready(ctx, printer)
    cuts = int(ctx.params["cuts"])
    done = 0
    for i in range(1, cuts + 1):
        ctx.check_cancelled()
        printer.write(
            escpos.line(f"cutter test {i}/{cuts}") + escpos.cut(bool(ctx.params["partial"]), 60),
            timeout=ctx.budget(),
        )
        try:
            printer.wait_printed(timeout=ctx.budget())
        except DeviceError:
            ctx.measure("cuts_ok", done)
            raise
        st = printer.status(timeout=ctx.budget(STATUS_TIMEOUT))
        if st.cutter_error or printer_fault(st.conditions, near_end=False):
            ctx.note(f"after cut {i}: {st.describe()}")
            ctx.measure("cuts_ok", done)
            _judge_status(ctx, st, near_end_fails=False)
            return
        done += 1
    ctx.measure("cuts_ok", done)
    ctx.measure("cutter_error", False, limit=Limit(equals=False, fault="PRN-CUTTER"))


@_fails_with_the_condition
def throughput(ctx: StepContext) -> None:
    """Print ``lines`` lines and measure lines per second (until the printer reports them done)."""
    printer = _printer(ctx)
    _require_ready(ctx, printer)
    lines = int(ctx.params["lines"])
    body = b"".join(escpos.line(f"{i:04d} " + "=" * 12 + " throughput " + "=" * 12) for i in range(1, lines + 1))
    t0 = time.monotonic()
    printer.write(body, timeout=ctx.budget())
    printer.wait_printed(timeout=ctx.budget())
    elapsed = max(time.monotonic() - t0, 1e-6)
    ctx.measure("print_time_s", round(elapsed, 3), unit="s")
    ctx.measure("lines_per_s", round(lines / elapsed, 2), unit="lines/s")
    printer.write(escpos.cut(False, 60), timeout=ctx.budget())


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "printer.status",
        status,
        N_("printer identity (GS I) and real-time status (DLE EOT 1-4): each condition has its own fault"),
        devices=("printer",),
        params={
            "near_end_fails": Param(bool, False, N_("paper near end fails the step (else it is only noted)")),
            "identify": Param(bool, True, N_("read manufacturer, model and firmware with GS I")),
        },
        measurements={
            "model": None,
            "firmware": None,
            **{
                name: (None if name == "paper_near_end" else Limit(equals=False, fault=code))
                for name, code in PRINTER_CONDITIONS
            },
        },
        fault="PRN-OFFLINE",
    ),
    CheckSpec(
        "printer.test_page",
        test_page,
        N_("print a test page (text sizes, dot ruler, barcode, QR) and ask the operator to judge it"),
        devices=("printer",),
        params={
            "qr_data": Param(str, "https://example.com/bench", N_("what the test page's QR code holds")),
            "barcode_data": Param(str, "BENCH-0123456789", N_("what the test page's CODE128 barcode holds")),
            "confirm_timeout": Param((int, float), 120.0, N_("seconds the operator has to judge the page")),
            "print_timeout": Param((int, float), 20.0, N_("seconds the printer has to put the page on paper")),
        },
        measurements={"bytes_sent": None, "operator_accepts": Limit(equals=True, fault="PRN-PRINT")},
        fault="PRN-PRINT",
    ),
    CheckSpec(
        "printer.cutter",
        cutter,
        N_("cut the paper, then the status must show no autocutter error"),
        devices=("printer",),
        params={
            "cuts": Param(int, 1, N_("how many cuts"), bounds=(0, 100)),
            "partial": Param(bool, False, N_("partial cut instead of a full cut")),
        },
        measurements={"cuts_ok": None, "cutter_error": Limit(equals=False, fault="PRN-CUTTER")},
        fault="PRN-CUTTER",
    ),
    CheckSpec(
        "printer.throughput",
        throughput,
        N_("print N lines and measure lines per second against a minimum"),
        devices=("printer",),
        params={"lines": Param(int, 40, N_("lines to print"), bounds=(1, 1000))},
        measurements={
            "print_time_s": None,
            "lines_per_s": Limit(min=10.0, unit="lines/s", fault="PRN-SLOW"),
        },
        fault="PRN-SLOW",
    ),
)
