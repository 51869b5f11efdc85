"""Console tables and words that line up in any language: columns measured by display width, verdicts and dates.

A Chinese character takes two terminal columns; ``str.ljust`` counts it as one, so every table the
command line prints pads its cells with :func:`bench.i18n.layout.pad`. Verdicts, step outcomes and lot
decisions are shown in the reader's language (their English value stays in ``--json`` and the store).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bench.i18n import format_datetime
from bench.i18n.layout import display_width, pad
from bench.i18n.verdicts import state_word
from drivers.i18n import _

#: A verdict, outcome or lot decision (``PASS``, ``REJECT``...) as the reader says it; anything else as it is.
word = state_word


def listing(items: Iterable[str]) -> str:
    """Words of running text in a list: ``4 pass, 1 fail`` / ``4 通过、1 失败``."""
    return _(", ").join(items)


def aside(text: str) -> str:
    """A remark in brackets after running text: ``(5 pass)`` / ``（5 通过）``."""
    return _("({text})").format(text=text)


def when(t: datetime | None, *, seconds: bool = True) -> str:
    """A time in UTC for people, in the reader's language (``-`` for none)."""
    return format_datetime(t.astimezone(UTC), seconds=seconds) if t else "-"


def columns(rows: Sequence[Sequence[str]], align: str = "", gap: str = "  ") -> list[str]:
    """``rows`` as lines whose columns line up on a terminal; ``align`` per column: ``<`` (default) or ``>``.

    The last column is not padded (no trailing spaces).
    """
    if not rows:
        return []
    n = max(len(r) for r in rows)
    widths = [max((display_width(r[i]) for r in rows if i < len(r)), default=0) for i in range(n)]
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            side = align[i] if i < len(align) else "<"
            last = i == len(row) - 1
            cells.append(cell if last and side == "<" else pad(cell, widths[i], side))
        lines.append(gap.join(cells).rstrip())
    return lines


__all__ = ["columns", "listing", "when", "word"]
