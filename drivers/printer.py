"""ESC/POS receipt printers over USB (pyusb) or a serial line (pyserial).

URL forms (``open_printer(url, **options)``)::

    usb://04b8:0e15                       first printer with that VID:PID, pyusb's default backend
    usb://04b8:0e15?serial=X1234          the one whose USB serial number is X1234
    usb://04b8:0e15?backend=libusb1       a named pyusb backend: libusb1, libusb0, openusb
    usb://04b8:0e15?backend=sim           the simulated USB bus of this process
    usb://04b8:0e15?backend=sim:slot2     another simulated bus (see drivers.sim.usbprinter)
    serial:///dev/ttyS1?baud=38400        RS-232 (``rtscts=1`` for hardware flow control)
    unit://                               the printer built into the unit (not available yet)

Only the pyusb backend object differs between a real and a simulated printer: the
driver below never asks which one it has. Every call is traced on a child logger named
after the URL, with its duration.

Real-time status (``DLE EOT n``) works even when the printer is offline; a printer that
stops accepting data (offline mid-print, cover opened) makes :meth:`EscPosPrinter.write`
raise a :class:`DeviceError` within its timeout, with the fault code of the condition the
status then shows (``PRN-OFFLINE`` when it shows none).
"""

from __future__ import annotations

import abc
import importlib
import logging
import time
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from drivers import escpos
from drivers.errors import ConfigError, DeviceError, EquipmentError
from drivers.interfaces import Printer, PrinterIdentity, PrinterStatus

_LOG = logging.getLogger(__name__)

CHUNK = 4096
DRAIN_TIMEOUT = 0.005
POLL_INTERVAL = 0.25  # wait_printed polls the real-time status this often
OFFLINE_GRACE = 5.0  # seconds a printer may stay plainly offline while printing before it is a fault

USB_BACKENDS: dict[str, str] = {
    "libusb1": "usb.backend.libusb1:get_backend",
    "libusb0": "usb.backend.libusb0:get_backend",
    "openusb": "usb.backend.openusb:get_backend",
    "sim": "drivers.sim.usbprinter:get_backend",
}
"""``?backend=NAME`` → the function returning the pyusb backend (``sim:BUS`` passes BUS)."""

CONDITION_FAULTS: tuple[tuple[str, str], ...] = (
    ("cover_open", "PRN-COVER"),
    ("paper_end", "PRN-PAPER-END"),
    ("cutter_error", "PRN-CUTTER"),
    ("auto_recoverable_error", "PRN-HEAD-HOT"),
    ("unrecoverable_error", "PRN-FATAL"),
    ("offline", "PRN-OFFLINE"),
    ("paper_near_end", "PRN-PAPER-NEAR-END"),
)
"""Status condition → fault code, most specific first (a cover open printer is also offline)."""

CONDITION_TEXT: dict[str, str] = {
    "cover_open": "cover open",
    "paper_end": "paper end",
    "paper_near_end": "paper near end",
    "cutter_error": "autocutter error",
    "auto_recoverable_error": "head overheated (auto-recoverable error)",
    "unrecoverable_error": "unrecoverable error",
    "recoverable_error": "recoverable error",
    "offline": "offline",
    "feed_button": "feed button pressed",
    "paper_feeding": "paper being fed by the feed button",
    "waiting_online_recovery": "waiting for online recovery",
    "stopped_by_paper_end": "printing stopped by paper end",
    "error": "error occurred",
}


def fault_for(status: PrinterStatus, *, near_end: bool = True) -> str | None:
    """The fault code of the most specific condition ``status`` shows (None when it shows none)."""
    for name, code in CONDITION_FAULTS:
        if getattr(status, name) and (near_end or name != "paper_near_end"):
            return code
    return None


def describe(status: PrinterStatus | None) -> str:
    """The conditions in words, e.g. ``"offline, cover open"`` (``"ready"`` when none)."""
    if status is None:
        return "status unknown"
    words = [CONDITION_TEXT.get(c, c) for c in status.conditions]
    return ", ".join(words) or "ready"


# --------------------------------------------------------------------------- transports


class _Stalled(Exception):
    """The transport did not accept data within the timeout."""


