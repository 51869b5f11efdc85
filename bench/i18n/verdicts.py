"""The words of the bench's states in the reader's language: verdicts, step outcomes, lot decisions.

One table for the console, the reports and the dashboard. The records keep the English codes (``PASS``,
``REJECT``: what JSON, JUnit and the store carry); people read :func:`state_word`.
"""

from __future__ import annotations

from drivers.i18n import N_, Text, tr

#: Each state code with the word a person reads for it.
STATE_WORDS: dict[str, Text] = {
    "PASS": N_("PASS"),
    "FAIL": N_("FAIL"),
    "ERROR": N_("ERROR"),
    "TIMEOUT": N_("TIMEOUT"),
    "SKIP": N_("SKIP"),
    "INCOMPLETE": N_("INCOMPLETE"),
    "ABORTED": N_("ABORTED"),
    "RUNNING": N_("RUNNING"),
    "ACCEPT": N_("ACCEPT"),
    "REJECT": N_("REJECT"),
    "OPEN": N_("OPEN"),
    "DECIDED": N_("DECIDED"),
}


def state_word(code: object) -> str:
    """A verdict, outcome or lot state (a code or its enum) as the reader says it; anything else as it is."""
    text = str(getattr(code, "value", code))
    return tr(STATE_WORDS.get(text, text))


__all__ = ["STATE_WORDS", "state_word"]
