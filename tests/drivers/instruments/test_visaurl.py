"""``visa://`` URLs: what a station file may say, and the one-line ConfigError for what it may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.errors import ConfigError, EquipmentError
from drivers.instruments.visaurl import DEFAULT_TIMEOUT, parse_visa_url
from drivers.registry import open_device
from drivers.sim.instrumentbench import SimInstruments


def test_a_resource_with_options_is_read_and_canonical() -> None:
    where = parse_visa_url("visa://TCPIP::192.168.0.20::INSTR?backend=@py&timeout=0.5&profile=rigol-dp800&channel=2",
                           "supply")
    assert where.resource == "TCPIP0::192.168.0.20::inst0::INSTR"
    assert (where.backend, where.timeout, where.profile, where.channel) == ("@py", 0.5, "rigol-dp800", 2)


def test_a_serial_resource_keeps_its_slashes() -> None:
    where = parse_visa_url("visa://ASRL/dev/ttyUSB0::INSTR", "dmm")
    assert where.resource == "ASRL/dev/ttyUSB0::INSTR" and where.timeout == DEFAULT_TIMEOUT and where.backend == ""


@pytest.mark.parametrize(("url", "says"), [
    ("visa://", "names no VISA resource"),
    ("visa://not a resource", "is not a VISA resource name"),
    ("visa://TCPIP::10.0.0.1::INSTR?speed=9600", "unknown option 'speed'"),
    ("visa://TCPIP::10.0.0.1::INSTR?timeout=0", "timeout='0' must be seconds from 0.05 to 60"),
    ("visa://TCPIP::10.0.0.1::INSTR?timeout=nan", "timeout='nan'"),
    ("visa://TCPIP::10.0.0.1::INSTR?channel=0", "channel='0' must be a channel number"),
    ("visa://TCPIP::10.0.0.1::INSTR?timeout", "cannot be read"),
])
def test_a_bad_url_is_a_config_error_naming_the_role(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=r"^supply: ") as exc:
        open_device("supply", url)
    assert says in str(exc.value)


def test_a_url_of_another_scheme_is_refused_by_the_registry() -> None:
    with pytest.raises(ConfigError, match=r"supply: unknown URL scheme 'usb://'.*known: visa://"):
        open_device("supply", "usb://04b8:0e15")


def test_a_backend_pyvisa_cannot_load_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"backend='@nope' cannot be loaded"):
        open_device("dmm", "visa://TCPIP::10.0.0.1::INSTR?backend=@nope")
    with pytest.raises(ConfigError, match=r"cannot be loaded: .*No such file") as exc:
        open_device("dmm", f"visa://TCPIP::10.0.0.1::INSTR?backend={tmp_path / 'none.yaml'}@sim")
    # one line a user can read: the cause, not the backend's traceback quoted with escaped newlines
    why = str(exc.value).split("cannot be loaded: ", 1)[1]
    assert why == f"FileNotFoundError: [Errno 2] No such file or directory: '{tmp_path / 'none.yaml'}'"


def test_no_instrument_at_the_address_is_an_equipment_error(sim: SimInstruments) -> None:
    with pytest.raises(EquipmentError, match=r"multimeter at TCPIP0::10\.9\.9\.9::inst0::INSTR: no instrument answers") \
            as exc:
        open_device("dmm", sim.url("dmm", "TCPIP::10.9.9.9::INSTR"))
    assert exc.value.fault_code == "BENCH-INSTRUMENT"


def test_a_profile_the_kind_does_not_have_is_a_config_error(sim: SimInstruments) -> None:
    with pytest.raises(ConfigError, match="supply: no profile 'rigol-ds1000z'; known: keysight-e36, rigol-dp800"):
        open_device("supply", sim.url("supply") + "&profile=rigol-ds1000z")


def test_no_visa_library_to_be_had_is_an_equipment_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVISA_LIBRARY", "@none-installed")  # what PyVISA falls back on without ?backend=
    with pytest.raises(EquipmentError, match=r"^power supply at TCPIP0::10\.0\.0\.1::inst0::INSTR: no VISA library "
                                             r"is installed \(install pyvisa-py, or name one with \?backend=\)") as exc:
        open_device("supply", "visa://TCPIP::10.0.0.1::INSTR")
    assert exc.value.fault_code == "BENCH-CONFIG"
