"""The unit's configuration end to end: UnitClient.config_read/config_write -> the simulated unit on a pty (§5c)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drivers import configproto as cp
from drivers import unitconfig
from drivers.errors import ConfigError, DeviceError
from drivers.sim.unitconfig import KEYS, UnitConfig
from drivers.sim.unitprofile import load_profile
from drivers.unit import UnitClient
from tests.drivers.conftest import ServeUnit

Start = Callable[..., UnitClient]
MERCHANT = {"terminal_id": "PT300001", "merchant_id": "104110070110001", "acquirer_host": "tcp://10.20.30.40:8583",
            "timezone": "Asia/Shanghai", "receipt_header.1": "DEMO CAFE", "receipt_header.2": "1 MAIN STREET, SHANGHAI",
            "receipt_header.3": "", "network.wifi.ssid": "DEMO-POS", "network.cellular.apn": "cmnet"}


@pytest.fixture
def start_unit(serve_unit: ServeUnit) -> Start:
    def start(overrides: dict[str, Any] | None = None, **options: Any) -> UnitClient:
        return serve_unit("good", overrides, **options)[0]

    return start


def test_the_unit_lists_every_setting_in_pages_unset_ones_empty(start_unit: Start) -> None:
    unit = start_unit(max_payload=128)
    before = unit.stats.requests
    settings = unit.config_read()
    assert list(settings) == list(KEYS) and len(KEYS) == 26
    assert {k: settings[k] for k in MERCHANT} == MERCHANT
    assert settings["network.eth.mode"] == "dhcp" and settings["network.eth.address"] == ""
    assert unit.stats.requests - before >= 6  # 26 settings do not fit one 128-byte page


def test_written_settings_are_read_back_and_survive_a_reboot(start_unit: Start) -> None:
    unit = start_unit({"config": {"settings": {"merchant_id": None}, "read_only": ["terminal_id"]}})
    assert unit.config_read()["merchant_id"] == ""
    results = unit.config_write({"merchant_id": "104110070110001", "timezone": "Mars/Olympus Mons",
                                 "terminal_id": "PT300002", "pin_pad": "on", "network.wifi.gateway": "192.168.10.254",
                                 "receipt_header.2": "", "receipt_header.1": "上海演示咖啡店"})
    assert results == {"receipt_header.1": "written",  # a Chinese merchant's header, as its slips print it
                       "merchant_id": "written",
                       "timezone": "invalid value: expected a time zone name such as Asia/Shanghai",
                       "terminal_id": "read-only", "pin_pad": "unknown key", "network.wifi.gateway": "written",
                       "receipt_header.2": "written"}
    unit.reboot(wait=10)
    after = unit.config_read()
    assert (after["merchant_id"], after["timezone"], after["terminal_id"]) == ("104110070110001", "Asia/Shanghai",
                                                                               "PT300001")
    assert after["network.wifi.gateway"] == "192.168.10.254" and after["receipt_header.2"] == ""
    assert after["receipt_header.1"] == "上海演示咖啡店"


def test_many_settings_go_in_several_writes_and_a_forgetful_unit_says_written(start_unit: Start) -> None:
    unit = start_unit({"config": {"forgets": ["merchant_id"]}}, max_payload=64)
    before = unit.stats.requests
    wanted = {"merchant_id": "999", **{f"receipt_header.{n}": f"LINE {n} OF THE HEADER" for n in range(1, 5)}}
    assert set(unit.config_write(wanted).values()) == {"written"}
    assert unit.stats.requests - before >= 3
    after = unit.config_read()
    assert after["merchant_id"] == "104110070110001"  # answered written, not kept
    assert [after[f"receipt_header.{n}"] for n in range(1, 5)] == list(wanted.values())[1:]


def test_a_unit_without_the_config_capability_is_link_unsupported(start_unit: Start) -> None:
    unit = start_unit({"capabilities": ["selftest", "battery"]})
    for call in (unit.config_read, lambda: unit.config_write({"merchant_id": "1"})):
        with pytest.raises(DeviceError) as err:
            call()
        assert err.value.fault_code == "LINK-UNSUPPORTED"


class _Changing:
    """A client whose unit's settings change between every two pages."""

    url = "fake"

    def __init__(self, settle_after: int | None) -> None:
        self.calls = 0
        self.settle_after = settle_after
        self.link = type("L", (), {"max_payload": 512})()

    def _call(self, command: int, payload: bytes = b"") -> bytes:
        self.calls += 1
        first = cp.decode_read(payload)
        settled = self.settle_after is not None and self.calls > self.settle_after
        generation = 1 if settled else self.calls
        return cp.ConfigPage(generation, 2, first, ((f"k{first}", "v"),)).encode()


def test_a_read_starts_again_when_the_settings_change_and_gives_up_after_three_tries() -> None:
    client = _Changing(settle_after=2)
    assert unitconfig.read(client) == {"k0": "v", "k1": "v"}  # type: ignore[arg-type]
    assert client.calls == 4  # page 0, page 1 of a newer generation: both pages again
    with pytest.raises(DeviceError, match="kept changing") as err:
        unitconfig.read(_Changing(settle_after=None))  # type: ignore[arg-type]
    assert err.value.fault_code == "UNIT-FAULT"


def test_the_units_answer_to_a_write_fits_its_payload() -> None:
    config = UnitConfig(load_profile("good"))
    pairs = [("timezone", "x")] * 20
    answer = cp.decode_write_answer(config.write(cp.encode_write(pairs), 64), 20)
    assert answer == [("invalid value", "")] * 20  # the reasons did not fit
    one = cp.decode_write_answer(config.write(cp.encode_write(pairs[:1]), 64), 1)
    assert one == [("invalid value", "expected a time zone name such as Asia/Shanghai")]


@pytest.mark.parametrize(("config", "field", "says"), [
    ({"settings": {"merchant_id": "10411007011000123"}}, "config.settings.merchant_id",
     "expected 1 to 15 letters or digits, got '10411007011000123'"),
    ({"settings": {"pin_pad": "on"}}, "config.settings.pin_pad", "unknown setting 'pin_pad'"),
    ({"settings": {"network": {"wifi": {"mode": "auto"}}}}, "config.settings.network.wifi.mode",
     "expected dhcp, static or off"),
    ({"settings": {"network": {"wifi": {"address": "192.168.10.20"}}}}, "config.settings.network.wifi.address",
     "with its prefix"),
    ({"settings": {"receipt_header": ["A", "B", "C", "D", "E"]}}, "config.settings.receipt_header", "at most 4"),
    ({"read_only": ["merchant"]}, "config.read_only", "expected a list of setting keys"),
    ({"flash": "bad"}, "config", "expected {settings, read_only, forgets}"),
])
def test_a_bad_config_section_names_its_field(config: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as err:
        load_profile("good", {"config": config})
    assert err.value.field == field