class _Transport(abc.ABC):
    """Bytes to and from the printer."""

    @abc.abstractmethod
    def write(self, data: bytes, timeout: float) -> None:
        """Send ``data``; :class:`_Stalled` when not accepted within ``timeout``."""

    @abc.abstractmethod
    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes; ``b""`` when nothing arrives within ``timeout``."""

    def device_id(self) -> str:
        """The IEEE 1284 device ID, where the transport has one."""
        return ""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the port or interface."""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class _UsbTransport(_Transport):
    """A printer-class USB interface: bulk OUT for data, bulk IN for answers."""

    def __init__(self, dev: Any, interface: int, ep_out: Any, ep_in: Any) -> None:
        self.dev = dev
        self.interface = interface
        self.ep_out = ep_out
        self.ep_in = ep_in

    def write(self, data: bytes, timeout: float) -> None:
        """Bulk OUT."""
        import usb.core

        try:
            self.ep_out.write(data, _ms(timeout))
        except usb.core.USBTimeoutError as exc:
            raise _Stalled(str(exc)) from exc
        except usb.core.USBError as exc:
            raise DeviceError(f"USB write to the printer failed: {exc}", fault_code="PRN-OFFLINE") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Bulk IN."""
        import usb.core

        if self.ep_in is None:
            return b""
        try:
            return bytes(self.ep_in.read(max(size, self.ep_in.wMaxPacketSize), _ms(timeout)))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise DeviceError(f"USB read from the printer failed: {exc}", fault_code="PRN-OFFLINE") from exc

    def device_id(self) -> str:
        """IEEE 1284 GET_DEVICE_ID (class request 0 on the printer interface)."""
        import usb.core

        try:
            raw = bytes(self.dev.ctrl_transfer(0xA1, 0, 0, self.interface << 8, 1024, 1000))
        except usb.core.USBError as exc:
            _LOG.debug("GET_DEVICE_ID failed: %s", exc)
            return ""
        if len(raw) < 2:
            return ""
        length = int.from_bytes(raw[:2], "big")
        return raw[2:length].decode("ascii", errors="replace")

    def close(self) -> None:
        """Release the interface and the device."""
        import usb.core
        import usb.util

        try:
            usb.util.release_interface(self.dev, self.interface)
        except usb.core.USBError as exc:
            _LOG.debug("release_interface: %s", exc)
        usb.util.dispose_resources(self.dev)


class _SerialTransport(_Transport):
    """An RS-232 printer through pyserial."""

    def __init__(self, port: Any) -> None:
        self.port = port

    def write(self, data: bytes, timeout: float) -> None:
        """Write with a write timeout (flow control holds it when the printer is busy)."""
        import serial

        self.port.write_timeout = timeout
        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException as exc:
            raise _Stalled(str(exc)) from exc
        except serial.SerialException as exc:
            raise DeviceError(f"serial write to the printer failed: {exc}", fault_code="PRN-OFFLINE") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Read what arrives within ``timeout``."""
        import serial

        self.port.timeout = timeout
        try:
            first = bytes(self.port.read(1))  # returns at the first byte, not after `size` bytes
            if not first or size <= 1:
                return first
            return first + bytes(self.port.read(min(size - 1, self.port.in_waiting)))
        except serial.SerialException as exc:
            raise DeviceError(f"serial read from the printer failed: {exc}", fault_code="PRN-OFFLINE") from exc

    def close(self) -> None:
        """Close the port."""
        self.port.close()


# --------------------------------------------------------------------------- the printer


