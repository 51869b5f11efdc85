"""The simulated instruments follow the simulated unit: current by what it does, a sagging supply resets it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.errors import DeviceError
from drivers.instruments.interfaces import Multimeter, Oscilloscope, PowerSupply
from drivers.interfaces import Unit
from drivers.registry import open_device
from drivers.sim.bench import SimBench
from drivers.sim.scenario import parse_devices
from drivers.sim.unitpower import DEFAULTS, current_ma
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim


def until(read: Callable[[], float], want: float, timeout: float = 5.0) -> float:
    """Read until the reading is ``want`` (the follower updates every few tens of ms) or time is up."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != pytest.approx(want) and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


def test_the_current_is_the_sum_of_what_the_unit_is_doing() -> None:
    assert current_ma(DEFAULTS, {"powered": True}) == DEFAULTS["standby_ma"]
    assert current_ma(DEFAULTS, {"powered": True, "display": True, "charging": True}) == \
        DEFAULTS["standby_ma"] + DEFAULTS["display_ma"] + DEFAULTS["charge_ma"]
    assert current_ma(DEFAULTS, {"powered": False, "display": True}) == 0.0


def test_below_its_brownout_voltage_the_unit_is_silent_and_boots_when_the_supply_returns() -> None:
    sim = UnitSim(load_profile("good", {"power": {"brownout_v": 10.0}, "boot_time": 0.5}), now=0.0)
    assert sim.operator_action("supply", {"volts": 10.5}, 1.0)["powered"] is True
    assert sim.operator_action("supply", {"volts": 9.9}, 2.0)["powered"] is False
    assert sim.poll(100.0) == b"" and sim.booting  # silent however long it waits
    assert sim.operator_action("supply", {"volts": 12.0}, 101.0) == {
        "powered": True, "booting": True, "display": False, "txn": False, "printing": False, "charging": False}
    assert sim.poll(101.6) != b""  # the BOOT event
    assert sim.operator_action("power", {}, 101.7)["booting"] is False


@pytest.mark.slow
def test_the_supply_and_the_multimeter_measure_what_the_unit_draws() -> None:
    devices = parse_devices({"unit": {"base": "good", "power": {"standby_ma": 50, "display_ma": 70, "brownout_v": 9}}})
    with SimBench(devices, ("unit", "supply", "dmm")) as sim, \
            open_device("unit", sim.urls["unit"]) as unit, open_device("supply", sim.urls["supply"]) as psu, \
            open_device("dmm", sim.urls["dmm"]) as dmm:
        assert isinstance(unit, Unit) and isinstance(psu, PowerSupply) and isinstance(dmm, Multimeter)
        assert psu.measure_voltage() == 12.0  # the bench switched it on at the unit's nominal voltage
        unit.display_pattern("off")
        assert until(psu.measure_current, 0.050) == pytest.approx(0.050)
        unit.display_pattern("on")
        assert until(psu.measure_current, 0.120) == pytest.approx(0.120)
        assert until(dmm.dc_current, 0.120) == pytest.approx(0.120)
        psu.set_voltage(8.5)
        assert until(psu.measure_current, 0.0) == 0.0
        with pytest.raises(DeviceError):
            unit.identify()


@pytest.mark.slow
def test_the_scope_captures_the_inrush_when_the_supply_switches_on() -> None:
    with SimBench(parse_devices({"unit": {"base": "good", "power": {"inrush_peak_ma": 2500}}}),
                  ("unit", "supply", "scope")) as sim, \
            open_device("supply", sim.urls["supply"]) as psu, open_device("scope", sim.urls["scope"]) as scope:
        assert isinstance(psu, PowerSupply) and isinstance(scope, Oscilloscope)
        psu.output(False)
        time.sleep(0.2)
        scope.arm_single(1, 0.1)
        assert scope.wait_triggered(0.1) is False  # nothing happened yet
        psu.output(True)
        assert scope.wait_triggered(5.0) is True
        wave = scope.waveform(1)
        assert max(wave.values) == pytest.approx(2.5, rel=0.02)
        assert wave.values[0] == 0.0 and wave.x_origin < 0  # the trace starts before the power-on


@pytest.mark.parametrize(("power", "says"), [
    ({"standby_ma": "lots"}, "expected a number"), ({"brownout_v": -1}, "must not be negative"),
    ({"standby": 40}, "unknown key"),
])
def test_a_wrong_power_figure_names_its_field(power: dict, says: str) -> None:
    from drivers.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{says}.*power"):
        load_profile("good", {"power": power})
