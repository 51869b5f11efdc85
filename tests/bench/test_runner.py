"""The runner against in-process checks and a fake unit (small-piece tests; the real unit is in test_cli_sim)."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest
from fakes import FakeUnit

from bench import interrupts
from bench.checks.base import CheckSpec, StepContext
from bench.devices import DeviceSet
from bench.errors import DeviceError, EquipmentError, Interrupted, LinkTimeout
from bench.measure import Limit
from bench.operator import ScriptedOperator
from bench.plan import Plan, Step
from bench.record import Outcome, Verdict
from bench.runner import Runner
from drivers.interfaces import Device


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start_run(self, run: Any) -> None:
        self.calls.append(("start", run.run_id))

    def set_unit(self, run_id: str, unit: Any) -> None:
        self.calls.append(("unit", unit.serial))

    def add_step(self, run_id: str, step: Any) -> None:
        self.calls.append(("step", step.name))

    def finish_run(self, run_id: str, verdict: Any, ended_at: Any, summary: str, findings: Any) -> None:
        self.calls.append(("finish", verdict))


def spec(name: str, fn: Any, **kw: Any) -> CheckSpec:
    return CheckSpec(name, fn, name, devices=("unit",), **kw)


def step(name: str, s: CheckSpec, **kw: Any) -> Step:
    return Step(name=name, check=s, params=kw.pop("params", {}), limits=kw.pop("limits", dict(s.measurements)),
                timeout=kw.pop("timeout", 2.0), retries=kw.pop("retries", 0), **kw)


def make_runner(steps: list[Step], unit: Device | None = None, sink: Any = None) -> tuple[Runner, FakeUnit]:
    u = unit or FakeUnit()
    devices = DeviceSet({"unit": "fake://"}, opener=lambda role, url: u)
    plan = Plan("t", "1", "", tuple(steps))
    return Runner(plan, devices, ScriptedOperator({"*": True}), sink), u  # type: ignore[return-value]


def ok(ctx: StepContext) -> None:
    ctx.measure("v", 5)


def low(ctx: StepContext) -> None:
    ctx.measure("v", 1)


V = {"v": Limit(min=3, fault="PWR-BATT-LOW")}


def test_pass_and_fail_outcomes_and_verdict() -> None:
    runner, _ = make_runner([step("a", spec("x.ok", ok, measurements=V)), step("b", spec("x.low", low, measurements=V))])
    rec = runner.run()
    assert [s.outcome for s in rec.steps] == [Outcome.PASS, Outcome.FAIL]
    assert rec.steps[1].fault == "PWR-BATT-LOW"
    assert rec.steps[1].message == "v = 1: below min 3"
    assert rec.verdict == Verdict.FAIL and rec.verdict.exit_code == 1
    assert rec.unit is not None and rec.unit.serial == "SN1"
    assert [f.fault for f in rec.findings] == ["PWR-BATT-LOW"]


def test_each_step_is_persisted_before_the_next_starts() -> None:
    sink = RecordingSink()
    seen_at_start: list[list[str]] = []

    def snap(ctx: StepContext) -> None:
        seen_at_start.append([c[1] for c in sink.calls if c[0] == "step"])

    s = spec("x.snap", snap)
    runner, _ = make_runner([step("a", s), step("b", s), step("c", s)], sink=sink)
    runner.run()
    assert seen_at_start == [[], ["a"], ["a", "b"]]
    assert sink.calls[0][0] == "start" and sink.calls[-1] == ("finish", Verdict.PASS)


def test_hanging_check_times_out_and_run_goes_on() -> None:
    release = threading.Event()

    def hang(ctx: StepContext) -> None:
        release.wait(30)

    runner, unit = make_runner([step("hang", spec("x.hang", hang), timeout=0.3), step("after", spec("x.ok", ok))])
    t0 = time.monotonic()
    rec = runner.run()
    release.set()
    assert time.monotonic() - t0 < 2.0
    assert [s.outcome for s in rec.steps] == [Outcome.TIMEOUT, Outcome.PASS]
    assert rec.steps[0].fault == "STEP-TIMEOUT" and "0.3 s" in rec.steps[0].message
    assert unit.closed, "the devices of a hung step are closed to unblock the driver"
    assert rec.verdict == Verdict.FAIL


def test_a_timed_out_attempt_is_retried_on_a_fresh_thread() -> None:
    calls = {"n": 0}
    release = threading.Event()

    def hangs_once(ctx: StepContext) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            release.wait(30)
        ctx.measure("v", 5)

    runner, _ = make_runner([step("h", spec("x.h", hangs_once, measurements=V), timeout=0.3, retries=1),
                             step("after", spec("x.ok", ok))])
    rec = runner.run()
    release.set()
    assert [(s.outcome, s.attempts) for s in rec.steps] == [(Outcome.PASS, 2), (Outcome.PASS, 1)]
    assert rec.steps[0].duration_s >= 0.3  # the step's time covers both attempts
    assert rec.verdict == Verdict.PASS


def test_a_late_answer_from_an_abandoned_check_changes_nothing() -> None:
    sink = RecordingSink()
    release = threading.Event()

    def slow(ctx: StepContext) -> None:
        release.wait(30)
        ctx.measure("v", 1)  # would fail the step, but the step was already recorded as TIMEOUT

    runner, _ = make_runner([step("slow", spec("x.slow", slow, measurements=V), timeout=0.2),
                             step("after", spec("x.ok", ok))], sink=sink)
    rec = runner.run()
    release.set()
    time.sleep(0.2)
    assert [s.outcome for s in rec.steps] == [Outcome.TIMEOUT, Outcome.PASS]
    assert rec.steps[0].measurements == []
    assert [c for c in sink.calls if c[0] == "step"] == [("step", "slow"), ("step", "after")]


def test_a_short_timeout_after_a_long_one_is_kept() -> None:
    release = threading.Event()

    def hang(ctx: StepContext) -> None:
        release.wait(30)

    def settle(ctx: StepContext) -> None:
        time.sleep(0.3)  # the supervisor is asleep until this step's deadline, a minute away

    runner, _ = make_runner([step("long", spec("x.settle", settle), timeout=60),
                             step("hang", spec("x.hang", hang), timeout=0.3)])
    t0 = time.monotonic()
    rec = runner.run()
    release.set()
    assert time.monotonic() - t0 < 2.0, "the supervisor slept until the first step's deadline"
    assert [s.outcome for s in rec.steps] == [Outcome.PASS, Outcome.TIMEOUT]


def test_a_store_error_reaches_the_caller() -> None:
    class BrokenSink(RecordingSink):
        def add_step(self, run_id: str, step: Any) -> None:
            raise EquipmentError("store sqlite:///x.db: disk I/O error")

    runner, _ = make_runner([step("a", spec("x.ok", ok)), step("b", spec("x.ok", ok))], sink=BrokenSink())
    with pytest.raises(EquipmentError, match="disk I/O error"):
        runner.run()
    assert [s.name for s in runner.record.steps] == ["a"]


def test_retries_count_attempts() -> None:
    calls = {"n": 0}

    def flaky(ctx: StepContext) -> None:
        calls["n"] += 1
        if calls["n"] < 3:
            raise DeviceError("glitch", fault_code="ICC-ERROR")

    runner, _ = make_runner([step("f", spec("x.flaky", flaky), retries=2)])
    rec = runner.run()
    assert rec.steps[0].outcome == Outcome.PASS and rec.steps[0].attempts == 3


def test_requires_skips_and_diagnosis_lists_consequence() -> None:
    def fail(ctx: StepContext) -> None:
        raise DeviceError("firmware 1.9.0 is older than 2.0.0: update required", fault_code="FW-OUTDATED")

    runner, _ = make_runner([
        step("id", spec("x.fail", fail)),
        step("dep", spec("x.ok", ok), requires=("id",)),
        step("dep2", spec("x.ok", ok), requires=("dep",)),
    ])
    rec = runner.run()
    assert [s.outcome for s in rec.steps] == [Outcome.FAIL, Outcome.SKIP, Outcome.SKIP]
    assert rec.steps[1].message == "requires id (FAIL)"
    assert len(rec.findings) == 1
    assert rec.findings[0].fault == "FW-OUTDATED" and rec.findings[0].consequences == ["dep", "dep2"]
    assert "update" in rec.summary


def test_equipment_error_is_error_verdict() -> None:
    def no_reader(ctx: StepContext) -> None:
        raise EquipmentError("no PC/SC reader matches 'ACS*'", fault_code="ICC-NO-READER")

    runner, _ = make_runner([step("r", spec("x.r", no_reader))])
    rec = runner.run()
    assert rec.steps[0].outcome == Outcome.ERROR and rec.verdict == Verdict.ERROR
    assert rec.verdict.exit_code == 3
    assert rec.findings[0].in_unit is False


def test_missing_role_is_a_bench_error_and_the_run_goes_on() -> None:
    printer_check = CheckSpec("x.print", ok, "x", devices=("printer",))
    runner, _ = make_runner([step("p", printer_check), step("a", spec("x.ok", ok))])
    rec = runner.run()
    assert [s.outcome for s in rec.steps] == [Outcome.ERROR, Outcome.PASS]
    assert rec.steps[0].message == "this station has no printer configured"
    assert rec.verdict == Verdict.ERROR


def test_unreachable_unit_stops_the_run_with_one_error() -> None:
    def opener(role: str, url: str) -> Device:
        raise EquipmentError("cannot open unit port /dev/ttyUSB9: no such port", fault_code="BENCH-PORT")

    sink = RecordingSink()
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("b", spec("x.ok", ok))))
    runner = Runner(plan, DeviceSet({"unit": "/dev/ttyUSB9"}, opener=opener), ScriptedOperator({"*": True}), sink)
    with pytest.raises(EquipmentError, match="no such port"):
        runner.run()
    rec = runner.record
    assert rec.verdict == Verdict.ERROR and rec.steps == []
    assert [f.fault for f in rec.findings] == ["BENCH-PORT"] and not rec.findings[0].in_unit
    assert sink.calls[-1] == ("finish", Verdict.ERROR)


def test_crashing_check_is_error_with_one_line() -> None:
    def boom(ctx: StepContext) -> None:
        raise ZeroDivisionError("division by zero")

    runner, _ = make_runner([step("b", spec("x.boom", boom))])
    rec = runner.run()
    assert rec.steps[0].outcome == Outcome.ERROR
    assert rec.steps[0].message == "internal error in check x.boom: ZeroDivisionError: division by zero"


def test_link_loss_waits_for_unit_then_marks_it_lost() -> None:
    opened = {"n": 0}
    unit = FakeUnit()

    def opener(role: str, url: str) -> Device:
        opened["n"] += 1
        if opened["n"] > 1:
            raise LinkTimeout("no answer from the unit")
        return unit

    def lost(ctx: StepContext) -> None:
        raise LinkTimeout("no answer from the unit")

    plan = Plan("t", "1", "", (step("a", spec("x.lost", lost)), step("b", spec("x.ok", ok))))
    runner = Runner(plan, DeviceSet({"unit": "x"}, opener=opener), ScriptedOperator({"*": True}), reconnect_wait=0.5)
    t0 = time.monotonic()
    rec = runner.run()
    assert time.monotonic() - t0 < 3
    assert [s.outcome for s in rec.steps] == [Outcome.FAIL, Outcome.SKIP]
    assert rec.steps[1].message == "unit lost after step a"
    assert rec.findings[0].fault == "LINK-NO-RESPONSE" and rec.findings[0].consequences == ["b"]


class _Waits:
    """A listener that keeps what the runner waited for (and ignores the rest)."""

    def __init__(self) -> None:
        self.waited: list[tuple[str, bool]] = []

    def wait_ended(self, what: str, answered: bool, waited: float) -> None:
        self.waited.append((what, answered))

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kw: None


def test_a_serial_server_that_went_away_is_the_benchs_fault_and_waited_for() -> None:
    """BENCH-NET (drivers.netport) in a unit step: an error of the bench; the unit is waited for as after a link loss."""
    opened = {"n": 0}

    def opener(role: str, url: str) -> Device:
        opened["n"] += 1
        if opened["n"] == 2:  # the first try after the loss: still away; the next one finds it back
            raise EquipmentError("cannot reach the serial server s:4001", fault_code="BENCH-NET")
        return FakeUnit()

    def dropped(ctx: StepContext) -> None:
        raise EquipmentError("cannot reach the serial server s:4001 of unit port rfc2217://s:4001: connection "
                             "refused (the link dropped and was not back within 5 s)", fault_code="BENCH-NET")

    plan = Plan("t", "1", "", (step("a", spec("x.dropped", dropped)), step("b", spec("x.ok", ok))))
    listener = _Waits()
    runner = Runner(plan, DeviceSet({"unit": "rfc2217://s:4001"}, opener=opener), ScriptedOperator({"*": True}),
                    listener=listener, reconnect_wait=5)
    rec = runner.run()
    assert [(s.outcome, s.fault) for s in rec.steps] == [(Outcome.ERROR, "BENCH-NET"), (Outcome.PASS, None)]
    assert listener.waited == [("the unit's serial server to take the connection again", True)]
    assert rec.verdict == Verdict.ERROR and rec.verdict.exit_code == 3
    assert [f.fault for f in rec.findings] == ["BENCH-NET"] and not rec.findings[0].in_unit


def test_plan_for_other_model_is_usage_error() -> None:
    from bench.errors import UsageError

    runner, _ = make_runner([step("a", spec("x.ok", ok))], unit=FakeUnit(model="PT-500"))
    runner.plan = Plan("t", "1", "", runner.plan.steps, models=("PT-300",))
    with pytest.raises(UsageError, match="is for PT-300; the unit on the bench is a PT-500"):
        runner.run()


def test_ctrl_c_records_step_and_aborts() -> None:
    sink = RecordingSink()

    def slow(ctx: StepContext) -> None:
        ctx.measure("v", 5)
        time.sleep(1.0)

    runner, _ = make_runner([step("a", spec("x.ok", ok, measurements=V)), step("s", spec("x.slow", slow, measurements=V)),
                             step("never", spec("x.ok", ok))], sink=sink)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(Interrupted):
        runner.run()
    rec = runner.record
    assert rec.verdict == Verdict.ABORTED and rec.verdict.exit_code == 130
    assert [s.name for s in rec.steps] == ["a", "s"]
    assert rec.steps[1].message == "interrupted by the operator (Ctrl-C)"
    assert [c for c in sink.calls if c[0] == "step"] == [("step", "a"), ("step", "s")]
    assert sink.calls[-1] == ("finish", Verdict.ABORTED)


def test_the_step_in_flight_at_sigterm_says_who_interrupted_it() -> None:
    started = threading.Event()

    def hang(ctx: StepContext) -> None:
        ctx.measure("v", 5)
        started.set()
        ctx.cancel.wait(30)

    runner, _ = make_runner([step("a", spec("x.ok", ok, measurements=V)),
                             step("hang", spec("x.hang", hang, measurements=V), timeout=60)])
    previous = interrupts.install()  # as the CLI does: the handlers note which signal came
    try:
        def send() -> None:
            started.wait(30)
            time.sleep(0.3)  # let the supervisor settle in its wait, as the other signal tests do
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=send, daemon=True).start()
        with pytest.raises(Interrupted, match="SIGTERM"):
            runner.run()
    finally:
        interrupts.restore(previous)
    rec = runner.record
    who = "interrupted by SIGTERM (kill, a service stop or a shutdown)"
    assert [(s.name, s.outcome, s.message) for s in rec.steps] == [("a", Outcome.PASS, ""),
                                                                    ("hang", Outcome.ERROR, who)]
    assert rec.steps[1].measurements[0].value == 5  # what it measured before the signal is kept
    assert rec.verdict == Verdict.ABORTED and rec.summary == who


def test_a_step_the_operator_declines_keeps_the_run_from_passing() -> None:
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("keys", spec("x.ok", ok), prompt="Press every key"),
                               step("after", spec("x.ok", ok), requires=("keys",))))
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()),
                    ScriptedOperator({"*": False}))
    rec = runner.run()
    assert [(s.name, s.outcome, s.fault) for s in rec.steps] == [
        ("a", Outcome.PASS, None), ("keys", Outcome.SKIP, "OP-SKIPPED"), ("after", Outcome.SKIP, None)]
    assert rec.verdict == Verdict.INCOMPLETE and rec.verdict.exit_code == 1
    assert [(f.fault, f.steps, f.consequences) for f in rec.findings] == [("OP-SKIPPED", ["keys"], ["after"])]
    assert rec.summary == "not signed off: the operator skipped keys (so after did not run) -> test again with every step"


def test_a_step_not_for_the_units_model_does_not_keep_the_run_from_passing() -> None:
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("other", spec("x.ok", ok), models=("PT-999",)),
                               step("after", spec("x.ok", ok), requires=("other",))))
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()),
                    ScriptedOperator({"*": True}))
    rec = runner.run()
    assert [s.outcome for s in rec.steps] == [Outcome.PASS, Outcome.SKIP, Outcome.SKIP]
    assert rec.verdict == Verdict.PASS and rec.findings == []
    assert rec.summary == "all steps passed (2 not for this model)"


def test_a_fault_outranks_a_declined_step() -> None:
    def fail(ctx: StepContext) -> None:
        raise DeviceError("bad", fault_code="UNIT-FAULT")

    plan = Plan("t", "1", "", (step("keys", spec("x.ok", ok), prompt="Press every key"), step("b", spec("x.f", fail))))
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()),
                    ScriptedOperator({"*": False}))
    rec = runner.run()
    assert rec.verdict == Verdict.FAIL
    assert [f.fault for f in rec.findings] == ["UNIT-FAULT", "OP-SKIPPED"]


def test_ctrl_c_during_an_operator_prompt_aborts_at_once() -> None:
    class SlowOperator(ScriptedOperator):
        def confirm(self, prompt: str, timeout: float) -> bool:
            time.sleep(timeout)
            return True

    sink = RecordingSink()
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("p", spec("x.ok", ok), prompt="Open the cover",
                                                                  timeout=20)))
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()), SlowOperator(), sink)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(Interrupted):
        runner.run()
    assert time.monotonic() - t0 < 3
    assert [s.name for s in runner.record.steps] == ["a"]
    assert sink.calls[-1] == ("finish", Verdict.ABORTED)


def test_ctrl_c_while_a_step_is_being_stored_waits_for_it_and_stores_nothing_more() -> None:
    class SlowSink(RecordingSink):
        def __init__(self) -> None:
            super().__init__()
            self.busy = 0
            self.overlaps = 0

        def _enter(self) -> None:
            self.busy += 1
            self.overlaps += self.busy > 1

        def add_step(self, run_id: str, step: Any) -> None:
            self._enter()
            time.sleep(0.6)
            super().add_step(run_id, step)
            self.busy -= 1

        def finish_run(self, run_id: str, verdict: Any, ended_at: Any, summary: str, findings: Any) -> None:
            self._enter()
            super().finish_run(run_id, verdict, ended_at, summary, findings)
            self.busy -= 1

    def fail(ctx: StepContext) -> None:
        raise DeviceError("bad", fault_code="UNIT-FAULT")

    sink = SlowSink()
    runner, _ = make_runner([step("a", spec("x.ok", ok)), step("b", spec("x.fail", fail)),
                             step("c", spec("x.ok", ok), requires=("b",))], sink=sink)
    threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()  # while "a" is being stored
    with pytest.raises(Interrupted):
        runner.run()
    time.sleep(1.5)  # the abandoned step thread would have stored b and c by now
    assert sink.overlaps == 0, "the store was used by two threads at once"
    assert [c for c in sink.calls if c[0] == "step"] == [("step", "a")]
    assert [s.name for s in runner.record.steps] == ["a"]
    assert sink.calls[-1] == ("finish", Verdict.ABORTED)


def test_ctrl_c_while_a_timed_out_check_is_being_closed_still_records_it() -> None:
    class SlowReset(DeviceSet):
        def reset(self, roles: Any) -> None:
            time.sleep(0.8)
            super().reset(roles)

    release = threading.Event()
    unit = FakeUnit()
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("hang", spec("x.hang", lambda ctx: release.wait(30)),
                                                                  timeout=0.3)))
    runner = Runner(plan, SlowReset({"unit": "fake://"}, opener=lambda role, url: unit), ScriptedOperator({"*": True}))
    threading.Timer(0.6, lambda: os.kill(os.getpid(), signal.SIGINT)).start()  # during the reset
    with pytest.raises(Interrupted):
        runner.run()
    release.set()
    assert [(s.name, s.message) for s in runner.record.steps] == [("a", ""), ("hang", "interrupted by the operator (Ctrl-C)")]
    assert runner.record.verdict == Verdict.ABORTED


def test_tamper_makes_every_other_failure_a_consequence() -> None:
    from bench.diagnosis import RETURN_TO_FACTORY

    def tampered(ctx: StepContext) -> None:
        raise DeviceError("tamper detected", fault_code="SEC-TAMPER")

    def locked(ctx: StepContext) -> None:
        raise DeviceError("command refused: unit locked", fault_code="LINK-UNSUPPORTED")

    runner, _ = make_runner([step("tamper", spec("x.t", tampered)), step("printer", spec("x.l", locked)),
                             step("battery", spec("x.low", low, measurements=V))])
    rec = runner.run()
    assert [f.fault for f in rec.findings] == ["SEC-TAMPER"]
    assert rec.findings[0].consequences == ["printer", "battery"]
    assert rec.summary == f"tamper detected: {RETURN_TO_FACTORY}"


def test_an_unanswered_prompt_is_an_operator_timeout_and_the_run_goes_on() -> None:
    sink = RecordingSink()
    plan = Plan("t", "1", "", (step("p", spec("x.ok", ok), prompt="Open the cover"), step("b", spec("x.ok", ok))))
    operator = ScriptedOperator({"Close the cover": True})  # a script that does not answer this prompt
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()), operator, sink)
    rec = runner.run()
    p, b = rec.steps
    assert (p.outcome, p.fault) == (Outcome.TIMEOUT, "OP-NO-RESPONSE")
    assert "no operator response to 'Open the cover'" in p.message
    assert b.outcome == Outcome.PASS
    assert rec.verdict not in (Verdict.RUNNING, Verdict.ABORTED)
    assert sink.calls[-1] == ("finish", rec.verdict)


def test_a_question_a_check_asks_and_nobody_answers_is_an_operator_timeout_too() -> None:
    def asks(ctx: StepContext) -> None:
        ctx.operator.confirm("Is the display blank?", timeout=1)

    operator = ScriptedOperator({})
    plan = Plan("t", "1", "", (step("q", spec("x.asks", asks)), step("b", spec("x.ok", ok))))
    rec = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()), operator,
                 RecordingSink()).run()
    assert [(s.outcome, s.fault) for s in rec.steps] == [(Outcome.TIMEOUT, "OP-NO-RESPONSE"), (Outcome.PASS, None)]


def test_a_step_needing_an_instrument_the_station_lacks_is_skipped_with_the_reason() -> None:
    measured: list[str] = []

    def uses_supply(ctx: StepContext) -> None:
        measured.append("supply")

    supply_check = CheckSpec("x.current", uses_supply, "x", devices=("unit", "supply"))
    plan = Plan("t", "1", "", (step("a", spec("x.ok", ok)), step("current", supply_check),
                               step("scope", CheckSpec("x.inrush", ok, "x", devices=("scope",)))))
    runner = Runner(plan, DeviceSet({"unit": "fake://"}, opener=lambda role, url: FakeUnit()),
                    ScriptedOperator({"*": True}))
    rec = runner.run()
    assert [(s.outcome, s.message, s.fault) for s in rec.steps[1:]] == [
        (Outcome.SKIP, "this station has no power supply", "BENCH-NO-INSTRUMENT"),
        (Outcome.SKIP, "this station has no oscilloscope", "BENCH-NO-INSTRUMENT")]
    assert measured == []
    # The rest of the plan ran, but the unit's power was not tested: not signed off.
    assert rec.verdict == Verdict.INCOMPLETE
    assert rec.summary.startswith("bench: the station has no instrument for this step -> test the unit on a station")


def test_a_station_instrument_that_does_not_open_is_still_a_bench_error() -> None:
    def opener(role: str, url: str) -> Device:
        if role == "supply":
            raise EquipmentError("power supply at TCPIP0::10.0.0.21::inst0::INSTR: no instrument answers",
                                 fault_code="BENCH-INSTRUMENT")
        return FakeUnit()

    plan = Plan("t", "1", "", (step("current", CheckSpec("x.current", ok, "x", devices=("supply",))),))
    rec = Runner(plan, DeviceSet({"unit": "fake://", "supply": "visa://TCPIP::10.0.0.21::INSTR"}, opener=opener),
                 ScriptedOperator({"*": True})).run()
    assert [(s.outcome, s.fault) for s in rec.steps] == [(Outcome.ERROR, "BENCH-INSTRUMENT")]
    assert rec.verdict == Verdict.ERROR
