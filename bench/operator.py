"""The operator: prompts for a person, or a scripted stand-in for CI and simulation.

Checks never talk to the terminal themselves; they ask the :class:`Operator`. A
terminal operator asks a person; a :class:`ScriptedOperator` answers from a script and
performs physical actions (insert a card, press keys, swipe) through handlers that the
simulated bench provides, so CI needs no person.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench.errors import EquipmentError, OperatorTimeout
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

ActionHandler = Callable[..., None]


class Operator(abc.ABC):
    """Whoever answers prompts and performs physical actions during a run."""

    name: str = "operator"

    @abc.abstractmethod
    def confirm(self, question: str, *, timeout: float) -> bool:
        """Ask a yes/no question; :class:`OperatorTimeout` when nobody answers in time."""

    @abc.abstractmethod
    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Ask the operator to pick one of ``options``."""

    @abc.abstractmethod
    def ask_text(self, question: str, *, timeout: float) -> str:
        """Ask for a line of text (e.g. a serial number from a barcode scanner)."""

    @abc.abstractmethod
    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Tell the operator to do something physical (``insert_card``, ``press_keys``, ...).

        Returns at once; the check then waits for the device to see the action.
        """


class ScriptedOperator(Operator):
    """Answers prompts from a script and performs actions through handlers.

    Args:
        answers: answers by prompt key (the question text, or a short key the check uses);
            ``"*"`` is the default answer for confirm prompts.
        actions: handlers by action name, called with the action's details.
        name: recorded as the run's operator.
    """

    def __init__(
        self,
        answers: Mapping[str, Any] | None = None,
        actions: Mapping[str, ActionHandler] | None = None,
        name: str = "scripted",
    ) -> None:
        self.answers = dict(answers or {})
        self.actions = dict(actions or {})
        self.name = name

    def _answer(self, question: str) -> Any:
        if question in self.answers:
            return self.answers[question]
        if "*" in self.answers:
            return self.answers["*"]
        raise OperatorTimeout(N_("no operator response to {question!r}", question=question))

    def confirm(self, question: str, *, timeout: float) -> bool:
        """Answer from the script (default: the ``*`` answer)."""
        answer = self._answer(question)
        _LOG.info("operator confirms %r: %s", question, answer)
        return bool(answer)

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Answer from the script; the answer must be one of ``options``."""
        answer = str(self._answer(question))
        if answer not in options:
            raise OperatorTimeout(N_("scripted answer {answer!r} is not one of {options}", answer=answer, options=list(options)))
        return answer

    def ask_text(self, question: str, *, timeout: float) -> str:
        """Answer from the script."""
        return str(self._answer(question))

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Run the handler for ``action``; an equipment error when the bench has none."""
        handler = self.actions.get(action)
        if handler is None:
            raise EquipmentError(N_("the scripted operator cannot {action!r} on this bench", action=action),
                                 fault_code="BENCH-CONFIG")
        _LOG.info("operator performs %s %s", action, details)
        handler(**details)
