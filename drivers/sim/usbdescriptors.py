"""USB descriptors of the simulated printer: one configuration, one printer-class interface, two bulk endpoints.

Fields are named as pyusb reads them from a backend; :func:`pack_config` gives the raw
bytes a ``GET_DESCRIPTOR`` control transfer returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EP_OUT = 0x01
EP_IN = 0x82
MAX_PACKET = 64


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


ENDPOINTS = (EndpointDescriptor(EP_OUT), EndpointDescriptor(EP_IN))


def pack_config() -> bytes:
    """The configuration descriptor with its interface and endpoint descriptors (32 bytes)."""
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
    for ep in ENDPOINTS:
        out += (
            bytes([7, 5, ep.bEndpointAddress, ep.bmAttributes])
            + ep.wMaxPacketSize.to_bytes(2, "little")
            + bytes([ep.bInterval])
        )
    return out
