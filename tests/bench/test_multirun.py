"""Multi-up runs: the pieces (abort from another thread, per-slot scripts, exit codes, JUnit)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeUnit
from lxml import etree

from bench.checks.base import CheckSpec, StepContext
from bench.cli.multi import parse_scenarios
from bench.devices import DeviceSet
from bench.errors import Interrupted, PlanError, UsageError
from bench.multirun import MultiResult, SlotRun
from bench.operator import ScriptedOperator
from bench.plan import Plan, Step
from bench.record import Outcome, Verdict
from bench.reports.junit import render_junit_many
from bench.runner import Runner
from bench.scenario import load_slot_operator_script


def _runner(fn: Any, n: int = 2) -> Runner:
    unit = FakeUnit()
    check = CheckSpec("x.c", fn, "c", devices=("unit",))
    steps = tuple(Step(name=f"s{i}", check=check, params={}, limits={}, timeout=30, retries=0) for i in range(n))
    return Runner(Plan("t", "1", "", steps), DeviceSet({"unit": "fake://"}, opener=lambda r, u: unit),
                  ScriptedOperator({"*": True}))


def test_abort_from_another_thread_records_the_step_in_flight_and_aborts_the_run() -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(ctx: StepContext) -> None:
        started.set()
        release.wait(30)

    runner = _runner(slow)
    out: dict[str, BaseException] = {}

    def go() -> None:
        try:
            runner.run()
        except BaseException as exc:
            out["exc"] = exc

    t = threading.Thread(target=go)
    t.start()
    assert started.wait(5)
    t0 = time.monotonic()
    runner.abort()
    t.join(5)
    release.set()
    assert time.monotonic() - t0 < 1.0
    assert isinstance(out["exc"], Interrupted)
    rec = runner.record
    assert rec.verdict == Verdict.ABORTED
    assert [(s.name, s.outcome) for s in rec.steps] == [("s0", Outcome.ERROR)]
    assert "interrupted" in rec.steps[0].message


def test_abort_before_the_steps_start_takes_effect_when_they_do() -> None:
    ran: list[str] = []
    runner = _runner(lambda ctx: ran.append(ctx.step))
    runner.abort()
    with pytest.raises(Interrupted):
        runner.run()
    assert runner.record.verdict == Verdict.ABORTED and ran == []


def test_scenarios_per_slot() -> None:
    assert parse_scenarios(()) == {}
    assert parse_scenarios(("battery-low",)) == {0: "battery-low"}
    assert parse_scenarios(("3=printer-cover-open", "good", "12=x.yaml")) == {3: "printer-cover-open", 0: "good",
                                                                             12: "x.yaml"}
    with pytest.raises(UsageError, match="twice for slot 3"):
        parse_scenarios(("3=a", "3=b"))
    with pytest.raises(UsageError, match="twice for every slot"):
        parse_scenarios(("a", "b"))
    with pytest.raises(UsageError, match="numbered from 1"):
        parse_scenarios(("0=a",))


def test_operator_script_answers_per_slot(tmp_path: Path) -> None:
    f = tmp_path / "ops.yaml"
    f.write_text('answers: {"*": true, serial: none}\nslots:\n  3:\n    answers: {"*": false}\n  4: {answers: {}}\n')
    common, per_slot = load_slot_operator_script(f)
    assert common == {"*": True, "serial": "none"}
    assert per_slot == {3: {"*": False, "serial": "none"}, 4: {"*": True, "serial": "none"}}
    f.write_text('answers: {"*": true}\nslots:\n  x: {answers: {}}\n')
    with pytest.raises(PlanError, match="a slot is a number from 1 to 64") as err:
        load_slot_operator_script(f)
    assert err.value.line == 3
    f.write_text("answers: {}\nslots: [1, 2]\n")
    with pytest.raises(PlanError, match="slots must map"):
        load_slot_operator_script(f)


def _run(slot: int, code: int, record: bool = True) -> SlotRun:
    return SlotRun(slot, record=object() if record else None, code=code)  # type: ignore[arg-type]


@pytest.mark.parametrize(("codes", "interrupted", "expected"), [
    ([0, 0, 0], False, 0),
    ([0, 1, 0], False, 1),
    ([0, 1, 3], False, 3),
    ([0, 2], False, 2),
    ([1, 2, 0], False, 2),
    ([130, 130], True, 130),
    ([0, 130], False, 3),
])
def test_the_station_exit_code(codes: list[int], interrupted: bool, expected: int) -> None:
    assert MultiResult([_run(n, c) for n, c in enumerate(codes, 1)], interrupted).exit_code == expected


def test_one_junit_file_has_a_suite_per_unit() -> None:
    def ok(ctx: StepContext) -> None:
        ctx.measure("v", 1)

    records = []
    for slot in (1, 2):
        runner = _runner(ok)
        runner.record.slot = slot
        records.append(runner.run())
    doc = etree.fromstring(render_junit_many(records).encode())
    suites = doc.findall("testsuite")
    assert [s.get("name") for s in suites] == ["t slot 1 SN1", "t slot 2 SN1"]
    assert doc.get("tests") == "4" and doc.get("name") == "bench t on 2 units"
    props = {p.get("name"): p.get("value") for p in suites[1].find("properties")}
    assert props["slot"] == "2"
