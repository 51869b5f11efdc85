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


class Host(Printer):
    """A shared device every slot uses at once (a server): it takes no turns."""

    concurrent = True


def _shared_host(host: Host) -> SharedDevices:
    def opener(role: str, url: str) -> Any:
        host.opened += 1
        return host

    return SharedDevices({"host": "tcp://127.0.0.1:0"}, opener=opener)


def _at_once(together: threading.Barrier) -> CheckSpec:
    def fn(ctx: StepContext) -> None:
        with ctx.devices["host"].lock:
            ctx.devices["host"].users += 1
        together.wait()  # breaks (the step fails) unless every slot is in here at the same time
        ctx.measure("v", 5)

    return CheckSpec("x.sale", fn, "sale", devices=("unit", "host"), measurements=V)


def test_slots_use_a_concurrent_shared_device_at_once_without_turns() -> None:
    host = Host()
    shared = _shared_host(host)
    together = threading.Barrier(3, timeout=10)
    runners = [_slot_runner(shared, [step("sale", _at_once(together), timeout=20)]) for _ in range(3)]
    records: list[Any] = []
    threads = [threading.Thread(target=lambda r=r: records.append(r.run())) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.verdict for r in records] == [Verdict.PASS] * 3, [s.message for r in records for s in r.steps]
    assert host.users == 3 and host.opened == 1
    shared.close()
    assert host.closed == 1


def test_a_slot_whose_step_times_out_leaves_a_concurrent_device_open_for_the_others() -> None:
    host = Host()
    shared = _shared_host(host)
    release = threading.Event()

    def hang(ctx: StepContext) -> None:
        release.wait(30)

    hung = CheckSpec("x.hang", hang, "hang", devices=("unit", "host"))
    first = _slot_runner(shared, [step("hang", hung, timeout=0.3)])
    rec = first.run()
    release.set()
    assert rec.steps[0].outcome == Outcome.TIMEOUT
    assert host.closed == 0 and shared.get("host") is host
    second = _slot_runner(shared, [step("use", CheckSpec("x.use", ok, "use", devices=("unit", "host"),
                                                         measurements=V))])
    assert second.run().verdict == Verdict.PASS and host.opened == 1


def test_a_device_that_is_not_concurrent_still_takes_turns_after_its_first_open() -> None:
    printer = Printer()
    shared = _shared(printer)
    owner_a, owner_b = object(), object()
    assert shared.take(["printer"], owner_a, lambda: False)
    assert not shared.take(["printer"], owner_b, lambda: True), "a second slot got a turn on a busy printer"
    shared.give_back(owner_a)
    assert shared.take(["printer"], owner_b, lambda: False)
