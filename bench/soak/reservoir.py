"""Bounded keeping of a stream of numbers, and the percentile of what was kept.

A :class:`Reservoir` keeps every value until it holds ``cap`` of them, then a uniform random
sample of all the values seen (Vitter's Algorithm R, seeded: the same stream keeps the same
values). Values are kept as C doubles in an :class:`array.array`, 8 bytes each, so a full
reservoir of 50 000 is 400 kB, whatever the length of the soak.

:func:`percentile` is the nearest-rank percentile: the smallest kept value with at least ``p`` %
of the kept values at or below it. It is always a value that was measured, and it is exact
for the kept values; while ``count == len(values)`` (nothing dropped) it is exact for the stream.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterable, Sequence


class Reservoir:
    """Up to ``cap`` values of a stream: all of them, or a uniform sample once more came."""

    __slots__ = ("_rng", "cap", "count", "high", "low", "values")

    def __init__(self, cap: int, rng: random.Random) -> None:
        if cap < 1:
            raise ValueError("a reservoir keeps at least one value")  # i18n: a programming error
        self.cap = cap
        self.count = 0  # values seen
        self.values = array("d")  # values kept
        self.low = math.inf  # exact over every value seen
        self.high = -math.inf
        self._rng = rng

    def add(self, value: float) -> None:
        """Take one value."""
        self.count += 1
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if len(self.values) < self.cap:
            self.values.append(value)
            return
        j = self._rng.randrange(self.count)
        if j < self.cap:
            self.values[j] = value

    @property
    def exact(self) -> bool:
        """Every value seen is kept (percentiles are exact for the stream)."""
        return self.count == len(self.values)

    def percentiles(self, ps: Iterable[float]) -> dict[float, float | None]:
        """Nearest-rank percentile of the kept values for each ``p`` (None when empty); one sort."""
        ordered = sorted(self.values)
        return {p: percentile(ordered, p, presorted=True) for p in ps}


def percentile(values: Sequence[float], p: float, *, presorted: bool = False) -> float | None:
    """Nearest-rank ``p``-th percentile (0 < p <= 100) of ``values``; None when there are none."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be above 0 and at most 100, not {p}")  # i18n: a programming error
    if not values:
        return None
    ordered = values if presorted else sorted(values)
    # 1-based rank: at least p % of the values are <= this one. p * n first: for a whole p, p * n / 100
    # is exact when whole, so ceil() never climbs a rank on a rounding error (0.07 * 100 = 7.000000000000001).
    rank = math.ceil(p * len(ordered) / 100)
    return float(ordered[max(rank, 1) - 1])


def merged_percentiles(parts: Iterable[Reservoir], ps: Iterable[float]) -> tuple[dict[float, float | None], bool]:
    """Percentiles over the kept values of several reservoirs, and whether all of them are exact."""
    kept: list[float] = []
    exact = True
    for r in parts:
        kept.extend(r.values)
        exact = exact and r.exact
    kept.sort()
    return {p: percentile(kept, p, presorted=True) for p in ps}, exact
