"""The simulated USB bus: ESC/POS printers behind a pyusb backend.

These machines have no USB stack, so the simulated bus is a ``usb.backend.IBackend``
that :func:`usb.core.find` enumerates like libusb would: pyusb's own ``Device``,
descriptor, endpoint and control-transfer code runs on top of it, and so does any
independent client such as python-escpos's ``escpos.printer.Usb`` (pass
``usb_args={"backend": backend}``).

:class:`SimUsbPrinter` presents one :class:`~drivers.sim.printer.SimPrinter` (the
transport-free state machine) as a USB printer-class device (interface class 7/1/2, bulk
OUT 0x01, bulk IN 0x82, string descriptors, IEEE 1284 ``GET_DEVICE_ID``);
:class:`SimUsbBackend` is the bus that holds them.

How a URL reaches it (explicit, no import side effects)::

    backend = install_sim_backend()              # process-wide bus "default"
    sim = backend.add_printer(faults={"paper_near_end": True})
    open_device("printer", sim.url)              # "usb://04b8:0e15?backend=sim&serial=SIM00001"

:func:`install_sim_backend` registers the provider ``sim`` with the USB opener
(:func:`drivers.printer_usb.register_usb_backend`), so ``?backend=sim`` (or ``sim:BUS``)
resolves to the bus; :func:`uninstall_sim_backend` of the last bus unregisters it. The
real driver never names this module, and its code is the same for libusb and this bus.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import usb.backend
import usb.core

from drivers.errors import EquipmentError
from drivers.i18n import N_
from drivers.printer_usb import register_usb_backend, unregister_usb_backend
from drivers.sim.printer import PrinterFaults, PrinterInfo, PrinterStalled, SimPrinter
from drivers.sim.usbdescriptors import (
    ENDPOINTS,
    EP_IN,
    EP_OUT,
    MAX_PACKET,
    ConfigDescriptor,
    DeviceDescriptor,
    EndpointDescriptor,
    InterfaceDescriptor,
    pack_config,
)

_LOG = logging.getLogger(__name__)

INFINITE_TIMEOUT_CAP = 5.0  # seconds a "timeout 0" (libusb: forever) waits in the sim
BACKEND_NAME = "sim"
"""``?backend=sim`` (or ``sim:BUS``): the name the simulated bus registers with the USB opener."""


def _timeout_s(timeout_ms: int | None) -> float:
    if not timeout_ms:
        return INFINITE_TIMEOUT_CAP
    return timeout_ms / 1000.0


def _timeout_error() -> usb.core.USBTimeoutError:
    return usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)


class SimUsbPrinter:
    """One simulated USB printer: descriptors, endpoints and the :class:`SimPrinter` behind them."""

    def __init__(self, printer: SimPrinter, bus: int, address: int, backend_name: str) -> None:
        self.printer = printer
        self.backend_name = backend_name
        self.descriptor = DeviceDescriptor(printer.info.vendor_id, printer.info.product_id, bus, address)
        self.configuration = 0
        self._lock = threading.Lock()
        self._replies = bytearray()
        self._ready = threading.Condition(self._lock)
        self.connected = True

    @property
    def url(self) -> str:
        """The printer URL a station file would hold for this device."""
        backend = "sim" if self.backend_name == "default" else f"sim:{self.backend_name}"
        d = self.descriptor
        return f"usb://{d.idVendor:04x}:{d.idProduct:04x}?backend={backend}&serial={self.printer.info.serial}"

    def strings(self, index: int) -> str | None:
        """String descriptor ``index`` (1 manufacturer, 2 product, 3 serial)."""
        info = self.printer.info
        return {1: info.manufacturer, 2: info.model, 3: info.serial}.get(index)

    def write(self, data: bytes, timeout_s: float) -> int:
        """Bulk OUT: feed the printer, pace it, stall it when offline (a USB timeout)."""
        printer = self.printer
        with self._lock:
            before = printer.lines_printed
            try:
                replies = printer.feed(data)
                stalled = False
            except PrinterStalled as exc:
                replies = exc.replies
                stalled = True
            if replies:
                self._replies += replies
                self._ready.notify_all()
            printed = printer.lines_printed - before
        if stalled:
            time.sleep(timeout_s)
            raise _timeout_error()
        lps = printer.faults.slow_lines_per_s
        if lps and printed:
            needed = printed / lps
            time.sleep(min(needed, timeout_s))
            if needed > timeout_s:
                raise _timeout_error()
        return len(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        """Bulk IN: wait for the printer's answer."""
        deadline = time.monotonic() + timeout_s
        with self._ready:
            while not self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _timeout_error()
                self._ready.wait(left)
            out = bytes(self._replies[:size])
            del self._replies[:size]
            return out

    def port_status(self) -> int:
        """IEEE 1284 GET_PORT_STATUS: bit 3 not error, bit 4 selected, bit 5 paper empty."""
        st = self.printer.status()
        value = 0
        if not (st.error or st.offline):
            value |= 0x08
        if not st.offline:
            value |= 0x10
        if st.paper_end:
            value |= 0x20
        return value

    def soft_reset(self) -> None:
        """IEEE 1284 SOFT_RESET: drop buffered input and pending answers."""
        with self._lock:
            self.printer.pending.clear()
            self._replies.clear()


