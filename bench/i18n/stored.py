"""Translatable texts kept for later: PAN-redacted without losing their template, and back from the store.

A step message, a finding's part or a run summary is a :class:`~drivers.i18n.Text` while the run is on:
English as a ``str``, translated when shown. The store keeps both (schema version 9): the English in its
old column, for every reader that wants plain text, and :meth:`~drivers.i18n.Text.to_json` beside it, so
``bench report RUN --lang zh_CN`` can say a stored message in another language. A text stored before
version 9, or a plain ``str`` (device text), has no JSON and is shown as stored.
"""

from __future__ import annotations

import logging

from drivers.codecs.pan import redact
from drivers.i18n import Text

_LOG = logging.getLogger(__name__)


def redact_text(value: str) -> str:
    """``value`` PAN-redacted; a :class:`Text` stays one (its values redacted, its template is ours)."""
    if not isinstance(value, Text):
        return redact(value)
    params = {k: redact_text(v) if isinstance(v, str) else v for k, v in value.params.items()}
    return Text(value.template, **params)


def text_json(value: str) -> str | None:
    """The JSON of ``value`` when it is a :class:`Text` (redacted), ``None`` for plain text."""
    if not isinstance(value, Text):
        return None
    return Text.to_json(redact_text(value))  # type: ignore[arg-type]  # redact_text keeps a Text a Text


def revive(english: str, stored: str | None) -> str:
    """The text a store row holds: the :class:`Text` of its JSON, or ``english`` as stored (no JSON, or a bad one)."""
    if not stored:
        return english
    try:
        return Text.from_json(stored)
    except (ValueError, TypeError) as exc:  # a hand-edited row: show what was stored in English
        _LOG.warning("store: a stored text is not readable (%s): shown as stored", exc)
        return english


__all__ = ["redact_text", "revive", "text_json"]
