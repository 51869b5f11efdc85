"""When customers arrive during a soak, with which card and for how much.

Arrivals are a non-homogeneous Poisson process that follows the profile's rate curve, drawn by
thinning (Lewis and Shedler, 1979): candidates come at the curve's peak rate and each is kept
with probability rate(t) / peak. Each kept arrival draws its card from the weighted mix and its
amount log-uniformly between the profile's min and max (small amounts are the common ones).
Everything comes from one ``random.Random(profile.seed)`` drawn in a fixed order, so the same
profile gives the same arrivals, on any machine.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from bench.soak.profile import SoakProfile


@dataclass(frozen=True, slots=True)
class Arrival:
    """A customer: at ``at_s`` seconds of soak time, pay ``amount`` minor units of ``currency`` with ``card``.

    ``seq`` counts arrivals from 1 (usable as the TXN_START id).
    """

    at_s: float
    card: str
    amount: int
    currency: str
    seq: int


def iter_arrivals(profile: SoakProfile) -> Iterator[Arrival]:
    """The arrivals in time order, one at a time (what :func:`arrivals` lists)."""
    rng = random.Random(profile.seed)
    peak = profile.peak_per_minute / 60.0  # per second
    names = [name for name, _ in profile.cards]
    cumulative = list(itertools.accumulate(weight for _, weight in profile.cards))
    total_weight = cumulative[-1]
    log_lo, log_hi = math.log(profile.amount_min), math.log(profile.amount_max)
    t, seq = 0.0, 0
    while True:
        # Inverse transform of the exponential gap; 1 - random() is in (0, 1], so log() is defined.
        t += -math.log(1.0 - rng.random()) / peak
        if t >= profile.duration_s:
            return
        if rng.random() * profile.peak_per_minute >= profile.rate_at(t):
            continue
        card = names[min(bisect.bisect_right(cumulative, rng.random() * total_weight), len(names) - 1)]
        amount = round(math.exp(log_lo + (log_hi - log_lo) * rng.random()))
        seq += 1
        yield Arrival(t, card, min(max(amount, profile.amount_min), profile.amount_max), profile.currency, seq)


def arrivals(profile: SoakProfile) -> list[Arrival]:
    """Every arrival of the soak, in time order (same profile and seed, same list)."""
    return list(iter_arrivals(profile))


def expected_count(profile: SoakProfile) -> float:
    """How many arrivals the rate curve expects over the whole soak (the mean of ``len(arrivals(profile))``)."""
    return profile.expected_between(0.0, profile.duration_s)