class _Handle:
    """An opened simulated device."""

    def __init__(self, dev: SimUsbPrinter) -> None:
        self.dev = dev
        self.claimed: set[int] = set()


class SimUsbBackend(usb.backend.IBackend):
    """A pyusb backend whose bus holds simulated ESC/POS printers.

    Args:
        name: the name it is registered under (see :func:`install_sim_backend`).
    """

    def __init__(self, name: str = "default") -> None:
        super().__init__()
        self.name = name
        self.devices: list[SimUsbPrinter] = []
        self._lock = threading.Lock()

    # -- bench side
    def add_printer(
        self,
        faults: PrinterFaults | Mapping[str, Any] | None = None,
        *,
        info: PrinterInfo | None = None,
        serial: str | None = None,
    ) -> SimUsbPrinter:
        """Plug a simulated printer into this bus and return it (its ``url`` opens it)."""
        if not isinstance(faults, PrinterFaults):
            faults = PrinterFaults.from_mapping(faults)
        with self._lock:
            n = len(self.devices) + 1
            info = info or PrinterInfo()
            info = replace(info, serial=serial or (info.serial if n == 1 else f"SIM{n:05d}"))
            dev = SimUsbPrinter(SimPrinter(info, faults), bus=1, address=n + 1, backend_name=self.name)
            self.devices.append(dev)
        _LOG.debug("simulated printer plugged: %s", dev.url)
        return dev

    def unplug(self, dev: SimUsbPrinter) -> None:
        """Remove a printer from the bus (the cable is pulled)."""
        with self._lock:
            dev.connected = False
            if dev in self.devices:
                self.devices.remove(dev)

    # -- IBackend
    def enumerate_devices(self) -> Iterator[SimUsbPrinter]:
        """Every plugged simulated printer."""
        with self._lock:
            return iter(list(self.devices))

    def get_device_descriptor(self, dev: SimUsbPrinter) -> DeviceDescriptor:
        """The device descriptor."""
        return dev.descriptor

    def get_configuration_descriptor(self, dev: SimUsbPrinter, config: int) -> ConfigDescriptor:
        """The configuration descriptor (there is one)."""
        if config != 0:
            raise usb.core.USBError("Entity not found", -5, errno.ENOENT)
        return ConfigDescriptor()

    def get_interface_descriptor(self, dev: SimUsbPrinter, intf: int, alt: int, config: int) -> InterfaceDescriptor:
        """The printer-class interface."""
        if (intf, alt, config) != (0, 0, 0):
            raise usb.core.USBError("Entity not found", -5, errno.ENOENT)
        return InterfaceDescriptor()

    def get_endpoint_descriptor(
        self, dev: SimUsbPrinter, ep: int, intf: int, alt: int, config: int
    ) -> EndpointDescriptor:
        """Bulk OUT (index 0) and bulk IN (index 1)."""
        if (intf, alt, config) != (0, 0, 0) or not 0 <= ep < len(ENDPOINTS):
            raise usb.core.USBError("Entity not found", -5, errno.ENOENT)
        return ENDPOINTS[ep]

    def open_device(self, dev: SimUsbPrinter) -> _Handle:
        """Open the device."""
        if not dev.connected:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        """Close the device."""
        dev_handle.claimed.clear()

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        """Select configuration 1 (or 0: unconfigured)."""
        if config_value not in (0, 1):
            raise usb.core.USBError("Invalid parameter", -2, errno.EINVAL)
        dev_handle.dev.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        """The selected configuration value."""
        return dev_handle.dev.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        """Only alternate setting 0 exists."""
        if (intf, altsetting) != (0, 0):
            raise usb.core.USBError("Invalid parameter", -2, errno.EINVAL)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        """Claim interface 0."""
        if intf != 0:
            raise usb.core.USBError("Entity not found", -5, errno.ENOENT)
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        """Release an interface."""
        dev_handle.claimed.discard(intf)

    def _check(self, dev_handle: _Handle, ep: int, direction_in: bool) -> SimUsbPrinter:
        dev = dev_handle.dev
        if not dev.connected:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)
        if ep != (EP_IN if direction_in else EP_OUT):
            raise usb.core.USBError("Invalid parameter", -2, errno.EINVAL)
        return dev

    def bulk_write(self, dev_handle: _Handle, ep: int, intf: int, data: Any, timeout: int) -> int:
        """Bulk OUT to the printer."""
        dev = self._check(dev_handle, ep, direction_in=False)
        return dev.write(bytes(data), _timeout_s(timeout))

    def bulk_read(self, dev_handle: _Handle, ep: int, intf: int, buff: Any, timeout: int) -> int:
        """Bulk IN from the printer."""
        dev = self._check(dev_handle, ep, direction_in=True)
        data = dev.read(min(len(buff), MAX_PACKET), _timeout_s(timeout))
        for i, b in enumerate(data):
            buff[i] = b
        return len(data)

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: Any,
        timeout: int,
    ) -> int:
        """Standard GET_DESCRIPTOR/GET_STATUS and the printer class requests (IEEE 1284)."""
        dev = dev_handle.dev
        if not dev.connected:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)
        reply: bytes | None = None
        if bmRequestType == 0x80 and bRequest == 6:  # GET_DESCRIPTOR
            kind, index = wValue >> 8, wValue & 0xFF
            if kind == 1:
                reply = dev.descriptor.pack()
            elif kind == 2 and index == 0:
                reply = pack_config()
            elif kind == 3:
                if index == 0:
                    reply = b"\x04\x03\x09\x04"  # English (US)
                else:
                    s = dev.strings(index)
                    if s is not None:
                        body = s.encode("utf-16-le")
                        reply = bytes([len(body) + 2, 3]) + body
        elif bmRequestType in (0x80, 0x81, 0x82) and bRequest == 0:  # GET_STATUS
            reply = b"\x01\x00" if bmRequestType == 0x80 else b"\x00\x00"
        elif bmRequestType == 0xA1 and bRequest == 0:  # GET_DEVICE_ID
            body = dev.printer.info.device_id.encode("ascii")
            reply = (len(body) + 2).to_bytes(2, "big") + body
        elif bmRequestType == 0xA1 and bRequest == 1:  # GET_PORT_STATUS
            reply = bytes([dev.port_status()])
        elif bmRequestType == 0x21 and bRequest == 2:  # SOFT_RESET
            dev.soft_reset()
            return 0
        elif bmRequestType & 0x80 == 0:
            return len(data) if data is not None else 0
        if reply is None:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)  # STALL
        n = min(len(reply), len(data))
        for i in range(n):
            data[i] = reply[i]
        return n

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        """Nothing halts."""

    def reset_device(self, dev_handle: _Handle) -> None:
        """A bus reset: drop pending answers (python-escpos resets after configuring)."""
        dev_handle.dev.soft_reset()

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        """No kernel driver here."""
        return False

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        """Nothing to detach."""

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        """Nothing to attach."""


