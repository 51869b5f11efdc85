"""The person at a real station, prompted on the terminal while pytest's output capture is set aside."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from bench.operator import Operator


class PausedCaptureOperator(Operator):
    """An operator whose every prompt runs with pytest's capture suspended (else stdin is closed to it).

    Args:
        inner: the terminal operator (:class:`bench.cli.console.TerminalOperator`).
        suspended: a context manager factory that suspends capture for the block.
    """

    def __init__(self, inner: Operator, suspended: Callable[[], AbstractContextManager[Any]] | None) -> None:
        self.inner = inner
        self.name = inner.name
        self._suspended = suspended or contextlib.nullcontext

    def confirm(self, question: str, *, timeout: float) -> bool:
        """Ask yes/no at the terminal."""
        with self._suspended():
            return self.inner.confirm(question, timeout=timeout)

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Ask for one of ``options`` at the terminal."""
        with self._suspended():
            return self.inner.choose(question, options, timeout=timeout)

    def ask_text(self, question: str, *, timeout: float) -> str:
        """Ask for a line of text at the terminal."""
        with self._suspended():
            return self.inner.ask_text(question, timeout=timeout)

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Tell the person what to do."""
        with self._suspended():
            self.inner.perform(action, instruction, **details)


def capture_suspended(capman: Any) -> Callable[[], AbstractContextManager[Any]] | None:
    """Blocks run with pytest's capture suspended, stdin included (None without a capture manager).

    As ``--pdb`` does it: ``global_and_fixture_disabled`` leaves stdin captured, and reading it
    then fails ("reading from stdin while output is captured").
    """
    if capman is None:
        return None

    @contextlib.contextmanager
    def suspended() -> Iterator[None]:
        capman.suspend(in_=True)
        try:
            yield
        finally:
            capman.resume()

    return suspended