class EscPosPrinter(Printer):
    """An ESC/POS printer on any transport.

    Args:
        url: the URL it was opened from (for logs and records).
        transport: the opened transport.
    """

    def __init__(self, url: str, transport: _Transport) -> None:
        self.url = url
        self._transport: _Transport | None = transport
        self._log = _LOG.getChild(url.replace(".", "_"))

    @property
    def transport(self) -> _Transport:
        """The open transport; an EquipmentError after close()."""
        if self._transport is None:
            raise EquipmentError(f"printer {self.url} is closed", fault_code="BENCH-ERROR")
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
        code = (fault_for(st) if st is not None else None) or "PRN-OFFLINE"
        raise DeviceError(f"printer stopped {what} after {sent} of {total} bytes ({describe(st)})", fault_code=code)

    # -- the contract
    def write(self, data: bytes, timeout: float = 10.0) -> None:
        """Send ESC/POS bytes in chunks; a stall raises a DeviceError naming the condition."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        sent = 0
        try:
            while sent < len(data):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Stalled("deadline")
                chunk = data[sent : sent + CHUNK]
                self.transport.write(chunk, left)
                sent += len(chunk)
        except _Stalled:
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
            except _Stalled as exc:
                raise DeviceError("printer does not accept a status request", fault_code="PRN-OFFLINE") from exc
            got = self._read_until(deadline, size=1)
            if not got:
                raise DeviceError(f"printer did not answer DLE EOT {n} within {timeout:g} s", fault_code="PRN-OFFLINE")
            raw += got[:1]
        st = escpos.decode_status(raw)
        self._log.debug("status %s: %s (%.3f s)", raw.hex(" "), describe(st), time.monotonic() - t0)
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
            except _Stalled as exc:
                raise DeviceError("printer does not accept GS I", fault_code="PRN-OFFLINE") from exc
            item_deadline = min(deadline, time.monotonic() + max(0.2, timeout / 4))
            reply = self._read_until(item_deadline, terminator=escpos.NUL)
            if reply:
                start = reply.find(b"_")
                values[n] = escpos.decode_info(reply[start : reply.index(escpos.NUL) + 1] if start >= 0 else reply)
        if not values:
            raise DeviceError(f"printer did not answer GS I within {timeout:g} s", fault_code="PRN-OFFLINE")
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

        While waiting, real-time status is polled every :data:`POLL_INTERVAL`; a specific
        condition (cover open, paper end, cutter error, ...) fails at once with its fault
        code; a plain "offline" fails after :data:`OFFLINE_GRACE` seconds. The ``GS r`` answer has
        bit 4 clear and every ``DLE EOT`` answer has it set, so the two never mix up.
        """
        t0 = time.monotonic()
        deadline = t0 + timeout
        self._drain()
        request = escpos.paper_sensor_request()
        try:
            self.transport.write(request, max(0.001, timeout))
        except _Stalled:
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
            code = fault_for(st, near_end=False) if st is not None else None
            if code is None:
                offline_since = None
            elif code != "PRN-OFFLINE":
                break
            else:
                # A printer pauses offline for a moment (feeding, buffer full); one that stays
                # offline has stopped printing, and waiting out a long step timeout helps nobody.
                offline_since = offline_since or time.monotonic()
                if time.monotonic() - offline_since >= OFFLINE_GRACE:
                    break
        code = (fault_for(st) if st is not None else None) or "PRN-OFFLINE"
        raise DeviceError(
            f"printer did not finish printing within {time.monotonic() - t0:.1f} s ({describe(st)})",
            fault_code=code,
        )

    def _poll_status(self, deadline: float) -> tuple[bool, PrinterStatus | None]:
        """Status while a ``GS r`` answer may arrive: (that answer was seen, status or None)."""
        raw = b""
        printed = False
        for n in (1, 2, 3, 4):
            try:
                self.transport.write(escpos.status_request(n), max(0.001, deadline - time.monotonic()))
            except _Stalled:
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


# --------------------------------------------------------------------------- opening


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def _usb_backend(name: str | None) -> Any:
    if not name:
        return None
    base, _, arg = name.partition(":")
    target = USB_BACKENDS.get(base)
    if target is None:
        raise ConfigError(f"unknown USB backend {name!r}; known: {', '.join(USB_BACKENDS)}")
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EquipmentError(f"USB backend {name!r} unavailable: {exc}", fault_code="BENCH-CONFIG") from exc
    backend = getattr(module, func_name)(arg) if (base == "sim" and arg) else getattr(module, func_name)()
    if backend is None:
        raise EquipmentError(f"USB backend {name!r} found no library (is libusb installed?)", fault_code="BENCH-CONFIG")
    return backend


def _parse_vid_pid(url: str) -> tuple[int, int]:
    netloc = urlsplit(url).netloc
    try:
        vid_s, pid_s = netloc.split(":")
        return int(vid_s, 16), int(pid_s, 16)
    except ValueError:
        raise ConfigError(f"printer URL {url!r}: expected usb://VID:PID in hex, e.g. usb://04b8:0e15") from None


