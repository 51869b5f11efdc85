"""The supply driver through the real PyVISA API on PyVISA-sim: both families, errors named."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import ConfigError, EquipmentError
from drivers.instruments.interfaces import InstrumentIdentity, PowerSupply
from drivers.instruments.supply import ScpiSupply
from drivers.registry import open_device
from drivers.sim.instrumentbench import RESOURCES, RIGOL_SUPPLY, SimInstruments
from tests.drivers.instruments.conftest import control


def supply(sim: SimInstruments, resource: str | None = None, extra: str = "") -> ScpiSupply:
    device = open_device("supply", sim.url("supply", resource) + extra)
    assert isinstance(device, ScpiSupply) and isinstance(device, PowerSupply)
    return device


@pytest.mark.parametrize(("resource", "family", "volt_query", "output_query"), [
    (RESOURCES["supply"], "keysight-e36", "VOLT?", "OUTP?"),
    (RIGOL_SUPPLY, "rigol-dp800", ":SOUR1:VOLT?", ":OUTP? CH1"),
])
def test_settings_reach_the_instrument_in_its_familys_commands(sim: SimInstruments, resource: str, family: str,
                                                               volt_query: str, output_query: str) -> None:
    with supply(sim, resource) as psu:
        assert psu.profile.family.name == family
        psu.set_voltage(5.2)
        psu.set_current_limit(1.25)
        psu.output(True)
        panel: Any = control(sim, resource)
        assert float(panel.query(volt_query)) == 5.2
        assert panel.query(output_query) == "ON"
        psu.output(False)
        assert panel.query(output_query) == "OFF"
        panel.close()


def test_what_the_simulated_bench_sets_is_what_the_supply_measures(sim: SimInstruments) -> None:
    with supply(sim) as psu:
        sim.set_reading("supply", "voltage", 5.05)
        sim.set_reading("supply", "current", 0.183)
        assert (psu.measure_voltage(), psu.measure_current()) == (5.05, 0.183)
        sim.set_reading("supply", "current", 0.0412)
        assert psu.measure_current() == 0.0412
    with supply(sim, RIGOL_SUPPLY) as rigol:
        sim.set_reading("supply", "current", 1.5, resource=RIGOL_SUPPLY)
        assert rigol.measure_current() == 1.5


def test_identity_is_the_idn_answer(sim: SimInstruments) -> None:
    with supply(sim) as psu:
        assert psu.identify() == InstrumentIdentity("Keysight Technologies", "E36103B", "MY59000123",
                                                    "2.0.3-1.0.4-1.12")
        psu.reset()


def test_a_setting_the_instrument_refuses_is_an_equipment_error_naming_it_and_the_command(sim: SimInstruments) -> None:
    with supply(sim) as psu, pytest.raises(EquipmentError) as exc:
        psu.set_voltage(99)
    assert str(exc.value) == ("power supply Keysight Technologies E36103B at TCPIP0::10.0.0.21::inst0::INSTR "
                              "refused 'VOLT 99.0000': -100,\"Command error\"")
    assert exc.value.fault_code == "BENCH-INSTRUMENT"


def test_a_channel_the_supply_does_not_have_is_refused_at_its_select_command(sim: SimInstruments) -> None:
    with supply(sim, extra="&channel=2") as psu, pytest.raises(EquipmentError, match="refused 'INST:NSEL 2'"):
        psu.set_voltage(3.3)


def test_a_level_that_is_no_number_never_reaches_the_instrument(sim: SimInstruments) -> None:
    with supply(sim) as psu:
        for bad in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ConfigError, match="supply: a voltage must be a number of at least 0"):
                psu.set_voltage(bad)


def test_stale_errors_are_cleared_at_open_and_not_blamed_on_the_first_command(sim: SimInstruments) -> None:
    panel: Any = control(sim, RESOURCES["supply"])
    panel.write("NO:SUCH:COMMAND")  # someone before us left an error in the queue
    with supply(sim) as psu:
        psu.set_voltage(12.0)  # no error raised: the queue was emptied when the driver opened
    panel.close()


def test_closing_twice_is_harmless_and_a_closed_supply_says_so(sim: SimInstruments) -> None:
    psu = supply(sim)
    psu.close()
    psu.close()
    with pytest.raises(EquipmentError, match="is closed"):
        psu.output(True)
