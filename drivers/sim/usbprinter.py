"""The simulated USB receipt printer: an ESC/POS state machine behind a pyusb backend.

These machines have no USB stack, so the simulated printer is a ``usb.backend.IBackend``
that :func:`usb.core.find` enumerates like libusb would: pyusb's own ``Device``,
descriptor, endpoint and control-transfer code runs on top of it, and so does any
independent client such as python-escpos's ``escpos.printer.Usb`` (pass
``usb_args={"backend": backend}``).

Two layers:

* :class:`SimPrinter` is transport-free: ``feed(bytes) -> bytes`` runs ESC/POS, answers
  ``DLE EOT n``, ``GS I n`` and ``GS r n``, keeps the printed bytes (``page``) for the
  renderer, and applies the faults of :class:`PrinterFaults`.
* :class:`SimUsbBackend` presents one or more of them as USB printer-class devices
  (interface class 7/1/2, bulk OUT 0x01, bulk IN 0x82, string descriptors, IEEE 1284
  ``GET_DEVICE_ID``).

How a URL reaches it (explicit, no import side effects)::

    backend = install_sim_backend()              # process-wide registry, name "default"
    sim = backend.add_printer(faults={"paper_near_end": True})
    open_printer(sim.url)                       # "usb://04b8:0e15?backend=sim&serial=SIM00001"

``drivers.printer`` maps ``?backend=sim`` (or ``sim:NAME``) to :func:`get_backend`; the
driver's methods are the same for libusb and for this backend.

Faults (a dict, e.g. the ``printer: faults:`` section of a scenario YAML)::

    paper_end: true            # out of paper: offline, printing stops
    paper_near_end: true       # near-end sensor
    cover_open: true           # offline, cover open
    cutter_jam: true           # the next cut sets the autocutter error (offline)
    head_overheat: true        # auto-recoverable error (offline)
    fatal: true                # unrecoverable error (offline)
    offline: true              # offline with no other cause
    feed_button: true          # feed button held
    offline_after_bytes: 200   # goes offline after accepting this many print bytes
    slow_lines_per_s: 2.0      # print engine speed (each line feed costs 1/N s)
    buffer_size: 1024          # bytes an offline printer still accepts before it stalls
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import usb.backend
import usb.core

from drivers import escpos
from drivers.errors import ConfigError, EquipmentError
from drivers.interfaces import PrinterStatus

_LOG = logging.getLogger(__name__)

EPSON_VID = 0x04B8
TM_T88_PID = 0x0E15
EP_OUT = 0x01
EP_IN = 0x82
MAX_PACKET = 64
INFINITE_TIMEOUT_CAP = 5.0  # seconds a "timeout 0" (libusb: forever) waits in the sim
DEFAULT_BUFFER = 1024


class PrinterStalled(Exception):
    """The printer stopped accepting data (offline and its receive buffer is full)."""

    def __init__(self, accepted: int, replies: bytes) -> None:
        super().__init__(f"printer stalled after {accepted} bytes")
        self.accepted = accepted
        self.replies = replies


@dataclass
class PrinterFaults:
    """The faults of a simulated printer (see the module docstring for each key)."""

    paper_end: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    cutter_jam: bool = False
    head_overheat: bool = False
    fatal: bool = False
    offline: bool = False
    feed_button: bool = False
    offline_after_bytes: int | None = None
    slow_lines_per_s: float | None = None
    buffer_size: int = DEFAULT_BUFFER

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, *, path: str | None = None) -> PrinterFaults:
        """Validate a fault mapping (YAML); unknown keys and wrong types are a ConfigError."""
        data = dict(data or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"unknown printer fault(s) {unknown}; known: {sorted(known)}",
                path=path,
                field="printer.faults",
            )
        out = cls()
        for key, value in data.items():
            default = getattr(out, key)
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(
                        f"printer fault {key} must be true/false, not {value!r}",
                        path=path,
                        field=f"printer.faults.{key}",
                    )
            elif key in ("offline_after_bytes", "buffer_size"):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    raise ConfigError(
                        f"printer fault {key} must be a whole number >= 0, not {value!r}",
                        path=path,
                        field=f"printer.faults.{key}",
                    )
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
                raise ConfigError(
                    f"printer fault {key} must be a number > 0, not {value!r}",
                    path=path,
                    field=f"printer.faults.{key}",
                )
            setattr(out, key, value)
        return out


@dataclass(frozen=True)
class PrinterInfo:
    """What the simulated printer says it is."""

    manufacturer: str = "EPSON"
    model: str = "TM-T88V"
    firmware: str = "30.01 ESC/POS"
    serial: str = "SIM00001"
    vendor_id: int = EPSON_VID
    product_id: int = TM_T88_PID

    @property
    def device_id(self) -> str:
        """The IEEE 1284 device ID string."""
        mfg, mdl = self.manufacturer, self.model
        return f"MFG:{mfg};CMD:ESC/POS;MDL:{mdl};CLS:PRINTER;DES:{mfg} {mdl};"


class SimPrinter:
    """An ESC/POS printer as a state machine over bytes: ``feed(data) -> replies``.

    Args:
        info: identity answered to ``GS I``.
        faults: initial faults; change them later with :meth:`set_fault`.
    """

    def __init__(self, info: PrinterInfo | None = None, faults: PrinterFaults | None = None) -> None:
        self.info = info or PrinterInfo()
        self.faults = faults or PrinterFaults()
        self.page = bytearray()  # every print byte executed, for the renderer
        self.pending = bytearray()  # a command split across writes
        self.held = bytearray()  # bytes received while offline, not yet executed
        self.accepted = 0  # print bytes accepted (counts toward offline_after_bytes)
        self.lines_printed = 0
        self.cuts = 0
        self.cutter_error = False
        self.went_offline = False

    # -- state
    def set_fault(self, name: str, value: Any) -> None:
        """Change one fault now (e.g. open the cover mid-run); clearing the last cause resumes printing."""
        self.faults = replace(self.faults, **{name: value})
        if name == "cutter_jam" and not value:
            self.cutter_error = False
        if name in ("offline", "offline_after_bytes") and not value:
            self.went_offline = False

    @property
    def offline(self) -> bool:
        """True when the printer does not print (any offline cause)."""
        f = self.faults
        return (
            f.offline
            or self.went_offline
            or f.cover_open
            or f.paper_end
            or self.cutter_error
            or f.fatal
            or f.head_overheat
        )

    def status(self) -> PrinterStatus:
        """The printer's status as named conditions (what ``DLE EOT 1..4`` encode)."""
        f = self.faults
        flags = PrinterStatus(
            offline=self.offline,
            cover_open=f.cover_open,
            paper_end=f.paper_end,
            paper_near_end=f.paper_near_end,
            cutter_error=self.cutter_error,
            unrecoverable_error=f.fatal,
            auto_recoverable_error=f.head_overheat,
            feed_button=f.feed_button,
            paper_feeding=f.feed_button,
            waiting_online_recovery=f.head_overheat,
            stopped_by_paper_end=f.paper_end,
            error=self.cutter_error or f.fatal or f.head_overheat,
        )
        raw = bytes(escpos.encode_status_byte(n, flags) for n in (1, 2, 3, 4))
        return replace(flags, raw=raw)

    # -- bytes
    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return the bytes the printer sends back.

        Raises:
            PrinterStalled: the printer is offline and its receive buffer is full; the
                exception carries how many bytes were accepted and the replies so far.
        """
        if not self.offline and self.held:
            self._resume()
        base = len(self.pending)
        self.pending += data
        replies = bytearray()
        i = 0
        while i < len(self.pending):
            found = escpos.next_command(bytes(self.pending), i)
            if found is None:
                break
            cmd, nxt = found
            raw = bytes(self.pending[i:nxt])
            if cmd.realtime:
                replies += self._realtime(cmd)
            elif self.offline:
                if len(self.held) + len(raw) > self.faults.buffer_size:
                    accepted = max(0, i - base)
                    del self.pending[:i]
                    self.pending.clear()
                    raise PrinterStalled(accepted, bytes(replies))
                self.held += raw
            else:
                limit = self.faults.offline_after_bytes
                if limit is not None and self.accepted + len(raw) > limit:
                    self.went_offline = True
                    _LOG.debug("simulated printer goes offline after %d bytes", self.accepted)
                    self.held += raw
                else:
                    self.accepted += len(raw)
                    replies += self._execute(cmd, raw)
            i = nxt
        del self.pending[:i]
        return bytes(replies)

    def _resume(self) -> None:
        held, self.held = bytes(self.held), bytearray()
        cmds, _ = escpos.parse(held, final=True)
        for cmd in cmds:
            self._execute(cmd, b"")
        self.page += held

    def _realtime(self, cmd: escpos.Command) -> bytes:
        if cmd.name == "DLE EOT" and cmd.args and cmd.args[0] in (1, 2, 3, 4):
            return bytes([escpos.encode_status_byte(cmd.args[0], self.status())])
        return b""  # DLE ENQ / DLE DC4: no answer

    def _execute(self, cmd: escpos.Command, raw: bytes) -> bytes:
        self.page += raw
        name = cmd.name
        if name == "LF":
            self.lines_printed += 1
        elif name == "ESC d":
            self.lines_printed += cmd.args[0]
        elif name == "GS V":
            self.cuts += 1
            if self.faults.cutter_jam:
                self.cutter_error = True
        elif name == "GS I":
            return self._info(cmd.args[0])
        elif name == "GS r":
            f = self.faults
            value = (0b11 if f.paper_near_end else 0) | (0b1100 if f.paper_end else 0)
            return bytes([value])
        return b""

    def _info(self, n: int) -> bytes:
        info = self.info
        one_byte = {1: 0x20, 2: 0x02, 3: 0x01}
        if n in one_byte:
            return bytes([one_byte[n]])
        strings = {
            escpos.INFO_FIRMWARE: info.firmware,
            escpos.INFO_MANUFACTURER: info.manufacturer,
            escpos.INFO_MODEL: info.model,
            escpos.INFO_SERIAL: info.serial,
        }
        if n in strings:
            return escpos.encode_info(strings[n])
        return b""

    def render_png(self) -> bytes:
        """The printed page as a PNG (Pillow)."""
        from drivers.sim.escpos_render import render_png

        return render_png(bytes(self.page))


# --------------------------------------------------------------------------- USB


@dataclass
class DeviceDescriptor:
    """USB device descriptor fields as pyusb reads them from a backend."""

    idVendor: int
    idProduct: int
    bus: int
    address: int
    bLength: int = 18
    bDescriptorType: int = 1
    bcdUSB: int = 0x0200
    bDeviceClass: int = 0  # class given per interface
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bMaxPacketSize0: int = MAX_PACKET
    bcdDevice: int = 0x0100
    iManufacturer: int = 1
    iProduct: int = 2
    iSerialNumber: int = 3
    bNumConfigurations: int = 1
    port_number: int = 1
    port_numbers: tuple[int, ...] = (1,)
    speed: int = 3  # full speed

    def pack(self) -> bytes:
        """The 18 descriptor bytes."""
        return (
            bytes([18, 1])
            + self.bcdUSB.to_bytes(2, "little")
            + bytes([self.bDeviceClass, self.bDeviceSubClass, self.bDeviceProtocol, self.bMaxPacketSize0])
            + self.idVendor.to_bytes(2, "little")
            + self.idProduct.to_bytes(2, "little")
            + self.bcdDevice.to_bytes(2, "little")
            + bytes([self.iManufacturer, self.iProduct, self.iSerialNumber, self.bNumConfigurations])
        )


@dataclass
class ConfigDescriptor:
    """The one configuration."""

    bLength: int = 9
    bDescriptorType: int = 2
    wTotalLength: int = 9 + 9 + 7 + 7
    bNumInterfaces: int = 1
    bConfigurationValue: int = 1
    iConfiguration: int = 0
    bmAttributes: int = 0xC0  # self powered
    bMaxPower: int = 1
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass
class InterfaceDescriptor:
    """Printer class, printer subclass, bidirectional protocol."""

    bLength: int = 9
    bDescriptorType: int = 4
    bInterfaceNumber: int = 0
    bAlternateSetting: int = 0
    bNumEndpoints: int = 2
    bInterfaceClass: int = 7
    bInterfaceSubClass: int = 1
    bInterfaceProtocol: int = 2
    iInterface: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass
class EndpointDescriptor:
    """A bulk endpoint."""

    bEndpointAddress: int
    bLength: int = 7
    bDescriptorType: int = 5
    bmAttributes: int = 2  # bulk
    wMaxPacketSize: int = MAX_PACKET
    bInterval: int = 0
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


_ENDPOINTS = (EndpointDescriptor(EP_OUT), EndpointDescriptor(EP_IN))


def _pack_config() -> bytes:
    c, i = ConfigDescriptor(), InterfaceDescriptor()
    out = (
        bytes([9, 2])
        + c.wTotalLength.to_bytes(2, "little")
        + bytes([c.bNumInterfaces, c.bConfigurationValue, c.iConfiguration, c.bmAttributes, c.bMaxPower])
    )
    out += bytes(
        [
            9,
            4,
            i.bInterfaceNumber,
            i.bAlternateSetting,
            i.bNumEndpoints,
            i.bInterfaceClass,
            i.bInterfaceSubClass,
            i.bInterfaceProtocol,
            i.iInterface,
        ]
    )
    for ep in _ENDPOINTS:
        out += (
            bytes([7, 5, ep.bEndpointAddress, ep.bmAttributes])
            + ep.wMaxPacketSize.to_bytes(2, "little")
            + bytes([ep.bInterval])
        )
    return out


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

    def add_printer_from_mapping(self, data: Mapping[str, Any] | None, *, path: str | None = None) -> SimUsbPrinter:
        """Plug a printer described by a scenario's ``printer:`` section.

        Keys: ``faults`` (see the module docstring), ``manufacturer``, ``model``,
        ``firmware``, ``serial``, ``vendor_id``, ``product_id``.
        """
        data = dict(data or {})
        faults = PrinterFaults.from_mapping(data.pop("faults", None), path=path)
        info_keys = {f.name for f in fields(PrinterInfo)}
        unknown = sorted(set(data) - info_keys)
        if unknown:
            raise ConfigError(
                f"unknown printer key(s) {unknown}; known: faults, {', '.join(sorted(info_keys))}",
                path=path,
                field="printer",
            )
        return self.add_printer(faults, info=PrinterInfo(**data))

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
        if (intf, alt, config) != (0, 0, 0) or not 0 <= ep < len(_ENDPOINTS):
            raise usb.core.USBError("Entity not found", -5, errno.ENOENT)
        return _ENDPOINTS[ep]

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
                reply = _pack_config()
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
    ``?backend=sim:NAME`` through another one.
    """
    with _REGISTRY_LOCK:
        backend = _BACKENDS.get(name)
        if backend is None:
            backend = _BACKENDS[name] = SimUsbBackend(name)
        return backend


def uninstall_sim_backend(name: str = "default") -> None:
    """Remove a simulated bus (its printers disappear); harmless when not installed."""
    with _REGISTRY_LOCK:
        backend = _BACKENDS.pop(name, None)
    if backend is not None:
        for dev in list(backend.devices):
            backend.unplug(dev)


def get_backend(name: str = "default") -> SimUsbBackend:
    """The installed simulated bus ``name``; EquipmentError when nobody installed it."""
    with _REGISTRY_LOCK:
        backend = _BACKENDS.get(name)
    if backend is None:
        raise EquipmentError(
            f"no simulated USB bus {name!r} is running in this process (start the simulated bench first)",
            fault_code="BENCH-CONFIG",
        )
    return backend