# --------------------------------------------------------------------------- registry

_BACKENDS: dict[str, SimUsbBackend] = {}
_REGISTRY_LOCK = threading.Lock()


def install_sim_backend(name: str = "default") -> SimUsbBackend:
    """Create (or return the existing) process-wide simulated USB bus called ``name``.

    ``usb://VID:PID?backend=sim`` opens through the bus ``default``,
    ``?backend=sim:NAME`` through another one: the first bus registers that provider
    with the USB opener.
    """
    with _REGISTRY_LOCK:
        backend = _BACKENDS.get(name)
        if backend is None:
            backend = _BACKENDS[name] = SimUsbBackend(name)
        register_usb_backend(BACKEND_NAME, _provide)
        return backend


def uninstall_sim_backend(name: str = "default") -> None:
    """Remove a simulated bus (its printers disappear); harmless when not installed."""
    with _REGISTRY_LOCK:
        backend = _BACKENDS.pop(name, None)
        if not _BACKENDS:
            unregister_usb_backend(BACKEND_NAME)
    if backend is not None:
        for dev in list(backend.devices):
            backend.unplug(dev)


def get_backend(name: str = "default") -> SimUsbBackend:
    """The installed simulated bus ``name``; EquipmentError when nobody installed it."""
    with _REGISTRY_LOCK:
        backend = _BACKENDS.get(name)
    if backend is None:
        raise EquipmentError(
            N_("no simulated USB bus {name!r} is running in this process (start the simulated bench first)", name=name),
            fault_code="BENCH-CONFIG",
        )
    return backend


def _provide(bus: str) -> SimUsbBackend:
    """The USB opener's provider for ``?backend=sim[:BUS]``."""
    return get_backend(bus or "default")
