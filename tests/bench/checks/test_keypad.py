"""keypad.all_keys: a good keypad passes; dead, stuck and bouncing keys give their own fault."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fakes import KEYS, FakeUnit

sys.path.insert(0, str(Path(__file__).parent))
from hmichecks import run_check, sim_unit

from bench.operator import ScriptedOperator

FAST = {"settle_s": 0.2, "idle_s": 1.0, "release_timeout_s": 0.5, "timeout_s": 10}


def fake_operator(unit: FakeUnit, **faults: Any) -> ScriptedOperator:
    def press_keys(keys: list[str], **_: Any) -> None:
        unit.press(keys, **faults)

    return ScriptedOperator({"*": True}, {"press_keys": press_keys})


def test_good_keypad_passes_and_leaves_test_mode() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit), **FAST)
    assert faults == set()
    values = {m.name: m.value for m in ctx.measurements}
    assert values["keys.registered"] == len(KEYS) and values["keys.dead"] == 0
    assert unit.calls == ["keypad True", "keypad False"] and not unit.keypad_on


def test_dead_key_is_named() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit, dead=("5", "F2")), **FAST)
    assert faults == {"KEY-DEAD"}
    assert "key 5 dead" in ctx.notes and "key F2 dead" in ctx.notes


def test_key_never_released_is_stuck() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit, held=("ENTER",)), **FAST)
    assert faults == {"KEY-STUCK"}
    assert any(n.startswith("key ENTER stuck: pressed and never released") for n in ctx.notes)


def test_key_down_before_any_press_is_stuck() -> None:
    unit = FakeUnit()
    unit.key("key_down", "CLEAR", 10)
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit, dead=("CLEAR",)), **FAST)
    assert faults == {"KEY-STUCK"}  # not also dead: it is stuck
    assert "key CLEAR stuck: reported down before any key was pressed" in ctx.notes


def test_bouncing_key_within_debounce_window() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit, bouncing=("7",)), **FAST)
    assert faults == {"KEY-BOUNCE"}
    assert any(n.startswith("key 7 bounced: two key-downs 5 ms apart") for n in ctx.notes)
    # a 5 ms re-press is within a 30 ms window, not within a 3 ms one
    unit = FakeUnit()
    _, faults = run_check("keypad.all_keys", unit, fake_operator(unit, bouncing=("7",)), **FAST, debounce_ms=3)
    assert faults == set()


def test_plan_keys_override_layout() -> None:
    unit = FakeUnit(keys=("1", "2"))
    ctx, faults = run_check("keypad.all_keys", unit, fake_operator(unit, dead=("F9",)), keys=["1", "2", "F9"], **FAST)
    assert faults == {"KEY-DEAD"} and "key F9 dead" in ctx.notes
    assert any("layout lacks: F9" in n for n in ctx.notes)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("faults", "expected", "note"),
    [
        ({}, set(), None),
        ({"dead_keys": ["5"]}, {"KEY-DEAD"}, "key 5 dead"),
        ({"stuck_keys": ["CLEAR"]}, {"KEY-STUCK"}, "key CLEAR stuck: reported down before any key was pressed"),
        ({"bouncing_keys": ["7"]}, {"KEY-BOUNCE"}, "key 7 bounced: two key-downs 5 ms apart (debounce window 30 ms)"),
    ],
)
def test_against_the_simulated_unit(faults: dict[str, Any], expected: set[str], note: str | None) -> None:
    with sim_unit(faults=faults) as (unit, actions):
        ctx, got = run_check("keypad.all_keys", unit, ScriptedOperator({"*": True}, actions), **FAST)
    assert got == expected, ctx.notes
    if note:
        assert note in ctx.notes
    registered = {m.name: m.value for m in ctx.measurements}["keys.registered"]
    assert registered == 17 - len(faults.get("dead_keys", [])) - len(faults.get("stuck_keys", []))
