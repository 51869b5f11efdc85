"""The bench host as the station's ``host`` device: opened from a URL through the registry, on real sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from drivers.acquirer import AcquirerHost, parse_behaviours_text
from drivers.acquirer.device import HostDevice, publish, unpublish
from drivers.errors import ConfigError, EquipmentError
from drivers.interfaces import Device
from drivers.registry import open_device
from tests.drivers.acquirer.conftest import wait_for
from tests.drivers.acquirer.isoclient import Client, auth


def test_opening_starts_a_host_on_a_free_port_and_close_stops_it() -> None:
    dev = open_device("host", "tcp://127.0.0.1:0")
    assert isinstance(dev, HostDevice) and dev.concurrent and not Device.concurrent
    port = dev.host.address[1]
    assert port != 0 and dev.url == f"tcp://127.0.0.1:{port}"
    with Client(("127.0.0.1", port)) as unit:
        assert unit.request(auth("000001"))["39"] == "00"
    assert [e.mti for e in dev.host.exchanges()] == ["0100", "0110"]
    dev.close()
    dev.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_behaviour_file_applies(tmp_path: Path) -> None:
    f = tmp_path / "b.yaml"
    f.write_text("default: {answer: decline, code: \"51\"}\n")
    with open_device("host", f"tcp://127.0.0.1:0?behaviour={f}") as dev:
        assert isinstance(dev, HostDevice)
        with Client(dev.host.address) as unit:
            assert unit.request(auth("000001"))["39"] == "51"


def test_a_bad_behaviour_file_is_a_config_error_naming_its_line(tmp_path: Path) -> None:
    f = tmp_path / "b.yaml"
    f.write_text("rules:\n  - answer: late\n")
    with pytest.raises(ConfigError, match=rf"^{f}:2: a late answer needs delay"):
        open_device("host", f"tcp://127.0.0.1:0?behaviour={f}")
    with pytest.raises(ConfigError, match="behaviour file"):
        open_device("host", f"tcp://127.0.0.1:0?behaviour={tmp_path / 'missing.yaml'}")


def test_a_port_in_use_is_one_equipment_error() -> None:
    with open_device("host", "tcp://127.0.0.1:0") as first, pytest.raises(EquipmentError) as info:
        open_device("host", first.url)
    text = str(info.value)
    assert "the port is in use" in text and "\n" not in text


@pytest.mark.parametrize("url", ["tcp://127.0.0.1", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:port",
                                 "tcp://:8583", "tcp://127.0.0.1:0/x", "tcp://no-such-host.invalid:0"])
def test_a_bad_address_is_one_equipment_error(url: str) -> None:
    with pytest.raises(EquipmentError) as info:
        open_device("host", url)
    assert "\n" not in str(info.value) and "host" in str(info.value)


def test_unknown_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        open_device("host", "tcp://127.0.0.1:0?colour=red")
    with pytest.raises(ConfigError, match="backend=usb"):
        open_device("host", "tcp://127.0.0.1:0?backend=usb")
    with pytest.raises(ConfigError, match="unknown URL scheme"):
        open_device("host", "udp://127.0.0.1:0")


def test_a_published_host_is_opened_as_a_view_that_never_stops_it() -> None:
    host = AcquirerHost(parse_behaviours_text("default: never\n")).start()
    try:
        url = publish(host)
        assert url == f"{host.url}?backend=sim"
        first, second = open_device("host", url), open_device("host", url)
        assert isinstance(first, HostDevice) and isinstance(second, HostDevice)
        assert first.host is second.host is host and first.url == host.url
        first.close()
        with Client(host.address) as unit:  # still serving
            unit.send(auth("000001"))
            assert wait_for(lambda: host.exchanges())
        second.close()
        unpublish(host)
        with pytest.raises(EquipmentError, match="no simulated bench host"):
            open_device("host", url)
    finally:
        host.stop()
    assert [f.code for f in host.findings()] == ["ISO-REVERSAL-MISSING"]


def test_missing_reversals_are_known_before_the_host_stops() -> None:
    with AcquirerHost(parse_behaviours_text("default: never\n")) as host, Client(host.address) as unit:
        unit.send(auth("000007"))
        assert wait_for(lambda: host.exchanges())
        missing = host.missing_reversals()
        assert [(f.code, f.stan, f.terminal) for f in missing] == [("ISO-REVERSAL-MISSING", "000007", "TERM0001")]
        assert host.findings() == []  # only stop() records them
