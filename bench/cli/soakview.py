"""A soak's figures in the terminal, under the run's verdict: counts, latency percentiles, drift."""

from __future__ import annotations

from typing import Any

from bench.cli import safe
from bench.cli.tables import aside, listing
from bench.i18n.layout import pad
from bench.record import RunRecord
from bench.soak.record import soak_summary
from drivers.i18n import N_, _, translation

_STAGES = (("card_ms", N_("card")), ("online_ms", N_("online")), ("print_ms", N_("print")),
           ("total_ms", N_("total (unit)")), ("bench_ms", N_("bench overhead")))
_DRIFT = (("total_ms_p95", N_("total p95"), "ms"), ("online_ms_p95", N_("online p95"), "ms"),
          ("head_temp_c", N_("print head"), "°C"), ("battery_percent", N_("battery"), "%"))


def soak_lines(rec: RunRecord) -> list[str]:
    """The lines for every soak step of ``rec`` (none when it has no soak)."""
    out: list[str] = []
    for step in rec.steps:
        summary = soak_summary(step)
        if summary is not None:
            out += _lines(summary, step.duration_s)
    return out


def _lines(s: dict[str, Any], wall_s: float) -> list[str]:
    minutes = float(s.get("soak_s", 0)) / 60
    causes = s.get("failures_by_cause") or {}
    codes = s.get("declines_by_code") or {}
    rev = s.get("reversals") or {}
    lines = [
        _("Soak: {sales} sales in {wall} s ({minutes} min of soak time at {scale}x): {approved} approved, "
          "{declined} declined").format(sales=s.get("transactions", 0), wall=f"{wall_s:.1f}", minutes=f"{minutes:.0f}",
                                        scale=f"{float(s.get('time_scale', 1)):g}", approved=s.get("approved", 0),
                                        declined=s.get("declined", 0))
        + (" " + aside(_counts(codes)) if codes else "") + _(", ") + _("{n} failed").format(n=s.get("failed", 0))
        + (" " + aside(_counts(causes)) if causes else ""),
        *(["  " + _("failed sales by card: {counts}").format(counts=_counts(s["failures_by_card"]))]
          if s.get("failures_by_card") else []),
        "  " + _("reversals {sent} sent, {acked} answered; unit resets {resets}; most behind schedule {lag} s of soak "
                 "time").format(sent=rev.get("sent", 0), acked=rev.get("acked", 0), resets=s.get("unit_resets", 0),
                                lag=f"{float(s.get('max_lag_s', 0)):.1f}"),
        "  " + pad(_("latency (ms)"), 16) + f"{'p50':>9}{'p95':>9}{'p99':>9}",
    ]
    latency = s.get("latency_ms") or {}
    for key, label in _STAGES:
        row = latency.get(key) or {}
        if row.get("count"):
            lines.append(f"  {pad(_shown(label), 16)}" + "".join(f"{_num(row.get(p)):>9}" for p in ("p50", "p95", "p99")))
    drift = (s.get("drift") or {}).get("quantities") or {}
    parts = [f"{_shown(label)} {_num(q['first'])} -> {_num(q['last'])} {unit}"
             for key, label, unit in _DRIFT if (q := drift.get(key)) and q.get("first") is not None
             and q.get("last") is not None]
    if parts:
        lines.append("  " + _("drift, first 10 min -> last 10 min: {parts}").format(parts=_("; ").join(parts)))
    return [safe.one_line(line) for line in lines]


def _shown(label: str) -> str:
    return translation().gettext(label)


def _counts(counts: dict[str, Any], most: int = 6) -> str:
    """``59 emv-visa-contact, 34 emv-mastercard-contact, ...``: the largest first (the summary's JSON is sorted by name)."""
    ranked = sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    more = _(", ") + _("{n} more").format(n=len(ranked) - most) if len(ranked) > most else ""
    return listing(f"{n} {name}" for name, n in ranked[:most]) + more


def _num(value: Any) -> str:
    if value is None:
        return "-"
    v = float(value)
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