def _open_usb(url: str, options: dict[str, Any]) -> EscPosPrinter:
    import usb.core
    import usb.util

    vid, pid = _parse_vid_pid(url)
    query = _query(url)
    backend = options.get("backend") or _usb_backend(query.get("backend"))
    serial_no = options.get("serial") or query.get("serial")
    kwargs: dict[str, Any] = {"idVendor": vid, "idProduct": pid, "find_all": True}
    if backend is not None:
        kwargs["backend"] = backend
    try:
        found = list(usb.core.find(**kwargs))
    except usb.core.NoBackendError as exc:
        raise EquipmentError("no USB library (libusb) available to pyusb", fault_code="BENCH-CONFIG") from exc
    if serial_no:
        matching = []
        for dev in found:
            try:
                if dev.serial_number == serial_no:
                    matching.append(dev)
            except (usb.core.USBError, ValueError) as exc:
                _LOG.debug("cannot read the serial number of %s: %s", dev, exc)
        found = matching
    if not found:
        which = f" with serial {serial_no}" if serial_no else ""
        raise EquipmentError(f"no USB printer {vid:04x}:{pid:04x}{which} found ({url})", fault_code="BENCH-ERROR")
    dev = found[0]
    try:
        try:
            cfg = dev.get_active_configuration()
        except usb.core.USBError:
            dev.set_configuration()
            cfg = dev.get_active_configuration()
        intf = usb.util.find_descriptor(cfg, bInterfaceClass=7) or cfg[(0, 0)]
        number = intf.bInterfaceNumber
        try:
            if dev.is_kernel_driver_active(number):
                dev.detach_kernel_driver(number)
        except (NotImplementedError, usb.core.USBError) as exc:
            _LOG.debug("kernel driver check: %s", exc)
        usb.util.claim_interface(dev, number)

        def bulk(direction: int) -> Any:
            return usb.util.find_descriptor(
                intf,
                custom_match=lambda e: (
                    usb.util.endpoint_direction(e.bEndpointAddress) == direction
                    and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
                ),
            )

        ep_out = bulk(usb.util.ENDPOINT_OUT)
        ep_in = bulk(usb.util.ENDPOINT_IN)
    except usb.core.USBError as exc:
        raise EquipmentError(
            f"cannot claim the USB printer {vid:04x}:{pid:04x}: {exc}", fault_code="BENCH-ERROR"
        ) from exc
    if ep_out is None:
        raise EquipmentError(
            f"USB device {vid:04x}:{pid:04x} has no bulk OUT endpoint: not a printer?",
            fault_code="BENCH-CONFIG",
        )
    _LOG.debug(
        "opened %s: interface %d, OUT %#04x, IN %s",
        url,
        number,
        ep_out.bEndpointAddress,
        f"{ep_in.bEndpointAddress:#04x}" if ep_in is not None else "none",
    )
    return EscPosPrinter(url, _UsbTransport(dev, number, ep_out, ep_in))


def _open_serial(url: str, options: dict[str, Any]) -> EscPosPrinter:
    import serial

    parts = urlsplit(url)
    path = parts.path or parts.netloc
    if not path:
        raise ConfigError(f"printer URL {url!r}: expected serial:///dev/ttyS1?baud=38400")
    query = _query(url)
    try:
        baud = int(options.get("baud") or query.get("baud") or 38400)
    except ValueError:
        raise ConfigError(f"printer URL {url!r}: baud must be a number") from None
    rtscts = str(options.get("rtscts") or query.get("rtscts") or "0") in ("1", "true", "yes")
    try:
        port = serial.serial_for_url(path, baudrate=baud, rtscts=rtscts, timeout=1.0, write_timeout=5.0)
    except (serial.SerialException, ValueError) as exc:
        raise EquipmentError(f"cannot open the printer port {path}: {exc}", fault_code="BENCH-PORT") from exc
    return EscPosPrinter(url, _SerialTransport(port))


def open_printer(url: str, **options: Any) -> Printer:
    """Open the printer at ``url`` (see the module docstring for the URL forms).

    Options (override the URL's query): ``backend`` (a pyusb backend object), ``serial``,
    ``baud``, ``rtscts``.

    Raises:
        ConfigError: malformed URL or unknown backend name.
        EquipmentError: no such printer, or the port/interface cannot be opened.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "usb":
        return _open_usb(url, options)
    if scheme == "serial":
        return _open_serial(url, options)
    if scheme == "unit":
        raise EquipmentError(
            "printing through the unit link (unit://) is not available yet; connect the printer by USB or serial",
            fault_code="BENCH-CONFIG",
        )
    raise ConfigError(f"unknown printer URL scheme in {url!r}; known: usb://, serial://, unit://")
