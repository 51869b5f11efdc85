"""The device half of a scenario: drivers/sim validates it once, with the file and line of a bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.errors import ConfigError
from drivers.sim import printer as simprinter
from drivers.sim import unitprofile
from drivers.sim.bench import SimBench
from drivers.sim.scenario import parse_devices, scenario_names, scenario_path
from drivers.yamlsafe import load_text


def device_section(text: str) -> object:
    return load_text(text, path="s.yaml")["device"]


def test_a_device_section_becomes_started_devices() -> None:
    devices = parse_devices(device_section(
        "device:\n"
        "  unit:\n"
        "    base: good\n"
        "    battery: {charge_percent: 8, voltage: 3.41}\n"
        "  cards:\n"
        "    substitute: {emv-visa-contact: mute, emv-contactless: none}\n"
        "    inserted: emv-visa-contact\n"
        "  printer:\n"
        "    faults: {cover_open: true}\n"
        "    serial: P-1\n"
    ), path="s.yaml")
    assert devices.unit["battery"]["charge_percent"] == 8
    assert devices.unit["serial"] == unitprofile.load_profile("good")["serial"]  # the rest from the base
    assert devices.substitute == {"emv-visa-contact": "mute", "emv-contactless": None}
    assert devices.inserted == "emv-visa-contact"
    assert devices.printer_faults is not None and devices.printer_faults.cover_open
    assert devices.printer_info is not None and devices.printer_info.serial == "P-1"
    assert devices.with_serial("LOT-7").unit["serial"] == "LOT-7"
    assert devices.unit["serial"] != "LOT-7"


def test_no_device_section_is_a_good_unit() -> None:
    devices = parse_devices(None)
    assert devices.unit == unitprofile.load_profile("good")
    assert devices.printer_faults is None and devices.substitute == {}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("device:\n  unit:\n    base: good\n    battery: {charge_percent: 300}\n", 4,
         "must be between 0 and 100 (at device.unit.battery.charge_percent)"),
        ("device:\n  unit:\n    base: good\n    batery: {}\n", 4, "unknown profile key(s): batery (at device.unit.batery)"),
        ("device:\n  unit: {base: goood}\n", 2, "unknown unit profile 'goood'; known: good,"),
        ("device:\n  unit:\n    event_log:\n      - {time: -1d, code: 1}\n      - {time: soon, code: 1}\n", 5,
         "(at device.unit.event_log[1].time)"),
        ("device:\n  printer:\n    faults:\n      cover_open: maybe\n", 4,
         "printer fault cover_open must be true/false, not 'maybe' (at device.printer.faults.cover_open)"),
        ("device:\n  printer:\n    colour: red\n", 3, "unknown field 'colour'; known: faults, manufacturer"),
        ("device:\n  cards:\n    substitute: {emv-visa-contact: mutte}\n", 3, "unknown card 'mutte'; known:"),
        ("device:\n  cards: {inserted: emv-visa-contact}\n  printr: {}\n", 3, "unknown field 'printr'; known: unit"),
    ],
)
def test_a_bad_device_half_names_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_devices(device_section(text), path="s.yaml")
    assert str(err.value).startswith(f"s.yaml:{line}: ")
    assert message in str(err.value)


def test_a_bad_field_of_the_base_profile_names_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("spec: 1\nbase: good\nbattery: {charge_percent: 300}\n")
    with pytest.raises(ConfigError, match=rf"^{profile}: must be between 0 and 100 \(at battery.charge_percent\)$"):
        parse_devices(device_section(f"device:\n  unit: {{base: {profile}}}\n"), path="s.yaml")


def test_shipped_scenarios_are_found_by_name() -> None:
    assert "good" in scenario_names() and "battery-low" in scenario_names()
    assert scenario_path("good").is_file()
    assert scenario_path("x/mine.yaml") == Path("x/mine.yaml")
    with pytest.raises(ConfigError, match="unknown scenario 'nope'; known: battery-low"):
        scenario_path("nope")


@pytest.mark.slow
def test_the_bench_starts_validated_devices_without_checking_them_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    validate, from_mapping = unitprofile.validate_profile, simprinter.PrinterFaults.from_mapping
    monkeypatch.setattr(unitprofile, "validate_profile", lambda *a, **k: calls.append("unit") or validate(*a, **k))
    monkeypatch.setattr(simprinter.PrinterFaults, "from_mapping",
                        classmethod(lambda cls, *a, **k: calls.append("printer") or from_mapping(*a, **k)))
    devices = parse_devices(device_section(
        "device:\n  unit: {base: good, serial: S-1}\n  printer:\n    faults: {paper_near_end: true}\n"))
    assert sorted(calls) == ["printer", "unit"]
    with SimBench(devices, ("unit", "printer")) as sim:
        assert set(sim.urls) == {"unit", "printer"}
        assert sim.printer.printer.faults.paper_near_end
    assert sorted(calls) == ["printer", "unit"]


def test_a_host_behaviour_is_parsed_inline() -> None:
    devices = parse_devices(device_section(
        "device:\n"
        "  host:\n"
        "    behaviour:\n"
        "      default: approve\n"
        "      rules:\n"
        "        - {card: '476173', answer: decline, code: '51'}\n"
    ), path="s.yaml")
    assert devices.host is not None
    assert devices.host.choose("0100", "4761739001010010").describe() == "decline 51"
    assert devices.host.choose("0100", "5413330089010012").describe() == "approve"
    assert parse_devices(None).host is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("device:\n  host:\n    behaviour:\n      rules:\n        - {answer: late}\n", 5,
         "a late answer needs delay: seconds, more than 0 and at most 600 (at device.host.behaviour.rules[0].delay)"),
        ("device:\n  host:\n    behaviour:\n      defualt: approve\n", 4,
         "unknown key 'defualt' (expected default, rules) (at device.host.behaviour.defualt)"),
        ("device:\n  host:\n    behavior: {}\n", 3, "unknown field 'behavior'; known: behaviour (at device.host.behavior)"),
        ("device:\n  host: approve\n", 2, "host must be a mapping"),
        ("device:\n  host:\n    behaviour: [1]\n", 3, "behaviour is a mapping with default: and rules:"),
    ],
)
def test_a_bad_host_behaviour_names_the_scenario_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_devices(device_section(text), path="s.yaml")
    assert str(err.value).startswith(f"s.yaml:{line}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_bench_runs_the_scenarios_host_and_stops_it() -> None:
    from drivers.registry import open_device
    from tests.drivers.acquirer.isoclient import Client, auth

    devices = parse_devices(device_section("device:\n  host:\n    behaviour: {default: {answer: decline}}\n"))
    with SimBench(devices, ("host",)) as sim:
        assert set(sim.urls) == {"host"}
        with open_device("host", sim.urls["host"]) as dev, Client(sim.acquirer.address) as unit:
            assert dev.url == sim.acquirer.url and unit.request(auth("000001"))["39"] == "05"
        assert sim.acquirer.exchanges()  # closing the device left the bench's host running
    assert sim.acquirer is None
