"""A soak's summary against its profile's limits: one :class:`~bench.measure.Measurement` per limit.

Each limit becomes a measurement with a :class:`~bench.measure.Limit`, so the run record, the
reports and ``--json`` show it like any other ("measured X, expected Y"):

=====================================  ===============================  ================
limit                                  measurement (value)              fault when broken
=====================================  ===============================  ================
``approval_rate: {min}``               ``approval_rate`` (0..1)         TXN-DECLINED
``failures: {max}``                    ``failures`` (sales)             TXN-FAILURES
``total_ms: {p95}`` (any stage)        ``total_ms.p95`` (ms)            TXN-SLOW
drift ``X: {max_increase, floor}``     ``drift.X.increase`` (relative)  SOAK-DRIFT
drift ``X: {max_drop}``                ``drift.X.drop`` (X's unit)      SOAK-DRIFT
drift ``X: {max}`` / ``{min}``         ``drift.X.last_max`` / ``last_min`` (a sample's
                                       extreme in the last window) or ``drift.X.last`` (a
                                       latency percentile in the last window)   SOAK-DRIFT
=====================================  ===============================  ================

``increase`` is (last - first) / first and ``drop`` is first - last, each of the window means
of a sample or the window percentiles of a stage. A limit that cannot be measured (no sale
answered, never sampled) fails, and its message says why: a limit asked for is never passed
on no evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.measure import Limit, Measurement, judge
from bench.soak.limits import PERCENTILES, STAGES, DriftLimit, SoakLimits
from drivers.i18n import N_

FAULT_DECLINED = "TXN-DECLINED"
FAULT_FAILURES = "TXN-FAILURES"
FAULT_SLOW = "TXN-SLOW"
FAULT_DRIFT = "SOAK-DRIFT"
_PCT_NAME = {v: k for k, v in PERCENTILES.items()}
_LATENCY_QUANTITIES = frozenset(f"{s}_{p}" for s in STAGES for p in PERCENTILES)


def judge_limits(summary: Mapping[str, Any], limits: SoakLimits) -> list[Measurement]:
    """Every limit of ``limits`` judged against ``summary`` (:meth:`bench.soak.stats.SoakTally.summary`)."""
    out: list[Measurement] = []
    if limits.approval_rate_min is not None:
        rate = summary.get("approval_rate")
        out.append(judge("approval_rate", None if rate is None else round(rate, 6), unit=None,
                         limit=Limit(min=limits.approval_rate_min, fault=FAULT_DECLINED), default_fault=FAULT_DECLINED,
                         says=None if rate is not None else N_("approval rate not measured: the host answered no sale")))
    if limits.failures_max is not None:
        out.append(judge("failures", int(summary.get("failed", 0)), unit=None,
                         limit=Limit(max=limits.failures_max, fault=FAULT_FAILURES), default_fault=FAULT_FAILURES))
    for lat in limits.latency:
        key = _PCT_NAME[lat.percentile]
        value = summary["latency_ms"][lat.stage][key]
        says = None if value is not None else N_("{stage} {percentile} not measured: no completed sale went through it",
                                                stage=lat.stage, percentile=key)
        out.append(judge(f"{lat.stage}.{key}", value, unit="ms", limit=Limit(max=lat.max_ms, unit="ms", fault=FAULT_SLOW),
                         default_fault=FAULT_SLOW, says=says))
    drift = summary.get("drift") or {}
    for d in limits.drift:
        out.append(_drift(d, drift))
    return out


def _drift(d: DriftLimit, drift: Mapping[str, Any]) -> Measurement:
    q: Mapping[str, Any] = drift.get("quantities", {}).get(d.quantity) or {}
    sampled = d.quantity not in _LATENCY_QUANTITIES
    unit = q.get("unit") or (None if sampled else "ms")
    first, last = q.get("first"), q.get("last")
    window = drift.get("window_min", 0)
    value: float | None
    says: str | None = None
    if d.kind in ("max", "min"):
        if sampled:
            what = "last_max" if d.kind == "max" else "last_min"
            value = q.get(what)
        else:
            what, value = "last", last
        limit = Limit(max=d.bound, unit=unit, fault=FAULT_DRIFT) if d.kind == "max" else \
            Limit(min=d.bound, unit=unit, fault=FAULT_DRIFT)
        if value is None:
            says = N_("{quantity} drift not measured: nothing in the last {minutes} minutes", quantity=d.quantity,
                      minutes=window)
    elif d.kind == "max_increase":
        what, unit = "increase", None
        # Relative to the first window, or to the floor when that is higher: a few ms of timer jitter
        # on a latency of 2 ms is +50 %, and no drift.
        base = None if first is None else max(first, d.floor)
        value = None if base in (None, 0) or last is None else round((last - first) / base, 6)
        limit = Limit(max=d.bound, fault=FAULT_DRIFT)
        if value is None:
            says = N_("{quantity} drift not measured: it was 0 in the first {minutes} minutes", quantity=d.quantity,
                      minutes=window) if first == 0 and last is not None else _nothing(d.quantity, window)
    else:  # max_drop
        what = "drop"
        value = None if first is None or last is None else round(first - last, 6)
        limit = Limit(max=d.bound, unit=unit, fault=FAULT_DRIFT)
        if value is None:
            says = _nothing(d.quantity, window)
    return judge(f"drift.{d.quantity}.{what}", value, unit=unit, limit=limit, default_fault=FAULT_DRIFT, says=says)


def _nothing(quantity: str, window: int) -> str:
    return N_("{quantity} drift not measured: nothing in the first or the last {minutes} minutes", quantity=quantity,
              minutes=window)
