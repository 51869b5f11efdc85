"""Composing texts that stay translatable (:class:`drivers.i18n.Text`) where plain ``str`` operations would not.

``"; ".join(texts)`` gives plain English; :func:`joined` gives a :class:`~drivers.i18n.Text` whose English is
the same and which translates each part (and the separator) when shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from drivers.i18n import N_


def joined(texts: Sequence[str]) -> str:
    """``texts`` as one line, ``"a; b; c"`` in English; a single text as it is; ``""`` for none."""
    if not texts:
        return ""
    out = texts[-1]
    for first in reversed(texts[:-1]):
        out = N_("{first}; {rest}", first=first, rest=out)
    return out


__all__ = ["joined"]
