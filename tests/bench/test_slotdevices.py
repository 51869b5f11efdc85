"""Shared devices of a multi-up station: opened once, used by one slot at a time, freed after a timeout."""

from __future__ import annotations

import threading
import time
from typing import Any

from fakes import FakeUnit

from bench.checks.base import CheckSpec, StepContext
from bench.measure import Limit
from bench.operator import ScriptedOperator
from bench.plan import Plan, Step
from bench.record import Outcome, Verdict
from bench.runner import Runner
from bench.slotdevices import SharedDevices, SlotDevices

V = {"v": Limit(min=3, fault="PWR-BATT-LOW")}


def ok(ctx: StepContext) -> None:
    ctx.measure("v", 5)


def spec(name: str, fn: Any) -> CheckSpec:
    return CheckSpec(name, fn, name, devices=("unit",))


def step(name: str, s: CheckSpec, timeout: float = 2.0) -> Step:
    return Step(name=name, check=s, params={}, limits=dict(s.measurements), timeout=timeout, retries=0)


class Printer:
    """A shared device that notes who is using it at once."""

    def __init__(self) -> None:
        self.users = 0
        self.most = 0
        self.opened = 0
        self.closed = 0
        self.lock = threading.Lock()

    def close(self) -> None:
        self.closed += 1

    def pending(self) -> None:
        return None

    def use(self, seconds: float) -> None:
        with self.lock:
            self.users += 1
            self.most = max(self.most, self.users)
        time.sleep(seconds)
        with self.lock:
            self.users -= 1


def _shared(printer: Printer) -> SharedDevices:
    def opener(role: str, url: str) -> Any:
        printer.opened += 1
        return printer

    return SharedDevices({"printer": "usb://shared"}, opener=opener)


def _slot_runner(shared: SharedDevices, steps: list[Any]) -> Runner:
    unit = FakeUnit()
    devices = SlotDevices({"unit": "fake://"}, shared, opener=lambda role, url: unit)
    return Runner(Plan("t", "1", "", tuple(steps)), devices, ScriptedOperator({"*": True}))


def _printing(seconds: float) -> CheckSpec:
    def fn(ctx: StepContext) -> None:
        ctx.devices["printer"].use(seconds)
        ctx.measure("v", 5)

    return CheckSpec("x.print", fn, "print", devices=("unit", "printer"), measurements=V)


def test_slots_take_turns_on_a_shared_printer_and_open_it_once() -> None:
    printer = Printer()
    shared = _shared(printer)
    runners = [_slot_runner(shared, [step("print", _printing(0.2)), step("after", spec("x.ok", ok))])
               for _ in range(3)]
    records: list[Any] = []
    threads = [threading.Thread(target=lambda r=r: records.append(r.run())) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [r.verdict for r in records] == [Verdict.PASS] * 3
    assert printer.most == 1, "two slots used the shared printer at once"
    assert printer.opened == 1
    for r in runners:
        assert "printer" in r.devices.urls and r.devices.get("printer") is printer
    shared.close()
    assert printer.closed == 1


def test_a_step_that_hangs_on_the_shared_printer_frees_it_for_the_other_slots() -> None:
    printer = Printer()
    shared = _shared(printer)
    release = threading.Event()

    def hang(ctx: StepContext) -> None:
        release.wait(30)

    hung = CheckSpec("x.hang", hang, "hang", devices=("unit", "printer"))
    first = _slot_runner(shared, [step("hang", hung, timeout=0.3)])
    second = _slot_runner(shared, [step("print", _printing(0.0))])
    out: dict[str, Any] = {}
    t = threading.Thread(target=lambda: out.setdefault("first", first.run()))
    t.start()
    time.sleep(0.1)  # the first slot holds the printer, hung
    t0 = time.monotonic()
    rec = second.run()
    waited = time.monotonic() - t0
    t.join(5)
    release.set()
    assert out["first"].steps[0].outcome == Outcome.TIMEOUT
    assert rec.verdict == Verdict.PASS
    assert waited < 5, "the second slot waited for a printer the first slot's hung step never gave back"
    assert printer.closed >= 1, "the hung step's shared device was closed to unblock its driver"
