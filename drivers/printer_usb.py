"""``usb://VID:PID``: an ESC/POS printer's USB printer-class interface through pyusb.

URL forms (``open_usb_printer(url, **options)``)::

    usb://04b8:0e15                       first printer with that VID:PID, pyusb's default backend
    usb://04b8:0e15?serial=X1234          the one whose USB serial number is X1234
    usb://04b8:0e15?backend=libusb1       a named pyusb backend: libusb1, libusb0, openusb
    usb://04b8:0e15?backend=NAME:ARG      a backend registered with :func:`register_usb_backend`,
                                          its provider called with ARG

Only the pyusb backend object differs from one bus to another: pyusb's own ``Device``,
descriptor and endpoint code runs on every one of them, and so does this module. A
backend that is not a USB library (a simulated bus, a recorder) registers its provider
with :func:`register_usb_backend` when it starts and unregisters it when it stops.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import ConfigError, DeviceError, EquipmentError
from drivers.i18n import N_
from drivers.printer import EscPosPrinter, PrinterTransport, TransportStalled, url_query

_LOG = logging.getLogger(__name__)

BackendProvider = Callable[[str], Any]
"""Returns the pyusb backend object for the argument after ``NAME:`` in ``?backend=`` (``""`` without one)."""

LIBUSB_BACKENDS: dict[str, str] = {
    "libusb1": "usb.backend.libusb1:get_backend",
    "libusb0": "usb.backend.libusb0:get_backend",
    "openusb": "usb.backend.openusb:get_backend",
}
"""``?backend=NAME`` -> the pyusb module function returning that library's backend."""

_PROVIDERS: dict[str, BackendProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def register_usb_backend(name: str, provider: BackendProvider) -> None:
    """Make ``?backend=NAME`` (and ``NAME:ARG``) open through ``provider``; replaces an earlier one.

    Raises:
        ConfigError: ``name`` is one of the USB libraries (:data:`LIBUSB_BACKENDS`).
    """
    if name in LIBUSB_BACKENDS:
        raise ConfigError(N_("USB backend name {name!r} is taken by a USB library", name=name))
    with _PROVIDERS_LOCK:
        _PROVIDERS[name] = provider


def unregister_usb_backend(name: str) -> None:
    """Forget the provider registered as ``name``; harmless when there is none."""
    with _PROVIDERS_LOCK:
        _PROVIDERS.pop(name, None)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class UsbTransport(PrinterTransport):
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
            raise TransportStalled(str(exc)) from exc
        except usb.core.USBError as exc:
            raise DeviceError(N_("the printer takes no data"), fault_code="PRN-OFFLINE",
                              detail=f"USB write to the printer failed: {exc}") from exc

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
            raise DeviceError(N_("the printer sends nothing back"), fault_code="PRN-OFFLINE",
                              detail=f"USB read from the printer failed: {exc}") from exc

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


def _usb_backend(name: str | None) -> Any:
    """The pyusb backend ``?backend=NAME[:ARG]`` names; None for pyusb's default."""
    if not name:
        return None
    base, _, arg = name.partition(":")
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(base)
        registered = sorted(_PROVIDERS)
    if provider is not None:
        return provider(arg)
    target = LIBUSB_BACKENDS.get(base)
    if target is None:
        known = ", ".join([*LIBUSB_BACKENDS, *registered])
        raise ConfigError(
            N_("unknown USB backend {name!r}; known: {known} (a simulated bus is known while the simulated bench runs)", name=name, known=known)
        )
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EquipmentError(N_("USB backend {name!r} unavailable: {exc}", name=name, exc=exc), fault_code="BENCH-CONFIG") from exc
    backend = getattr(module, func_name)()
    if backend is None:
        raise EquipmentError(N_("USB backend {name!r} found no library (is libusb installed?)", name=name), fault_code="BENCH-CONFIG")
    return backend


def _parse_vid_pid(url: str) -> tuple[int, int]:
    netloc = urlsplit(url).netloc
    try:
        vid_s, pid_s = netloc.split(":")
        return int(vid_s, 16), int(pid_s, 16)
    except ValueError:
        raise ConfigError(N_("printer URL {url!r}: expected usb://VID:PID in hex, e.g. usb://04b8:0e15", url=url)) from None


def open_usb_printer(url: str, **options: Any) -> EscPosPrinter:
    """Open the USB printer at ``url`` (see the module docstring for the URL forms).

    Options (override the URL's query): ``backend`` (a pyusb backend object), ``serial``.

    Raises:
        ConfigError: malformed URL or unknown backend name.
        EquipmentError: no such printer, or its interface cannot be claimed.
    """
    import usb.core
    import usb.util

    vid, pid = _parse_vid_pid(url)
    query = url_query(url)
    backend = options.get("backend") or _usb_backend(query.get("backend"))
    serial_no = options.get("serial") or query.get("serial")
    kwargs: dict[str, Any] = {"idVendor": vid, "idProduct": pid, "find_all": True}
    if backend is not None:
        kwargs["backend"] = backend
    try:
        found = list(usb.core.find(**kwargs))
    except usb.core.NoBackendError as exc:
        raise EquipmentError(N_("no USB library (libusb) available to pyusb"), fault_code="BENCH-CONFIG") from exc
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
        raise EquipmentError(N_("no USB printer {vid:04x}:{pid:04x}{which} found ({url})", vid=vid, pid=pid, which=which, url=url), fault_code="BENCH-ERROR")
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
            N_("cannot claim the USB printer {vid:04x}:{pid:04x}: {exc}", vid=vid, pid=pid, exc=exc), fault_code="BENCH-ERROR"
        ) from exc
    if ep_out is None:
        raise EquipmentError(
            N_("USB device {vid:04x}:{pid:04x} has no bulk OUT endpoint: not a printer?", vid=vid, pid=pid),
            fault_code="BENCH-CONFIG",
        )
    _LOG.debug(
        "opened %s: interface %d, OUT %#04x, IN %s",
        url,
        number,
        ep_out.bEndpointAddress,
        f"{ep_in.bEndpointAddress:#04x}" if ep_in is not None else "none",
    )
    return EscPosPrinter(url, UsbTransport(dev, number, ep_out, ep_in))


