"""display.patterns and display.backlight: good display passes; dead pixels, a dead backlight and an
operator's rejection each give their own fault."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeUnit

from bench.checks.display import expected_crc, expected_frame, question
from bench.operator import ScriptedOperator
from drivers.interfaces import DisplayInfo

sys.path.insert(0, str(Path(__file__).parent))
from hmichecks import run_check, sim_unit


def test_expected_frames_exact_bytes() -> None:
    assert expected_frame("on", 10, 2, 1) == bytes.fromhex("FFC0 FFC0")  # 10 px, padded to 2 bytes
    assert expected_frame("checkerboard", 8, 2, 1) == bytes.fromhex("AA 55")
    assert expected_frame("stripes", 8, 3, 1) == bytes.fromhex("FF 00 FF")
    assert expected_frame("off", 3, 1, 16) == bytes(6)
    assert expected_frame("colour_bars", 8, 1, 16) == bytes.fromhex("FFFF FFE0 07FF 07E0 F81F F800 001F 0000")
    assert expected_crc("on", 8, 1, 1) == zlib.crc32(b"\xff") == 0xFF000000
    with pytest.raises(ValueError):
        expected_frame("colour_bars", 8, 1, 1)


def test_good_display_passes_every_pattern_and_text() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("display.patterns", unit)
    assert faults == set()
    names = {m.name for m in ctx.measurements}
    assert {"off.checksum_ok", "on.checksum_ok", "checkerboard.checksum_ok", "stripes.operator_ok"} <= names
    assert "colour bars skipped: monochrome display" in ctx.notes
    assert unit.text == {(0, 0): "BENCH TE"}  # cut to the display's 8 columns


def test_colour_display_shows_colour_bars() -> None:
    unit = FakeUnit(display=DisplayInfo(32, 8, 16, 2, 8, True, True))
    _ctx, faults = run_check("display.patterns", unit)
    assert faults == set() and "pattern colour_bars" in unit.calls


def test_dead_pixel_names_the_pattern() -> None:
    def render(pattern: str) -> bytes:
        frame = bytearray(expected_frame(pattern, 16, 4, 1))
        frame[3] &= 0x7F  # pixel (8, 1) stuck off
        return bytes(frame)

    ctx, faults = run_check("display.patterns", FakeUnit(render=render))
    assert faults == {"DSP-PIXELS"}
    bad = [m.name for m in ctx.measurements if not m.passed]
    assert bad == ["on.checksum_ok"]  # (8, 1) is dark in off, checkerboard and stripes anyway
    assert any(n.startswith("on: frame buffer CRC-32") for n in ctx.notes)


def test_operator_rejection() -> None:
    operator = ScriptedOperator({question("checkerboard"): False, "*": True})
    ctx, faults = run_check("display.patterns", FakeUnit(), operator)
    assert faults == {"DSP-REJECTED"}
    assert [m.name for m in ctx.measurements if not m.passed] == ["checkerboard.operator_ok"]


def test_backlight_levels_and_restore() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("display.backlight", unit)
    assert faults == set()
    assert {m.name: m.value for m in ctx.measurements}["backlight.100_ma"] == 30.0
    assert unit.calls[-1] == "backlight 100"


def test_failed_backlight() -> None:
    ctx, faults = run_check("display.backlight", FakeUnit(backlight_ma=0.1))
    assert faults == {"DSP-BACKLIGHT"}
    assert [m.name for m in ctx.measurements if not m.passed] == ["backlight.100_ma", "backlight.50_ma",
                                                                   "backlight.10_ma"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unit", "check", "expected"),
    [
        ({}, "display.patterns", set()),
        ({"display": {"bits_per_pixel": 16, "width": 64, "height": 48}}, "display.patterns", set()),
        ({"faults": {"dead_pixels": [[5, 7], [100, 20, "on"]]}}, "display.patterns", {"DSP-PIXELS"}),
        ({}, "display.backlight", set()),
        ({"faults": {"backlight_failed": True}}, "display.backlight", {"DSP-BACKLIGHT"}),
    ],
)
def test_against_the_simulated_unit(unit: dict[str, Any], check: str, expected: set[str]) -> None:
    with sim_unit(**unit) as (client, actions):
        ctx, got = run_check(check, client, ScriptedOperator({"*": True}, actions))
    assert got == expected, ctx.notes
    if expected == {"DSP-PIXELS"}:
        failed = sorted(m.name for m in ctx.measurements if not m.passed)
        assert failed == ["checkerboard.checksum_ok", "off.checksum_ok", "on.checksum_ok"]  # not stripes
