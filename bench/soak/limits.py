"""The ``limits:`` of a soak profile: what a busy hour must achieve, as typed values.

::

    limits:                       # all optional
      approval_rate: {min: 0.98}  # approved / transactions (0..1)         -> TXN-DECLINED
      failures: {max: 0}          # failed transactions (any cause)        -> TXN-FAILURES (soak.sales: max 0 when not given)
      total_ms: {p95: 3000, p99: 5000}   # per stage, see STAGES            -> TXN-SLOW
      drift:                      # last 10 minutes of soak time vs first 10 -> SOAK-DRIFT
        online_ms_p95: {max_increase: 0.5, floor: 50}   # relative: 0.5 = up to +50 %, of at least 50 ms
        head_temp_c: {max: 75}               # highest sample in the last window
        battery_percent: {max_drop: 20}      # first window's mean - last window's mean

Every bound is a finite number >= 0; a ``p95`` is milliseconds. How each is judged:
:mod:`bench.soak.judge`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.soak.fields import Where
from drivers.i18n import N_
from drivers.yamlsafe import LineDict

#: The stages a latency limit may name: the unit's clock (amount..total) and the bench's whole sale.
STAGES = ("amount_ms", "card_ms", "online_ms", "print_ms", "total_ms", "bench_ms")
#: Percentiles a latency limit may name.
PERCENTILES = {"p50": 50, "p95": 95, "p99": 99}
#: What the engine samples from the unit during a soak (``SoakTally.sample``), with units.
SAMPLED = {"head_temp_c": "°C", "battery_percent": "%"}
#: What a drift entry may bound.
DRIFT_KINDS = ("max", "min", "max_increase", "max_drop")
#: Drift quantities: every stage's percentile (``online_ms_p95``) and every sampled value.
DRIFT_QUANTITIES = frozenset({f"{s}_{p}" for s in STAGES for p in PERCENTILES} | set(SAMPLED))
_TOP = frozenset({"approval_rate", "failures", "drift", *STAGES})


@dataclass(frozen=True)
class LatencyLimit:
    """``stage``'s ``percentile`` over the soak must be at most ``max_ms``."""

    stage: str
    percentile: int
    max_ms: float


@dataclass(frozen=True)
class DriftLimit:
    """``quantity`` (``online_ms_p95``, ``head_temp_c``...) bounded by ``kind`` (see :data:`DRIFT_KINDS`)."""

    quantity: str
    kind: str
    bound: float
    floor: float = 0.0  # max_increase: the least first-window value the increase is relative to (timer jitter)


@dataclass(frozen=True)
class SoakLimits:
    """A profile's limits; ``None`` or empty = not limited."""

    approval_rate_min: float | None = None
    failures_max: int | None = None
    latency: tuple[LatencyLimit, ...] = ()
    drift: tuple[DriftLimit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.approval_rate_min is not None or self.failures_max is not None or self.latency or self.drift)


def parse_limits(wh: Where, data: LineDict) -> SoakLimits:
    """The profile's ``limits`` mapping (``data`` is the whole profile)."""
    raw = wh.mapping(data, "limits", "limits")
    if raw is None:
        return SoakLimits()
    wh.no_unknown(raw, _TOP, "limits")
    approval = failures = None
    node = wh.mapping(raw, "approval_rate", "limits.approval_rate")
    if node is not None:
        wh.no_unknown(node, {"min"}, "limits.approval_rate")
        if "min" not in node:
            raise wh.error(N_("approval_rate needs min"), raw, "approval_rate", "limits.approval_rate.min")
        approval = wh.number(node, "min", "limits.approval_rate.min", low=0.0, high=1.0)
    node = wh.mapping(raw, "failures", "limits.failures")
    if node is not None:
        wh.no_unknown(node, {"max"}, "limits.failures")
        if "max" not in node:
            raise wh.error(N_("failures needs max"), raw, "failures", "limits.failures.max")
        failures = int(wh.number(node, "max", "limits.failures.max", whole=True))
    latency: list[LatencyLimit] = []
    for stage in STAGES:
        fld = f"limits.{stage}"
        node = wh.mapping(raw, stage, fld)
        if node is None:
            continue
        wh.no_unknown(node, set(PERCENTILES), fld)
        if not node:
            raise wh.error(N_("{stage} needs p50, p95 or p99 (milliseconds)", stage=stage), raw, stage, fld)
        for key, pct in PERCENTILES.items():
            if key in node:
                latency.append(LatencyLimit(stage, pct, wh.number(node, key, f"{fld}.{key}")))
    return SoakLimits(approval, failures, tuple(latency), _drift(wh, raw))


def _drift(wh: Where, raw: LineDict) -> tuple[DriftLimit, ...]:
    node = wh.mapping(raw, "drift", "limits.drift")
    if node is None:
        return ()
    wh.no_unknown(node, DRIFT_QUANTITIES, "limits.drift")
    out: list[DriftLimit] = []
    for quantity in node:
        fld = f"limits.drift.{quantity}"
        entry = node[quantity]
        if not isinstance(entry, LineDict):
            raise wh.error(N_("{field} must be a mapping like {{max_increase: 0.5}}", field=fld), node, quantity, fld)
        wh.no_unknown(entry, {*DRIFT_KINDS, "floor"}, fld)
        if not set(entry) & set(DRIFT_KINDS):
            raise wh.error(N_("drift of {quantity} needs one of {known}", quantity=quantity, known=', '.join(DRIFT_KINDS)), node, quantity, fld)
        floor = 0.0
        if "floor" in entry:
            if "max_increase" not in entry:
                raise wh.error(N_("floor goes with max_increase (the least value an increase is relative to)"),
                               entry, "floor", f"{fld}.floor")
            floor = wh.number(entry, "floor", f"{fld}.floor")
        for kind in DRIFT_KINDS:
            if kind in entry:
                bound = wh.number(entry, kind, f"{fld}.{kind}")
                out.append(DriftLimit(quantity, kind, bound, floor if kind == "max_increase" else 0.0))
        if "min" in entry and "max" in entry and entry["min"] > entry["max"]:
            raise wh.error(N_("min {min:g} is above max {max:g}", min=entry['min'], max=entry['max']), entry, "min", f"{fld}.min")
    return tuple(out)
