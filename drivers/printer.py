"""ESC/POS receipt printers on any transport: the :class:`Printer` the checks talk to.

A transport moves bytes (:class:`PrinterTransport`); :class:`EscPosPrinter` speaks ESC/POS
over it and never asks which one it has. Each URL scheme has its own opener, named in
:data:`drivers.registry.REGISTRY`: ``usb://`` (:mod:`drivers.printer_usb`), ``serial://``
(:mod:`drivers.printer_serial`) and ``unit://`` (:func:`open_unit_printer`, not available
yet). Every call is traced on a child logger named after the URL, with its duration.

Real-time status (``DLE EOT n``) works even when the printer is offline; a printer that
stops accepting data (offline mid-print, cover opened) makes :meth:`EscPosPrinter.write`
raise a :class:`~drivers.errors.PrinterError` within its timeout, naming the conditions the
status then shows (cover open, paper end, ...). Which fault code a condition is, the harness
decides (``bench.faults``), not this driver.
"""

from __future__ import annotations

import abc
import logging
import time
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from drivers import escpos
from drivers.errors import DeviceError, EquipmentError, PrinterError
from drivers.i18n import N_
from drivers.interfaces import Printer, PrinterIdentity, PrinterStatus

_LOG = logging.getLogger(__name__)

CHUNK = 4096
DRAIN_TIMEOUT = 0.005
POLL_INTERVAL = 0.25  # wait_printed polls the real-time status this often
OFFLINE_GRACE = 5.0  # seconds a printer may stay plainly offline while printing before it is a fault

STOPS_PRINTING: tuple[str, ...] = (
    "cover_open",
    "paper_end",
    "cutter_error",
    "auto_recoverable_error",
    "unrecoverable_error",
)
"""Conditions that stop printing for good: :meth:`EscPosPrinter.wait_printed` fails at once on one."""


def _words(status: PrinterStatus | None) -> str:
    return status.describe() if status is not None else "status unknown"


# --------------------------------------------------------------------------- transports


class TransportStalled(Exception):
    """The transport did not accept data within the timeout."""


class PrinterTransport(abc.ABC):
    """Bytes to and from the printer."""

    @abc.abstractmethod
    def write(self, data: bytes, timeout: float) -> None:
        """Send ``data``; :class:`TransportStalled` when not accepted within ``timeout``."""

    @abc.abstractmethod
    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes; ``b""`` when nothing arrives within ``timeout``."""

    def device_id(self) -> str:
        """The IEEE 1284 device ID, where the transport has one."""
        return ""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the port or interface."""


# --------------------------------------------------------------------------- the printer


