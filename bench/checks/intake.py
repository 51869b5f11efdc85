"""Intake: what only a person looking at the unit can tell (cracked screen, loose keys, broken seals...).

Each step asks the operator one yes/no question through the operator prompt layer (a
person at the console, a scripted operator in CI). The answer that shows damage fails the
step with the step's fault code, like any other fault: the case's judgement reads it with
the rest of the evidence.
"""

from __future__ import annotations

import logging

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import EquipmentError, PlanError
from bench.faults import FAULTS
from bench.i18n.yamltexts import catalogued
from bench.measure import Limit, yes_no
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}


def inspect(ctx: StepContext) -> None:
    """Ask ``question``; the answer ``damaged_if`` means damage, and fails the step with ``fault``."""
    question = str(ctx.params["question"]).strip()
    fault = str(ctx.params["fault"])
    if not question:
        raise EquipmentError(N_("an intake step needs a question for the operator"), fault_code="BENCH-CONFIG")
    if fault not in FAULTS:
        raise EquipmentError(N_("intake fault {fault!r} is not in the fault table", fault=fault),
                             fault_code="BENCH-CONFIG")
    damaged_if = _yes_no(ctx.params["damaged_if"])
    # A stock plan's question is in the catalogue (bench.i18n.yamltexts): the operator reads it in their language.
    answer = ctx.operator.confirm(catalogued(question), timeout=ctx.budget(float(ctx.params["confirm_timeout"])))
    damaged = answer == damaged_if
    ctx.note(f"{question} operator: {'yes' if answer else 'no'}")
    ctx.measure("answer", "yes" if answer else "no", judged=False)
    ctx.measure("damaged", damaged, limit=Limit(equals=False, fault=fault),
                says=N_("intake: {title} (the operator answered {answer} to '{question}')", title=FAULTS[fault].title,
                        answer=yes_no(answer), question=catalogued(question)))


def _known_fault(value: object) -> None:
    """Plan-load check of ``fault``: a code of the fault table."""
    if value not in FAULTS:
        import difflib

        close = difflib.get_close_matches(str(value), list(FAULTS), n=1)
        if close:
            raise PlanError(N_("{value!r} is not a fault code of the fault table; did you mean {close!r}?",
                               value=str(value)[:60], close=close[0]))
        raise PlanError(N_("{value!r} is not a fault code of the fault table", value=str(value)[:60]))


def _yes_or_no(value: object) -> None:
    """Plan-load check of ``damaged_if``."""
    try:
        _yes_no(value)
    except EquipmentError as exc:
        raise PlanError(exc.message) from None


def _yes_no(value: object) -> bool:
    """``damaged_if`` as a bool: YAML may give ``yes`` as true already, or as the text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise EquipmentError(N_("damaged_if must be yes or no, not {value!r}", value=value), fault_code="BENCH-CONFIG")


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "intake.inspect",
        inspect,
        N_("intake: ask the operator one question about the unit's outside; the damaging answer fails"),
        devices=(),
        params={
            "question": Param(str, help=N_("the yes/no question, e.g. 'Is the screen cracked?'")),
            "fault": Param(str, help=N_("the fault code when the answer shows damage (from the fault table)"),
                           validate=_known_fault),
            "damaged_if": Param((str, bool), "yes", N_("the answer that shows damage: yes or no"), validate=_yes_or_no),
            "confirm_timeout": Param((int, float), 300.0, N_("seconds the operator has to answer"), bounds=(1, 86400)),
        },
        measurements={"answer": None, "damaged": None},
        fault="UNIT-FAULT",
    ),
)
