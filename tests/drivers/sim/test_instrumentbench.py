"""The simulated bench's instruments: started with the roles that need them, readings set at run time."""

from __future__ import annotations

from pathlib import Path

from drivers.instruments.interfaces import Multimeter, PowerSupply
from drivers.registry import open_device
from drivers.sim.bench import SimBench
from drivers.sim.instrumentbench import SimInstruments
from drivers.sim.scenario import parse_devices


def test_the_bench_starts_instruments_only_for_the_roles_asked_for() -> None:
    with SimBench(parse_devices({}), ("supply", "dmm")) as sim:
        assert set(sim.urls) == {"supply", "dmm"}
        assert all(url.startswith("visa://") and url.endswith("bench.yaml@sim") for url in sim.urls.values())
        assert str(sim.folder) in sim.urls["supply"]  # its own copy of the descriptions
        with open_device("supply", sim.urls["supply"]) as psu:
            assert isinstance(psu, PowerSupply)
            sim.instruments.set_reading("supply", "current", 0.35)
            assert psu.measure_current() == 0.35
    assert sim.instruments is None
    with SimBench(parse_devices({}), ("unit",)) as sim:
        assert sim.instruments is None


def test_two_benches_have_instruments_of_their_own(tmp_path: Path) -> None:
    one, two = SimInstruments(tmp_path / "a"), SimInstruments(tmp_path / "b")
    try:
        one.set_reading("dmm", "voltage", 1.5)
        two.set_reading("dmm", "voltage", 3.25)
        with open_device("dmm", one.url("dmm")) as a, open_device("dmm", two.url("dmm")) as b:
            assert isinstance(a, Multimeter) and isinstance(b, Multimeter)
            assert (a.dc_voltage(), b.dc_voltage()) == (1.5, 3.25)
    finally:
        one.close()
        two.close()


def test_each_slot_of_a_simulated_station_has_instruments_of_its_own() -> None:
    from drivers.sim.station import SimStation

    with SimStation({1: parse_devices({}), 2: parse_devices({})}, ("supply",)) as station:
        assert all(set(urls) == {"supply"} for urls in station.urls_by_slot.values())
        station.instruments_by_slot[1].set_reading("supply", "current", 0.1)
        station.instruments_by_slot[2].set_reading("supply", "current", 0.2)
        with open_device("supply", station.urls_by_slot[1]["supply"]) as one, \
                open_device("supply", station.urls_by_slot[2]["supply"]) as two:
            assert isinstance(one, PowerSupply) and isinstance(two, PowerSupply)
            assert (one.measure_current(), two.measure_current()) == (0.1, 0.2)
    assert station.instruments_by_slot == {}
