"""The running tally of a soak: every finished sale and every sample, in bounded memory.

The engine hands each finished sale to :meth:`SoakTally.add` (or :meth:`SoakTally.add_result`)
as it comes, the unit's readings to :meth:`SoakTally.sample`, and counts reboots and
reconnects. :meth:`SoakTally.summary` is the soak as plain data (for the record, ``--json`` and
the report's charts); :meth:`SoakTally.judge` is that summary against the profile's limits.

What is counted where:

* Counts: every sale. ``approval_rate`` is approved / (approved + declined): the share of the
  host's answers that were approvals; failures (no answer, no card, no receipt...) are counted
  by cause and judged by the ``failures`` limit, not twice.
* Latencies: completed sales only (approved or declined); a stage the sale did not go through
  (absent or 0 ms) is left out of that stage. ``bench_ms`` is the whole sale seen from the bench.
* Time: ``at_s`` is the sale's soak time (the engine passes its arrival); buckets are minutes of
  soak time. Drift compares the first :data:`DRIFT_WINDOW_MIN` minutes with the last ones seen
  (each half of the soak when it is shorter than two windows).

Memory: per stage one :class:`~bench.soak.reservoir.Reservoir` of :data:`KEEP_OVERALL` values
(3 MB for six stages) and per minute bucket one of :data:`KEEP_PER_MINUTE` (at most 9.6 kB a
minute, 14 MB for a 24-hour soak at over 3 sales a second); counts and sample aggregates are a
few numbers per minute. A soak of 100 000 sales holds no per-sale object. Percentiles are
nearest-rank over the kept values: exact while nothing was dropped, which the summary says
(``exact``) for each figure.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.soak.limits import SAMPLED, STAGES
from bench.soak.reservoir import Reservoir, merged_percentiles

if TYPE_CHECKING:
    from bench.measure import Measurement
    from bench.soak.limits import SoakLimits
    from drivers.txnproto import TxnResult

_LOG = logging.getLogger(__name__)

KEEP_OVERALL = 50_000
KEEP_PER_MINUTE = 200
DRIFT_WINDOW_MIN = 10
MAX_MINUTES = 24 * 60 + 1  # a sale after 24 h of soak time counts in the last minute
MAX_CAUSES = 32  # distinct failure causes or decline codes kept by name; the rest are "other"
MAX_SAMPLE_NAMES = 16
PERCENTILES = (50.0, 95.0, 99.0)
_COMPLETED = ("approved", "declined")


@dataclass
class _Aggregate:
    """A sampled quantity within one minute: count, sum, lowest, highest."""

    n: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)


@dataclass
class _Minute:
    """One minute of soak time."""

    approved: int = 0
    declined: int = 0
    failed: int = 0
    latency: dict[str, Reservoir] = field(default_factory=dict)
    samples: dict[str, _Aggregate] = field(default_factory=dict)

    @property
    def transactions(self) -> int:
        return self.approved + self.declined + self.failed


class SoakTally:
    """Everything a soak measured, taken one sale or sample at a time.

    Args:
        seed: seeds the reservoirs' sampling (same stream, same kept values, same summary).
        keep_overall: values kept per stage over the soak.
        keep_per_minute: values kept per stage per minute.
    """

    def __init__(self, *, seed: int = 0, keep_overall: int = KEEP_OVERALL,
                 keep_per_minute: int = KEEP_PER_MINUTE) -> None:
        self._rng = random.Random(seed)
        self._keep_minute = keep_per_minute
        self._overall = {s: Reservoir(keep_overall, self._rng) for s in STAGES}
        self._minutes: list[_Minute] = []
        self.causes: Counter[str] = Counter()
        self.decline_codes: Counter[str] = Counter()
        self.reversals_sent = 0
        self.reversals_acked = 0
        self.reboots = 0
        self.reconnects = 0
        self.last_s = 0.0  # the latest soak time seen
        self.sample_names: dict[str, None] = {}  # in the order first seen

    # ------------------------------------------------------------------ input

    def add(self, at_s: float, outcome: str, cause: str = "", stages_ms: Mapping[str, float] | None = None,
            bench_ms: float | None = None, *, response_code: str = "", reversal_sent: bool = False,
            reversal_acked: bool = False) -> None:
        """One finished sale at ``at_s`` seconds of soak time.

        ``outcome`` is approved, declined or failed (anything else counts as failed, its cause
        the outcome); ``stages_ms`` the unit's stage times, keyed ``amount``/``amount_ms``...
        """
        minute = self._minute(at_s)
        if outcome == "approved":
            minute.approved += 1
        elif outcome == "declined":
            minute.declined += 1
            _count(self.decline_codes, response_code or "?")
        else:
            minute.failed += 1
            _count(self.causes, cause or (outcome if outcome != "failed" else "unknown"))
        self.reversals_sent += bool(reversal_sent)
        self.reversals_acked += bool(reversal_acked)
        if outcome not in _COMPLETED:
            return
        values = {f"{k}_ms" if not k.endswith("_ms") else k: v for k, v in (stages_ms or {}).items()}
        if bench_ms is not None:
            values["bench_ms"] = bench_ms
        for stage in STAGES:
            v = values.get(stage)
            if v is None or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                continue
            self._overall[stage].add(float(v))
            res = minute.latency.get(stage)
            if res is None:
                res = minute.latency[stage] = Reservoir(self._keep_minute, self._rng)
            res.add(float(v))

    def add_result(self, at_s: float, result: TxnResult, bench_ms: float | None = None) -> None:
        """One finished sale as the unit reported it (:class:`drivers.txnproto.TxnResult`)."""
        self.add(at_s, result.outcome, result.cause, result.stages_ms, bench_ms, response_code=result.response_code,
                 reversal_sent=result.reversal_sent, reversal_acked=result.reversal_acked)

    def sample(self, at_s: float, **values: float | None) -> None:
        """Readings of the unit at ``at_s`` (``head_temp_c=41.5, battery_percent=87``); None = not read."""
        minute = self._minute(at_s)
        for name, value in values.items():
            if value is None or isinstance(value, bool) or not math.isfinite(value):
                continue
            agg = minute.samples.get(name)
            if agg is None:
                if name not in self.sample_names and len(self.sample_names) >= MAX_SAMPLE_NAMES:
                    _LOG.warning("soak sample %r left out: at most %d kinds of sample", name, MAX_SAMPLE_NAMES)
                    continue
                self.sample_names.setdefault(name, None)
                agg = minute.samples[name] = _Aggregate()
            agg.add(float(value))

    def reboot(self, at_s: float) -> None:
        """The unit restarted during the soak (a watchdog reset...)."""
        self._minute(at_s)
        self.reboots += 1

    def reconnect(self, at_s: float) -> None:
        """The bench had to reconnect to the unit."""
        self._minute(at_s)
        self.reconnects += 1

    def _minute(self, at_s: float) -> _Minute:
        if not math.isfinite(at_s) or at_s < 0:
            raise ValueError(f"soak time must be a finite number of seconds >= 0, not {at_s!r}")  # i18n: a programming error
        self.last_s = max(self.last_s, at_s)
        index = min(int(at_s // 60), MAX_MINUTES - 1)
        while len(self._minutes) <= index:
            self._minutes.append(_Minute())
        return self._minutes[index]

    # ------------------------------------------------------------------ figures

    @property
    def transactions(self) -> int:
        """Sales counted so far."""
        return sum(m.transactions for m in self._minutes)

    def counts(self) -> dict[str, int]:
        """Sales by outcome: ``transactions``, ``approved``, ``declined``, ``failed``."""
        a = sum(m.approved for m in self._minutes)
        d = sum(m.declined for m in self._minutes)
        f = sum(m.failed for m in self._minutes)
        return {"transactions": a + d + f, "approved": a, "declined": d, "failed": f}

    def approval_rate(self) -> float | None:
        """approved / (approved + declined); None before the host answered any."""
        c = self.counts()
        answered = c["approved"] + c["declined"]
        return c["approved"] / answered if answered else None

    def latency(self, stage: str) -> dict[str, Any]:
        """``stage``'s figures over the soak: count, kept, exact, min, max, p50, p95, p99 (ms; None when empty)."""
        res = self._overall[stage]
        ps = res.percentiles(PERCENTILES)
        return {"count": res.count, "kept": len(res.values), "exact": res.exact,
                "min": res.low if res.count else None, "max": res.high if res.count else None,
                **{f"p{p:g}": ps[p] for p in PERCENTILES}}

    def windows(self) -> tuple[range, range]:
        """The minutes compared for drift: the first ones and the last ones seen."""
        n = len(self._minutes)
        width = min(DRIFT_WINDOW_MIN, max(n // 2, 1))
        return range(0, min(width, n)), range(max(n - width, 0), n)

    def window_samples(self, name: str, window: range) -> dict[str, float] | None:
        """Mean, lowest and highest of sample ``name`` over ``window`` (None when never sampled there)."""
        aggs = [self._minutes[i].samples[name] for i in window if name in self._minutes[i].samples]
        n = sum(a.n for a in aggs)
        if not n:
            return None
        return {"mean": sum(a.total for a in aggs) / n, "min": min(a.low for a in aggs),
                "max": max(a.high for a in aggs), "n": n}

    def summary(self) -> dict[str, Any]:
        """The soak as plain JSON-able data (see the module docstring for what is counted where)."""
        return {
            **self.counts(),
            "approval_rate": self.approval_rate(),
            "failures_by_cause": dict(self.causes.most_common()),
            "declines_by_code": dict(self.decline_codes.most_common()),
            "reversals": {"sent": self.reversals_sent, "acked": self.reversals_acked},
            "reboots": self.reboots,
            "reconnects": self.reconnects,
            "soak_s": self.last_s,
            "latency_ms": {stage: self.latency(stage) for stage in STAGES},
            "minutes": [self._minute_summary(i, m) for i, m in enumerate(self._minutes)],
            "drift": self.drift(),
            "percentiles": "nearest-rank over the kept values; exact where exact is true",
        }

    def _minute_summary(self, i: int, m: _Minute) -> dict[str, Any]:
        res = m.latency.get("total_ms")
        ps = res.percentiles((50.0, 95.0)) if res is not None else {50.0: None, 95.0: None}
        return {"minute": i, "transactions": m.transactions, "approved": m.approved, "declined": m.declined,
                "failed": m.failed, "total_ms_p50": ps[50.0], "total_ms_p95": ps[95.0],
                "samples": {k: a.total / a.n for k, a in m.samples.items()}}

    def drift(self) -> dict[str, Any]:
        """First window against last: each stage's percentiles (ms) and each sample's mean, lowest, highest."""
        first, last = self.windows()
        quantities: dict[str, dict[str, Any]] = {}
        for stage in STAGES:
            a, a_exact = self._window_percentiles(stage, first)
            b, b_exact = self._window_percentiles(stage, last)
            for p in PERCENTILES:
                quantities[f"{stage}_p{p:g}"] = {"first": a[p], "last": b[p], "exact": a_exact and b_exact,
                                                 "unit": "ms"}
        for name in self.sample_names:
            a_s, b_s = self.window_samples(name, first), self.window_samples(name, last)
            quantities[name] = {"first": a_s["mean"] if a_s else None, "last": b_s["mean"] if b_s else None,
                                "last_min": b_s["min"] if b_s else None, "last_max": b_s["max"] if b_s else None,
                                "unit": SAMPLED.get(name)}
        return {"window_min": len(first), "first": [first.start, first.stop], "last": [last.start, last.stop],
                "quantities": quantities}

    def _window_percentiles(self, stage: str, window: range) -> tuple[dict[float, float | None], bool]:
        parts = [self._minutes[i].latency[stage] for i in window if stage in self._minutes[i].latency]
        return merged_percentiles(parts, PERCENTILES)

    def judge(self, limits: SoakLimits) -> list[Measurement]:
        """Each of ``limits`` judged against :meth:`summary`, as measurements (see :mod:`bench.soak.judge`)."""
        from bench.soak.judge import judge_limits

        return judge_limits(self.summary(), limits)


def _count(counter: Counter[str], key: str) -> None:
    key = key[:40]
    if key not in counter and len(counter) >= MAX_CAUSES:
        key = "other"
    counter[key] += 1

