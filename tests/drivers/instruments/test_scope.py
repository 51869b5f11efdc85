"""The oscilloscope driver through the real PyVISA API on PyVISA-sim; the waveform block reader."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import EquipmentError
from drivers.instruments.scope import ScpiScope, parse_ascii_block
from drivers.registry import open_device
from drivers.sim.instrumentbench import RESOURCES, SimInstruments
from tests.drivers.instruments.conftest import control


def scope(sim: SimInstruments, extra: str = "") -> ScpiScope:
    device = open_device("scope", sim.url("scope") + extra)
    assert isinstance(device, ScpiScope)
    return device


def test_a_single_shot_capture_reads_what_the_simulated_bench_put_there(sim: SimInstruments) -> None:
    sim.set_waveform([0.0, 0.25, 1.75, 0.5], x_increment=2e-6, x_origin=-1e-6)
    with scope(sim) as osc:
        assert osc.identify().model == "DS1104Z"
        osc.arm_single(2, level=0.125)
        panel: Any = control(sim, RESOURCES["scope"])
        assert panel.query(":TRIG:EDGE:SOUR?") == "CHAN2" and float(panel.query(":TRIG:EDGE:LEV?")) == 0.125
        panel.close()
        assert osc.wait_triggered(1.0)
        wave = osc.waveform(2)
    assert wave.channel == 2 and wave.values == (0.0, 0.25, 1.75, 0.5)
    assert wave.times() == pytest.approx((-1e-6, 1e-6, 3e-6, 5e-6))


def test_a_capture_that_does_not_trigger_is_false_not_an_error(sim: SimInstruments) -> None:
    sim.set_triggered(False)
    with scope(sim) as osc:
        osc.arm_single(1)
        assert not osc.wait_triggered(0.1)
        sim.set_triggered(True)
        assert osc.wait_triggered(0.1)


def test_a_channel_the_scope_has_not_is_refused_naming_the_command(sim: SimInstruments) -> None:
    with scope(sim) as osc, pytest.raises(EquipmentError, match="refused ':TRIG:EDGE:SOUR CHAN5'"):
        osc.arm_single(5)


def test_an_unanswered_query_times_out_within_the_urls_timeout_and_says_so(sim: SimInstruments) -> None:
    # the Keysight family asks :TER?, which this Rigol-like scope does not know: no answer, an error queued
    with scope(sim, "&profile=keysight-infiniivision&timeout=0.2") as osc:
        osc.arm_single(1)
        with pytest.raises(EquipmentError) as exc:
            osc.wait_triggered(1.0)
    assert "did not answer ':TER?' within 0.2 s; it says -100,\"Command error\"" in str(exc.value)


def test_an_ascii_block_is_read_with_or_without_its_header() -> None:
    assert parse_ascii_block("#9000000011 1.5,-2e-3\n") == (1.5, -0.002)
    assert parse_ascii_block("1.5,2.5,") == (1.5, 2.5)
    assert parse_ascii_block("") == ()


@pytest.mark.parametrize("bad", ["#x12", "#9000", "#2051,2,x", "1,nan", "1,inf"])
def test_a_block_that_cannot_be_read_is_an_equipment_error(bad: str) -> None:
    with pytest.raises(EquipmentError, match=r"^scope: "):
        parse_ascii_block(bad)


def test_an_oscilloscope_no_profile_knows_is_refused_at_open(sim: SimInstruments) -> None:
    with pytest.raises(EquipmentError, match=r"scope: no profile knows Keysight Technologies E36103B; name one with "
                                             r"\?profile= \(rigol-ds1000z, keysight-infiniivision\)"):
        open_device("scope", sim.url("supply"))
