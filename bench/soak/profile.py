"""Soak profiles: a busy hour as a YAML file, validated into a :class:`SoakProfile`.

::

    soak: 1                  # the format's version
    name: busy-hour
    description: lunchtime rush at a supermarket till
    duration: 60m            # soak time; a number of seconds or s/m/h (ms) suffixes; up to 24h
    time_scale: 60           # simulated bench: soak time runs this many times faster (1..3600; real bench: 1)
    seed: 7                  # same seed, same arrivals (optional, default 0)
    rate:                    # arrivals per minute of soak time, piecewise linear between points
      - {at: 0m, per_minute: 20}
      - {at: 15m, per_minute: 120}
      - {at: 60m, per_minute: 10}
    cards: {emv-visa-contact: 40, msr-unionpay: 10}   # card name -> weight (> 0)
    amounts: {min: 100, max: 25000, currency: "978"}  # minor units, drawn log-uniform
    online_timeout: 5s
    limits: {...}            # optional, see bench.soak.limits

The rate holds its first point's value before it and its last point's value after it; points
are in strictly increasing time, within the duration. A card must be in the bench's card
library (:mod:`bench.soak.cards`). Every error is one :class:`~bench.errors.PlanError` naming
file, line and field; profiles are data, read with :mod:`drivers.yamlsafe` like plans.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import ConfigError, PlanError
from bench.soak.cards import library_cards
from bench.soak.fields import Where, field_name, fmt_duration, show
from bench.soak.limits import SoakLimits, parse_limits
from drivers.i18n import N_
from drivers.yamlsafe import LineDict, LineList, decode, load_text, read_bytes

FORMAT_VERSION = 1
MAX_DURATION_S = 24 * 3600.0
MAX_TIME_SCALE = 3600.0
#: Highest rate (arrivals per minute of soak time) and most arrivals a profile may expect.
MAX_PER_MINUTE = 60_000.0
MAX_EXPECTED = 1_000_000
MAX_RATE_POINTS = 1000
MAX_CARDS = 100
#: TXN_START limits: amount is a u32 of minor units (<= 999 999 999), the online timeout a u16 of ms.
MAX_AMOUNT = 999_999_999
MAX_ONLINE_TIMEOUT_S = 65.535
#: Shortest online wait a profile may ask for (as txn.sale's online_timeout).
MIN_ONLINE_TIMEOUT_S = 0.1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_CURRENCY_RE = re.compile(r"^\d{3}$")
_TOP = frozenset({"soak", "name", "description", "duration", "time_scale", "seed", "rate", "cards", "amounts",
                  "online_timeout", "limits"})


@dataclass(frozen=True)
class RatePoint:
    """At ``at_s`` seconds of soak time, ``per_minute`` arrivals per minute of soak time."""

    at_s: float
    per_minute: float


@dataclass(frozen=True)
class SoakProfile:
    """A validated soak profile. Times are seconds of soak time."""

    name: str
    description: str
    duration_s: float
    time_scale: float
    seed: int
    rate: tuple[RatePoint, ...]
    cards: tuple[tuple[str, float], ...]  # (card name, weight), in the file's order
    amount_min: int
    amount_max: int
    currency: str
    online_timeout_s: float
    limits: SoakLimits = field(default_factory=SoakLimits)
    path: str | None = None
    sha256: str = ""

    def rate_at(self, at_s: float) -> float:
        """Arrivals per minute at ``at_s``: linear between points, flat before the first and after the last."""
        pts = self.rate
        if at_s <= pts[0].at_s:
            return pts[0].per_minute
        for a, b in itertools.pairwise(pts):
            if at_s <= b.at_s:
                return a.per_minute + (b.per_minute - a.per_minute) * (at_s - a.at_s) / (b.at_s - a.at_s)
        return pts[-1].per_minute

    def expected_between(self, t0: float, t1: float) -> float:
        """Expected arrivals in ``[t0, t1)`` of soak time: the integral of the rate curve."""
        t0, t1 = max(0.0, t0), min(self.duration_s, t1)
        if t1 <= t0:
            return 0.0
        cuts = sorted({t0, t1, *(p.at_s for p in self.rate if t0 < p.at_s < t1)})
        # The rate is linear between cuts, so the trapezoid rule is exact.
        total = sum((b - a) * (self.rate_at(a) + self.rate_at(b)) / 2 for a, b in itertools.pairwise(cuts))
        return total / 60.0

    @property
    def peak_per_minute(self) -> float:
        """The highest rate of the curve."""
        return max(p.per_minute for p in self.rate)

    @property
    def rate_points(self) -> list[tuple[float, float]]:
        """The curve as (soak seconds, arrivals per minute) pairs, as the report's chart takes it."""
        return [(p.at_s, p.per_minute) for p in self.rate]

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON-able data (for the run record and ``--json``)."""
        lim = self.limits
        return {
            "name": self.name, "description": self.description, "duration_s": self.duration_s,
            "time_scale": self.time_scale, "seed": self.seed,
            "rate": [{"at_s": p.at_s, "per_minute": p.per_minute} for p in self.rate],
            "cards": dict(self.cards),
            "amounts": {"min": self.amount_min, "max": self.amount_max, "currency": self.currency},
            "online_timeout_s": self.online_timeout_s,
            "limits": {
                "approval_rate_min": lim.approval_rate_min, "failures_max": lim.failures_max,
                "latency": [{"stage": x.stage, "percentile": x.percentile, "max_ms": x.max_ms} for x in lim.latency],
                "drift": [{"quantity": x.quantity, "kind": x.kind, "bound": x.bound} for x in lim.drift],
            },
            "path": self.path, "sha256": self.sha256,
        }


def load_profile(path: str | Path, *, cards: Collection[str] | None = None) -> SoakProfile:
    """Load and validate the soak profile at ``path`` (``cards``: the bench's card names; default the library)."""
    p = Path(path)
    try:
        raw = read_bytes(p)
        text = decode(raw, path=str(p))
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return parse_profile_text(text, str(p), cards=cards)


def parse_profile_text(text: str, path: str = "<profile>", *, cards: Collection[str] | None = None) -> SoakProfile:
    """Validate a soak profile given as YAML text; ``path`` names it in errors."""
    try:
        data = load_text(text, path=path)
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return _build(data, Where(path), cards, hashlib.sha256(text.encode()).hexdigest())


def _build(data: Any, wh: Where, cards: Collection[str] | None, sha: str) -> SoakProfile:
    if not isinstance(data, LineDict):
        raise PlanError(N_("a soak profile must be a YAML mapping starting with 'soak: 1'"), path=wh.path)
    wh.no_unknown(data, _TOP, "")
    for key in ("soak", "name", "duration", "rate", "cards", "amounts"):
        if key not in data:
            raise wh.error(N_("missing required field {key!r}", key=key), data, None, key)
    version = data["soak"]
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise wh.error(N_("soak must be {version} (the format's version), not {value}", version=FORMAT_VERSION, value=show(version)), data, "soak",
                       "soak")
    name = wh.text(data, "name", "name", limit=64) or ""
    if not _NAME_RE.match(name):
        raise wh.error(N_("name {value} must be letters, digits, '.', '_' or '-'", value=show(name)), data, "name", "name")
    duration = wh.duration(data, "duration", "duration", high=MAX_DURATION_S)
    time_scale = 1.0
    if "time_scale" in data:
        time_scale = wh.number(data, "time_scale", "time_scale", low=1.0, high=MAX_TIME_SCALE)
    seed = int(wh.number(data, "seed", "seed", whole=True, high=2**63 - 1)) if "seed" in data else 0
    online_timeout = 5.0
    if "online_timeout" in data:
        online_timeout = wh.duration(data, "online_timeout", "online_timeout", high=MAX_ONLINE_TIMEOUT_S)
        if online_timeout < MIN_ONLINE_TIMEOUT_S:  # TXN_START carries whole ms: 0.0001s would be 0, no wait at all
            raise wh.error(N_("online_timeout must be from {duration} to {until}, not {value}", duration=fmt_duration(MIN_ONLINE_TIMEOUT_S), until=fmt_duration(MAX_ONLINE_TIMEOUT_S), value=show(data['online_timeout'])), data,
                           "online_timeout", "online_timeout")
    rate = _rate(wh, data, duration)
    amount_min, amount_max, currency = _amounts(wh, data)
    profile = SoakProfile(
        name=name,
        description=wh.text(data, "description", "description") or "",
        duration_s=duration,
        time_scale=time_scale,
        seed=seed,
        rate=rate,
        cards=_cards(wh, data, library_cards() if cards is None else cards),
        amount_min=amount_min,
        amount_max=amount_max,
        currency=currency,
        online_timeout_s=online_timeout,
        limits=parse_limits(wh, data),
        path=wh.path,
        sha256=sha,
    )
    expected = profile.expected_between(0.0, duration)
    if expected > MAX_EXPECTED:
        raise wh.error(N_("the rate curve expects {expected:.0f} transactions in {duration}; at most {most}", expected=expected, duration=fmt_duration(duration), most=MAX_EXPECTED), data, "rate", "rate")
    if expected < 1:
        raise wh.error(N_("the rate curve expects {expected:.2f} transactions in {duration}; a soak needs at least 1", expected=expected, duration=fmt_duration(duration)), data, "rate", "rate")
    return profile


def _rate(wh: Where, data: LineDict, duration: float) -> tuple[RatePoint, ...]:
    raw = data["rate"]
    if not isinstance(raw, LineList) or not raw:
        raise wh.error(N_("rate must be a non-empty list of {form} points", form="{at, per_minute}"), data, "rate", "rate")
    if len(raw) > MAX_RATE_POINTS:
        raise wh.error(N_("rate has at most {most} points, not {count}", most=MAX_RATE_POINTS, count=len(raw)), data, "rate", "rate")
    points: list[RatePoint] = []
    for i, item in enumerate(raw):
        fld = f"rate[{i}]"
        if not isinstance(item, LineDict):
            raise wh.error(N_("{field} must be a mapping like {{at: 15m, per_minute: 120}}", field=fld), raw, i, fld)
        wh.no_unknown(item, {"at", "per_minute"}, fld)
        for key in ("at", "per_minute"):
            if key not in item:
                raise wh.error(N_("{field} needs {key!r}", field=fld, key=key), raw, i, f"{fld}.{key}")
        at = wh.duration(item, "at", f"{fld}.at", low_open=False, high=MAX_DURATION_S)
        if at > duration:
            raise wh.error(N_("{field}.at {duration} is beyond the duration {until}", field=fld, duration=fmt_duration(at), until=fmt_duration(duration)), item,
                           "at", f"{fld}.at")
        if points and at <= points[-1].at_s:
            raise wh.error(N_("{field}.at {duration} is not after the point before it ({until}): points go in time order", field=fld, duration=fmt_duration(at), until=fmt_duration(points[-1].at_s)), item, "at", f"{fld}.at")
        per_minute = wh.number(item, "per_minute", f"{fld}.per_minute", high=MAX_PER_MINUTE)
        points.append(RatePoint(at, per_minute))
    return tuple(points)


def _cards(wh: Where, data: LineDict, known: Collection[str]) -> tuple[tuple[str, float], ...]:
    raw = data["cards"]
    if not isinstance(raw, LineDict) or not raw:
        raise wh.error(N_("cards must map card names to weights, e.g. {example}", example="{emv-visa-contact: 40}"), data, "cards", "cards")
    if len(raw) > MAX_CARDS:
        raise wh.error(N_("cards lists at most {most} cards, not {count}", most=MAX_CARDS, count=len(raw)), data, "cards", "cards")
    out: list[tuple[str, float]] = []
    for card in raw:
        fld = f"cards.{field_name(card)}"
        if card not in known:
            import difflib

            close = difflib.get_close_matches(str(card), list(known), n=1)
            if close:
                raise wh.error(N_("card {card} is not in the card library; did you mean {close!r}?", card=show(card),
                                  close=close[0]), raw, card, f"cards.{field_name(card)}")
            raise wh.error(N_("card {card} is not in the card library; known: {known}", card=show(card),
                              known=", ".join(sorted(known))), raw, card, f"cards.{field_name(card)}")
        weight = wh.number(raw, card, fld, low=0.0, low_open=True)
        out.append((card, weight))
    return tuple(out)


def _amounts(wh: Where, data: LineDict) -> tuple[int, int, str]:
    raw = wh.mapping(data, "amounts", "amounts", required=True)
    assert raw is not None  # required
    wh.no_unknown(raw, {"min", "max", "currency"}, "amounts")
    for key in ("min", "max", "currency"):
        if key not in raw:
            raise wh.error(N_("amounts needs {key!r}", key=key), data, "amounts", f"amounts.{key}")
    low = int(wh.number(raw, "min", "amounts.min", whole=True, low=1, high=MAX_AMOUNT))
    high = int(wh.number(raw, "max", "amounts.max", whole=True, low=1, high=MAX_AMOUNT))
    if low > high:
        raise wh.error(N_("amounts.min {low} is above amounts.max {high}", low=low, high=high), raw, "min", "amounts.min")
    currency = raw["currency"]
    # Quoted: YAML reads an unquoted 036 (AUD) as the octal number 30.
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
        raise wh.error(N_("amounts.currency must be an ISO 4217 numeric code in quotes, like \"978\", not {value}", value=show(currency)), raw, "currency", "amounts.currency")
    return low, high, currency

