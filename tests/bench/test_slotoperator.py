"""One operator, many units: prompts one at a time, in order, naming their slot."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from bench.errors import OperatorTimeout
from bench.operator import Operator
from bench.slotoperator import PromptQueue, SlotOperator


class Person(Operator):
    """Answers after a pause; notes what was asked and whether two questions were ever on screen at once."""

    name = "ana"

    def __init__(self, pause: float = 0.05) -> None:
        self.pause = pause
        self.asked: list[str] = []
        self.on_screen = 0
        self.most = 0
        self.lock = threading.Lock()

    def _ask(self, text: str) -> None:
        with self.lock:
            self.on_screen += 1
            self.most = max(self.most, self.on_screen)
            self.asked.append(text)
        time.sleep(self.pause)
        with self.lock:
            self.on_screen -= 1

    def confirm(self, question: str, *, timeout: float) -> bool:
        self._ask(question)
        return True

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        self._ask(question)
        return options[0]

    def ask_text(self, question: str, *, timeout: float) -> str:
        self._ask(question)
        return "x"

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        self._ask(instruction)


def test_prompts_from_many_slots_come_one_at_a_time_each_naming_its_slot() -> None:
    person = Person()
    pauses: list[str] = []

    @contextlib.contextmanager
    def pause() -> Iterator[None]:
        pauses.append("in")
        yield
        pauses.append("out")

    queue = PromptQueue(pause)
    ops = [SlotOperator(person, slot, queue) for slot in (1, 2, 3, 4)]
    threads = [threading.Thread(target=op.confirm, args=("press every key once",), kwargs={"timeout": 5})
               for op in ops]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert person.most == 1
    assert sorted(person.asked) == [f"slot {n}: press every key once" for n in (1, 2, 3, 4)]
    assert pauses == ["in", "out"] * 4
    assert ops[0].name == "ana"


def test_a_slot_waiting_for_the_operator_does_not_hold_up_the_other_slots_automatic_steps() -> None:
    from fakes import FakeUnit

    from bench.checks.base import CheckSpec, StepContext
    from bench.devices import DeviceSet
    from bench.plan import Plan, Step
    from bench.record import Verdict
    from bench.runner import Runner

    answered = threading.Event()

    class Slow(Person):
        def confirm(self, question: str, *, timeout: float) -> bool:
            self._ask(question)
            return answered.wait(10)

    def measure(ctx: StepContext) -> None:
        ctx.measure("v", 1)

    check = CheckSpec("x.ok", measure, "ok", devices=("unit",))
    queue = PromptQueue()
    person = Slow(pause=0)

    def runner(slot: int, prompt: str | None) -> Runner:
        unit = FakeUnit()
        steps = (Step(name="ask", check=check, params={}, limits={}, timeout=10, retries=0, prompt=prompt),
                 Step(name="auto", check=check, params={}, limits={}, timeout=10, retries=0))
        return Runner(Plan("t", "1", "", steps), DeviceSet({"unit": "fake://"}, opener=lambda r, u: unit),
                      SlotOperator(person, slot, queue))

    waiting, automatic = runner(1, "is the screen cracked?"), runner(2, None)
    out: dict[int, Any] = {}
    t = threading.Thread(target=lambda: out.setdefault(1, waiting.run()))
    t.start()
    time.sleep(0.2)
    assert person.asked == ["slot 1: is the screen cracked?"]
    out[2] = automatic.run()  # returns while slot 1 still waits for its answer
    assert out[2].verdict == Verdict.PASS and 1 not in out
    answered.set()
    t.join(5)
    assert out[1].verdict == Verdict.PASS


def test_closing_the_queue_ends_the_questions_still_waiting() -> None:
    person = Person(pause=0.5)
    queue = PromptQueue()
    first = threading.Thread(target=SlotOperator(person, 1, queue).confirm, args=("q",), kwargs={"timeout": 5})
    first.start()
    time.sleep(0.1)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            SlotOperator(person, 2, queue).confirm("q", timeout=5)
        except OperatorTimeout as exc:
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.1)
    queue.close()
    t.join(2)
    first.join(2)
    assert not t.is_alive() and len(errors) == 1 and "stopped" in str(errors[0])
    assert person.asked == ["slot 1: q"]
    with pytest.raises(OperatorTimeout):
        SlotOperator(person, 3, queue).ask_text("serial?", timeout=1)
