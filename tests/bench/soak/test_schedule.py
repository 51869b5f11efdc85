"""Arrivals: seeded, in order, and following the profile's rate curve, card mix and amount range.

Counts are random, so each is checked against its distribution: a window's count is Poisson
with the curve's integral as mean, a card's count binomial. The tolerance is the normal
quantile for a false alarm chance of 1e-6 over every check of a test (Bonferroni), in standard
deviations of that distribution; the seeds are fixed, so a run is repeatable anyway.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import pytest

from bench.soak.profile import SoakProfile, parse_profile_text
from bench.soak.schedule import arrivals, expected_count, iter_arrivals

PROFILE = """\
soak: 1
name: t
duration: 60m
seed: 7
rate:
  - {at: 0m, per_minute: 20}
  - {at: 15m, per_minute: 120}
  - {at: 45m, per_minute: 120}
  - {at: 60m, per_minute: 10}
cards: {emv-visa-contact: 40, emv-mastercard-contact: 25, emv-unionpay-contactless: 15, emv-contactless: 10,
        msr-unionpay: 10}
amounts: {min: 100, max: 25000, currency: "978"}
"""
SEEDS = (7, 8, 9)


def z_for(checks: int, alpha: float = 1e-6) -> float:
    """Two-sided normal quantile for ``checks`` checks with a total false-alarm chance ``alpha``."""
    return NormalDist().inv_cdf(1 - alpha / (2 * checks))


def with_seed(seed: int) -> SoakProfile:
    return dataclasses.replace(parse_profile_text(PROFILE), seed=seed)


def test_the_same_seed_gives_the_same_arrivals_and_another_seed_others() -> None:
    p = parse_profile_text(PROFILE)
    first = arrivals(p)
    assert first == arrivals(parse_profile_text(PROFILE)) == list(iter_arrivals(p))
    assert first != arrivals(with_seed(8))


def test_arrivals_are_in_order_within_the_soak_numbered_from_one() -> None:
    got = arrivals(parse_profile_text(PROFILE))
    times = [a.at_s for a in got]
    assert times == sorted(times) and times[0] >= 0 and times[-1] < 3600
    assert [a.seq for a in got] == list(range(1, len(got) + 1))
    assert {a.currency for a in got} == {"978"}


def busy(seed: int) -> SoakProfile:
    """PROFILE at ten times the rate: counts large enough that a curve 15 % off fails."""
    p = with_seed(seed)
    return dataclasses.replace(p, rate=tuple(dataclasses.replace(r, per_minute=r.per_minute * 10) for r in p.rate))


def test_the_count_in_each_window_follows_the_rate_curve() -> None:
    window = 300.0
    edges = [i * window for i in range(int(3600 / window))]
    z = z_for(len(edges) * len(SEEDS))
    for seed in SEEDS:
        p = busy(seed)
        got = arrivals(p)
        for t0 in edges:
            mean = p.expected_between(t0, t0 + window)
            n = sum(t0 <= a.at_s < t0 + window for a in got)
            assert abs(n - mean) <= z * math.sqrt(mean), f"seed {seed}, {t0:g}s..{t0 + window:g}s: {n} vs {mean:.1f}"


def test_the_tolerance_would_catch_a_curve_15_percent_off() -> None:
    """The tolerance is tight enough: a curve 15 % off in the ramp would be outside it."""
    p = busy(7)
    ramp_start = p.expected_between(0, 300)
    assert 0.15 * ramp_start > z_for(12 * len(SEEDS)) * math.sqrt(ramp_start)


def test_the_total_is_poisson_around_the_expected_count() -> None:
    p = parse_profile_text(PROFILE)
    mean = expected_count(p)
    assert mean == pytest.approx(15 * 70 + 30 * 120 + 15 * 65)
    z = z_for(len(SEEDS))
    for seed in SEEDS:
        assert abs(len(arrivals(with_seed(seed))) - mean) <= z * math.sqrt(mean)


def test_cards_follow_their_weights() -> None:
    p = parse_profile_text(PROFILE)
    got = arrivals(p)
    total_weight = sum(w for _, w in p.cards)
    z = z_for(len(p.cards))
    for card, weight in p.cards:
        share = weight / total_weight
        n = sum(a.card == card for a in got)
        sd = math.sqrt(len(got) * share * (1 - share))
        assert abs(n - len(got) * share) <= z * sd, f"{card}: {n} of {len(got)}, expected share {share}"


def test_amounts_are_log_uniform_within_min_and_max() -> None:
    p = parse_profile_text(PROFILE)
    got = [a.amount for a in arrivals(p)]
    assert min(got) >= 100 and max(got) <= 25000
    assert all(isinstance(x, int) for x in got)
    # Log-uniform: each decade-sized slice of log(amount) holds its share; below the geometric mean, half.
    lo, hi = math.log(100), math.log(25000)
    z = z_for(4)
    for cut in (0.25, 0.5, 0.75):
        bound = math.exp(lo + cut * (hi - lo))
        n = sum(x < bound for x in got)
        assert abs(n - cut * len(got)) <= z * math.sqrt(len(got) * cut * (1 - cut)), f"below {bound:.0f}: {n}"


def test_one_amount_and_one_card_are_allowed() -> None:
    text = PROFILE.replace("min: 100, max: 25000", "min: 500, max: 500")
    text = text.replace("""cards: {emv-visa-contact: 40, emv-mastercard-contact: 25, emv-unionpay-contactless: 15, emv-contactless: 10,
        msr-unionpay: 10}""", "cards: {msr-test: 1}")
    got = arrivals(parse_profile_text(text))
    assert got and {a.amount for a in got} == {500} and {a.card for a in got} == {"msr-test"}
