"""One operator, many units: the prompts of a multi-up run, queued and named by slot.

Each slot's runner asks its own :class:`SlotOperator`; they share one :class:`PromptQueue`,
so the person at the bench gets one question at a time, in the order they were asked, each
saying which slot it is about ("slot 3: press every key once"). A slot waiting in the queue
waits on its own thread: the other slots' automatic steps go on. A question's timeout counts
from when it is shown, not from when it was queued.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from bench.errors import OperatorTimeout
from bench.operator import Operator
from drivers.i18n import N_


class PromptQueue:
    """First come, first asked: one prompt on the terminal at a time.

    Args:
        pause: a context manager factory held while a prompt is on the terminal (the live
            table stops redrawing over the question), or None.
    """

    def __init__(self, pause: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self._pause = pause
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._serving = 0
        self._closed = False

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this prompt's turn (raises OperatorTimeout once the run is being stopped)."""
        with self._cond:
            ticket = next(self._tickets)
            while ticket != self._serving and not self._closed:
                self._cond.wait(0.25)
            if self._closed:
                self._advance(ticket)
                raise OperatorTimeout(N_("no operator response: the run was stopped"))
        try:
            with self._pause() if self._pause is not None else contextlib.nullcontext():
                yield
        finally:
            with self._cond:
                self._advance(ticket)

    def _advance(self, ticket: int) -> None:
        if ticket == self._serving:
            self._serving += 1
        self._cond.notify_all()

    def close(self) -> None:
        """The run is being stopped: questions still waiting are answered by nobody."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class SlotOperator(Operator):
    """A person's answers for one slot, through the shared queue, each prompt naming the slot.

    Args:
        inner: the operator who answers (the terminal operator).
        slot: the slot number shown with every prompt.
        queue: the station's prompt queue.
    """

    def __init__(self, inner: Operator, slot: int, queue: PromptQueue) -> None:
        self.inner = inner
        self.slot = slot
        self.queue = queue
        self.name = inner.name

    def _say(self, text: str) -> str:
        # A Text, so the slot's prefix translates with the question; its English is what a script answers.
        return N_("slot {slot}: {text}", slot=self.slot, text=text)

    def confirm(self, question: str, *, timeout: float) -> bool:
        """Ask yes/no about this slot's unit, in turn."""
        with self.queue.turn():
            return self.inner.confirm(self._say(question), timeout=timeout)

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Ask for one of ``options``, in turn."""
        with self.queue.turn():
            return self.inner.choose(self._say(question), options, timeout=timeout)

    def ask_text(self, question: str, *, timeout: float) -> str:
        """Ask for a line of text, in turn."""
        with self.queue.turn():
            return self.inner.ask_text(self._say(question), timeout=timeout)

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Show what to do on this slot's unit (no answer is awaited, but it is shown in turn)."""
        with self.queue.turn():
            self.inner.perform(action, self._say(instruction), **details)
