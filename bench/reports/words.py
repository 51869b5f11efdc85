"""The fixed words of the reports in the reader's language: verdicts, step outcomes, fault categories.

The records keep the English codes (``PASS``, ``hardware``: language-neutral, what JSON and JUnit carry);
a report shows them with :func:`verdict_word`, :func:`outcome_word` and :func:`category_word`.
"""

from __future__ import annotations

from bench.faults import Category
from bench.i18n.verdicts import state_word
from drivers.i18n import N_, Text, tr

_LOWER: dict[str, Text] = {
    "PASS": N_("passed"),
    "FAIL": N_("failed"),
    "ERROR": N_("error"),
    "TIMEOUT": N_("timed out"),
    "SKIP": N_("skipped"),
    "INCOMPLETE": N_("incomplete"),
    "ABORTED": N_("aborted"),
    "RUNNING": N_("running"),
}
_CATEGORIES: dict[str, Text] = {category.value: category.label for category in Category}


#: The words of a repair case: its verdict, state and result, a finding's severity, a measurement's change.
_CASE: dict[str, Text] = {
    "both": N_("hardware and software"),
    "none": N_("none"),
    "open": N_("open"),
    "closed": N_("closed"),
    "repaired": N_("repaired"),
    "unrepaired": N_("unrepaired"),
    "returned": N_("returned"),
    "resolved": N_("resolved"),
    "security": N_("security"),
    "hardware fault": N_("hardware fault"),
    "software fault": N_("software fault"),
    "minor": N_("minor"),
    "fixed": N_("fixed"),
    "still failing": N_("still failing"),
    "new failure": N_("new failure"),
    "not measured after": N_("not measured after"),
    "now measured": N_("now measured"),
    "changed": N_("changed"),
    "unchanged": N_("unchanged"),
    "damaged": N_("damaged"),
    "sound": N_("sound"),
    **_CATEGORIES,
}


def case_word(code: str) -> str:
    """A word of a repair case's data (``repaired``, ``still failing``, ``hardware``) in the current language."""
    return tr(_CASE.get(code, code))


def verdict_word(code: str) -> str:
    """A verdict or outcome code (``PASS``) as the big word of a report, in the current language."""
    return state_word(code)


def outcome_word(code: str) -> str:
    """A verdict or outcome code in running text (``passed``, ``timed out``), in the current language."""
    return tr(_LOWER.get(code, code.lower()))


def category_word(code: str) -> str:
    """A fault category (``hardware``) in the current language; an unknown one as it is."""
    return tr(_CATEGORIES.get(code, code))


__all__ = ["case_word", "category_word", "outcome_word", "verdict_word"]
