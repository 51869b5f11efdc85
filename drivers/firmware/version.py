"""Comparing firmware versions the way a technician reads them (``2.10.0`` is newer than ``2.9.3``).

Here, in the drivers, because the client refuses a downgrade before sending a byte and the
simulated unit refuses one too; the harness (``bench.version``) uses the same key.
"""

from __future__ import annotations

import re

_PART = re.compile(r"\d+|[A-Za-z]+")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key: numbers compare as numbers, letters as text, numbers before letters."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _PART.findall(version))


def is_older(version: str, other: str) -> bool:
    """True when ``version`` is older than ``other``."""
    return version_key(version) < version_key(other)