class EscPosPrinter(Printer):
    """An ESC/POS printer on any transport.

    Args:
        url: the URL it was opened from (for logs and records).
        transport: the opened transport.
    """

    def __init__(self, url: str, transport: PrinterTransport) -> None:
        self.url = url
        self._transport: PrinterTransport | None = transport
        self._log = _LOG.getChild(url.replace(".", "_"))

    @property
    def transport(self) -> PrinterTransport:
        """The open transport; an EquipmentError after close()."""
        if self._transport is None:
            raise EquipmentError(N_("printer {url} is closed", url=self.url), fault_code="BENCH-ERROR")
        return self._transport

    def close(self) -> None:
        """Release the printer; calling it twice is harmless."""
        if self._transport is not None:
            transport, self._transport = self._transport, None
            transport.close()
            self._log.debug("closed")

    # -- helpers
    def _drain(self) -> None:
        """Drop late answers (e.g. to a request that timed out before) so replies line up."""
        for _ in range(64):
            if not self.transport.read(64, DRAIN_TIMEOUT):
                return

    def _read_until(self, deadline: float, *, size: int = 1, terminator: bytes | None = None) -> bytes:
        buf = b""
        while True:
            if terminator is None and len(buf) >= size:
                return buf
            if terminator is not None and terminator in buf:
                return buf
            left = deadline - time.monotonic()
            if left <= 0:
                return buf
            buf += self.transport.read(64, left)

    def _stalled(self, sent: int, total: int, what: str) -> NoReturn:
        try:
            st: PrinterStatus | None = self.status(timeout=0.5)
        except DeviceError:
            st = None
        raise PrinterError(
            N_("printer stopped {what} after {sent} of {total} bytes ({words})", what=what, sent=sent, total=total, words=_words(st)),
            conditions=st.conditions if st is not None else (),
        )

    # -- the contract
    def write(self, data: bytes, timeout: float = 10.0) -> None:
        """Send ESC/POS bytes in chunks; a stall raises a PrinterError naming the conditions."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        sent = 0
        try:
            while sent < len(data):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TransportStalled("deadline")
                chunk = data[sent : sent + CHUNK]
                self.transport.write(chunk, left)
                sent += len(chunk)
        except TransportStalled:
            self._log.debug("write %d bytes: stalled after %d (%.3f s)", len(data), sent, time.monotonic() - t0)
            self._stalled(sent, len(data), "accepting data")
        self._log.debug("write %d bytes (%.3f s)", len(data), time.monotonic() - t0)

    def status(self, timeout: float = 2.0) -> PrinterStatus:
        """``DLE EOT 1..4`` decoded; PRN-OFFLINE when the printer does not answer at all."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        self._drain()
        raw = b""
        for n in (1, 2, 3, 4):
            try:
                self.transport.write(escpos.status_request(n), max(0.001, deadline - time.monotonic()))
            except TransportStalled as exc:
                raise DeviceError(N_("the printer takes no data"), fault_code="PRN-OFFLINE",
                                  detail=f"status request DLE EOT {n} not accepted") from exc
            got = self._read_until(deadline, size=1)
            if not got:
                raise DeviceError(N_("the printer does not answer"), fault_code="PRN-OFFLINE",
                                  detail=f"no answer to DLE EOT {n} within {timeout:g} s")
            raw += got[:1]
        st = escpos.decode_status(raw)
        self._log.debug("status %s: %s (%.3f s)", raw.hex(" "), st.describe(), time.monotonic() - t0)
        return st

    def identify(self, timeout: float = 2.0) -> PrinterIdentity:
        """``GS I`` manufacturer, model, firmware, serial; the IEEE 1284 ID on USB."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        self._drain()
        values: dict[int, str] = {}
        for n in (escpos.INFO_MANUFACTURER, escpos.INFO_MODEL, escpos.INFO_FIRMWARE, escpos.INFO_SERIAL):
            try:
                self.transport.write(escpos.info_request(n), max(0.001, deadline - time.monotonic()))
            except TransportStalled as exc:
                raise DeviceError(N_("the printer takes no data"), fault_code="PRN-OFFLINE",
                                  detail="GS I (identity request) not accepted") from exc
            item_deadline = min(deadline, time.monotonic() + max(0.2, timeout / 4))
            reply = self._read_until(item_deadline, terminator=escpos.NUL)
            if reply:
                start = reply.find(b"_")
                values[n] = escpos.decode_info(reply[start : reply.index(escpos.NUL) + 1] if start >= 0 else reply)
        if not values:
            raise DeviceError(N_("the printer does not say what it is"), fault_code="PRN-OFFLINE",
                              detail=f"no answer to GS I within {timeout:g} s")
        ident = PrinterIdentity(
            manufacturer=values.get(escpos.INFO_MANUFACTURER, ""),
            model=values.get(escpos.INFO_MODEL, ""),
            firmware=values.get(escpos.INFO_FIRMWARE, ""),
            serial=values.get(escpos.INFO_SERIAL, ""),
            device_id=self.transport.device_id(),
        )
        self._log.debug("identify: %s (%.3f s)", ident, time.monotonic() - t0)
        return ident

    def wait_printed(self, timeout: float = 10.0) -> None:
        """Send ``GS r 1`` (answered only after everything before it) and wait for its answer.

        While waiting, real-time status is polled every :data:`POLL_INTERVAL`; a condition of
        :data:`STOPS_PRINTING` (cover open, paper end, cutter error, ...) fails at once with a
        :class:`~drivers.errors.PrinterError` naming it; a plain "offline" fails after
        :data:`OFFLINE_GRACE` seconds. The ``GS r`` answer has
        bit 4 clear and every ``DLE EOT`` answer has it set, so the two never mix up.
        """
        t0 = time.monotonic()
        deadline = t0 + timeout
        self._drain()
        request = escpos.paper_sensor_request()
        try:
            self.transport.write(request, max(0.001, timeout))
        except TransportStalled:
            self._stalled(0, len(request), "accepting data")
        st: PrinterStatus | None = None
        offline_since: float | None = None
        while True:
            slice_end = min(deadline, time.monotonic() + POLL_INTERVAL)
            if any(not b & 0x10 for b in self._read_until(slice_end, size=1)):
                self._log.debug("printed (%.3f s)", time.monotonic() - t0)
                return
            if time.monotonic() >= deadline:
                break
            printed, st = self._poll_status(min(deadline, time.monotonic() + 0.5))
            if printed:
                self._log.debug("printed (%.3f s)", time.monotonic() - t0)
                return
            if st is not None and any(getattr(st, name) for name in STOPS_PRINTING):
                break
            if st is None or not st.offline:
                offline_since = None
            else:
                # A printer pauses offline for a moment (feeding, buffer full); one that stays
                # offline has stopped printing, and waiting out a long step timeout helps nobody.
                offline_since = offline_since or time.monotonic()
                if time.monotonic() - offline_since >= OFFLINE_GRACE:
                    break
        raise PrinterError(
            N_("printer did not finish printing within {value:.1f} s ({words})", value=time.monotonic() - t0, words=_words(st)),
            conditions=st.conditions if st is not None else (),
        )

    def _poll_status(self, deadline: float) -> tuple[bool, PrinterStatus | None]:
        """Status while a ``GS r`` answer may arrive: (that answer was seen, status or None)."""
        raw = b""
        printed = False
        for n in (1, 2, 3, 4):
            try:
                self.transport.write(escpos.status_request(n), max(0.001, deadline - time.monotonic()))
            except TransportStalled:
                return printed, None
            while True:
                got = self._read_until(deadline, size=1)
                if not got:
                    return printed, None
                printed = printed or any(not b & 0x10 for b in got)
                answers = bytes(b for b in got if b & 0x10)
                if answers:
                    raw += answers[:1]
                    break
        return printed, escpos.decode_status(raw)


# --------------------------------------------------------------------------- openers' helpers


def url_query(url: str) -> dict[str, str]:
    """The URL's query as a dict (the last value of a repeated key wins)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def open_unit_printer(url: str, **options: Any) -> Printer:
    """``unit://``: the printer built into the unit, through the unit link (not available yet).

    Raises:
        EquipmentError: always, for now.
    """
    raise EquipmentError(
        N_("printing through the unit link (unit://) is not available yet; connect the printer by USB or serial"),
        fault_code="BENCH-CONFIG",
    )
