"""The multimeter driver through the real PyVISA API on PyVISA-sim."""

from __future__ import annotations

import pytest

from drivers.errors import EquipmentError
from drivers.instruments.dmm import ScpiMultimeter
from drivers.registry import open_device
from drivers.sim.instrumentbench import SimInstruments


def test_what_the_simulated_bench_sets_is_what_the_multimeter_reads(sim: SimInstruments) -> None:
    with open_device("dmm", sim.url("dmm")) as dmm:
        assert isinstance(dmm, ScpiMultimeter) and dmm.profile.family.name == "keysight-344"
        sim.set_reading("dmm", "voltage", 4.987)
        sim.set_reading("dmm", "current", -0.0021)
        assert dmm.dc_voltage() == 4.987
        assert dmm.dc_current() == -0.0021


def test_a_function_select_the_instrument_refuses_names_the_command(sim: SimInstruments) -> None:
    with open_device("dmm", sim.url("dmm") + "&profile=rigol-dm3000") as dmm, \
            pytest.raises(EquipmentError, match=r"multimeter Keysight Technologies 34461A at .* refused ':FUNC:VOLT:DC'"):
        assert isinstance(dmm, ScpiMultimeter)
        dmm.dc_voltage()


def test_an_overloaded_reading_is_an_equipment_error(sim: SimInstruments) -> None:
    with open_device("dmm", sim.url("dmm")) as dmm:
        assert isinstance(dmm, ScpiMultimeter)
        sim.set_reading("dmm", "voltage", 9.9e37)
        with pytest.raises(EquipmentError, match=r"'MEAS:VOLT:DC\?' is over range"):
            dmm.dc_voltage()
