"""The USB opener: VID:PID and serial matching, named backends, and backends registered at run time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.errors import ConfigError, EquipmentError
from drivers.printer_usb import register_usb_backend, unregister_usb_backend
from drivers.registry import open_device
from drivers.sim.usbprinter import SimUsbBackend, install_sim_backend, uninstall_sim_backend


@pytest.fixture
def bus() -> Iterator[SimUsbBackend]:
    b = install_sim_backend()
    yield b
    uninstall_sim_backend()


def test_url_errors(bus: SimUsbBackend) -> None:
    with pytest.raises(EquipmentError):
        open_device("printer", "usb://04b8:0e15?backend=sim")  # nothing plugged
    bus.add_printer()
    with pytest.raises(EquipmentError):
        open_device("printer", "usb://04b8:0e15?backend=sim&serial=NOPE")
    with pytest.raises(EquipmentError):
        open_device("printer", "usb://04b8:0e15?backend=sim:not-installed")
    with pytest.raises(ConfigError) as info:
        open_device("printer", "usb://04b8:0e15?backend=winusb")
    assert "libusb1, libusb0, openusb, sim" in str(info.value)
    with pytest.raises(ConfigError):
        open_device("printer", "usb://epson")


def test_the_simulated_bus_is_a_backend_only_while_installed() -> None:
    uninstall_sim_backend()
    with pytest.raises(ConfigError) as info:
        open_device("printer", "usb://04b8:0e15?backend=sim")
    assert "unknown USB backend 'sim'" in str(info.value)
    bus = install_sim_backend()
    try:
        with open_device("printer", bus.add_printer().url) as p:
            assert p.status().ready
    finally:
        uninstall_sim_backend()
    with pytest.raises(ConfigError):
        open_device("printer", "usb://04b8:0e15?backend=sim")


def test_a_registered_provider_gets_the_argument_after_the_colon() -> None:
    asked: list[str] = []

    def provider(arg: str) -> SimUsbBackend:
        asked.append(arg)
        return SimUsbBackend("private")  # an empty bus: nothing to find

    register_usb_backend("recorder", provider)
    try:
        with pytest.raises(EquipmentError, match="no USB printer 04b8:0e15"):
            open_device("printer", "usb://04b8:0e15?backend=recorder:bus7")
    finally:
        unregister_usb_backend("recorder")
    assert asked == ["bus7"]
    with pytest.raises(ConfigError):
        register_usb_backend("libusb1", provider)
