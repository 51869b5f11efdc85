"""msr.swipe: good reads pass; misreads and bad LRC give their own fault; the PAN stays masked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeUnit
from simproc import assert_nowhere, run_sim_debug

from bench.operator import ScriptedOperator
from drivers.codecs.msr import with_lrc

sys.path.insert(0, str(Path(__file__).parent))
from hmichecks import run_check, sim_unit

PAN = "4761739001010010"
T1 = with_lrc(1, f"%B{PAN}^BENCH/TEST CARD^30122010000000000?")
T2 = with_lrc(2, f";{PAN}=30122010000000?")


def swiping(unit: FakeUnit, outcomes: list[str]) -> ScriptedOperator:
    """Each swipe gives the next outcome: ok, misread, lrc, format, nothing."""
    queue = list(outcomes)

    def swipe_card(card: str, **_: Any) -> None:
        what = queue.pop(0)
        if what == "ok":
            unit.swipe(True, T1, T2)
        elif what == "misread":
            unit.swipe(False, "", "")
        elif what == "lrc":
            unit.swipe(True, T1[:-1] + chr(ord(T1[-1]) ^ 1), T2)
        elif what == "format":
            unit.swipe(True, T1, with_lrc(2, f";{PAN}=3012?"))

    return ScriptedOperator({"*": True}, {"swipe_card": swipe_card})


def all_text(ctx: Any) -> str:
    return repr(ctx.measurements) + repr(ctx.notes)


def test_good_swipes_show_only_the_masked_pan() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("msr.swipe", unit, swiping(unit, ["ok"] * 5))
    assert faults == set()
    values = {m.name: m.value for m in ctx.measurements}
    assert values["read_rate"] == 1.0 and values["pan"] == "476173******0010"
    assert ctx.notes[0] == "swipe 1: track 1 ok, track 2 ok, PAN 476173******0010"
    assert PAN not in all_text(ctx) and "BENCH/TEST" not in all_text(ctx)
    assert unit.calls == ["msr True", "msr False"]


def test_one_misread_in_five_is_tolerated_three_are_not() -> None:
    unit = FakeUnit()
    _, faults = run_check("msr.swipe", unit, swiping(unit, ["ok", "misread", "ok", "ok", "ok"]))
    assert faults == set()
    unit = FakeUnit()
    ctx, faults = run_check("msr.swipe", unit, swiping(unit, ["misread", "ok", "misread", "misread", "ok"]))
    assert faults == {"MSR-NO-READ"}
    assert {m.name: m.value for m in ctx.measurements}["read_rate"] == 0.4


def test_no_swipe_event_is_a_misread() -> None:
    unit = FakeUnit()
    ctx, faults = run_check("msr.swipe", unit, swiping(unit, ["nothing"]), swipes=1, swipe_timeout=0.3)
    assert faults == {"MSR-NO-READ"} and ctx.notes[0].startswith("swipe 1: no read (nothing from the reader")


@pytest.mark.parametrize("bad", ["lrc", "format"])
def test_bad_lrc_or_format(bad: str) -> None:
    unit = FakeUnit()
    ctx, faults = run_check("msr.swipe", unit, swiping(unit, ["ok", bad, "ok"]), swipes=3)
    assert faults == {"MSR-BAD-LRC"}
    assert PAN not in all_text(ctx)


def test_head_without_a_required_track() -> None:
    unit = FakeUnit(tracks=(2,))
    _, faults = run_check("msr.swipe", unit, swiping(unit, []))
    assert faults == {"MSR-NO-READ"} and unit.calls == ["msr True", "msr False"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("faults", "expected", "reads"),
    [
        ({}, set(), 5),
        ({"msr_bad_lrc": True}, {"MSR-BAD-LRC"}, 5),
        ({"msr_misreads": {"fail": 3, "of": 5}}, {"MSR-NO-READ"}, 2),
        ({"msr_misreads": {"fail": 1, "of": 5}}, set(), 4),
    ],
)
def test_against_the_simulated_unit(faults: dict[str, Any], expected: set[str], reads: int,
                                    caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    with sim_unit(faults=faults) as (unit, actions):
        ctx, got = run_check("msr.swipe", unit, ScriptedOperator({"*": True}, actions))
    assert got == expected, ctx.notes
    assert {m.name: m.value for m in ctx.measurements}["reads"] == reads
    assert PAN not in all_text(ctx) and PAN not in caplog.text
    assert PAN.encode().hex() not in caplog.text and "kind=04" in caplog.text


@pytest.mark.slow
def test_no_track_data_in_record_reports_store_or_debug_log(tmp_path: Path) -> None:
    """Through the real CLI with --debug: the PAN, the name and the raw track bytes appear nowhere."""

    plan = tmp_path / "msr.yaml"
    plan.write_text(
        "plan: msr-only\nversion: '1'\nmodels: [PT-300]\nsteps:\n"
        "  - {name: identify, check: unit.identify}\n"
        "  - {name: magstripe, check: msr.swipe, requires: [identify], timeout: 60, params: {swipes: 3}}\n"
    )
    proc = run_sim_debug(plan, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "kind=04" in proc.stderr and "476173******0010" in proc.stdout
    secrets = [PAN, "BENCH/TEST", PAN.encode().hex(), b"BENCH/TEST".hex(), "=3012201"]
    assert_nowhere(secrets, proc, tmp_path)
