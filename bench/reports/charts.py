"""The run report's small charts as inline SVG: a measurement against its limits, a unit's history of it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.measure import Measurement
from bench.reports.format import fmt_time, fmt_value, is_number, outside
from bench.reports.style import COLOURS as _COLOURS
from drivers.i18n import _, tr

if TYPE_CHECKING:
    from bench.store.history import TrendPoint



def gauge(m: Measurement) -> str:
    """A bar with the allowed band and a marker at the value; empty for non-numeric limits."""
    limit = m.limit
    if limit is None or (limit.min is None and limit.max is None) or not is_number(m.value):
        return ""
    value = float(m.value)
    lo, hi = _domain([value, *(x for x in (limit.min, limit.max) if x is not None)])
    w, x0, x1 = 220.0, 10.0, 210.0

    def x(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    band_lo = x(limit.min) if limit.min is not None else x0
    band_hi = x(limit.max) if limit.max is not None else x1
    colour = _COLOURS["PASS"] if m.passed else _COLOURS["FAIL"]
    label = _("{name} {value} against {limit}").format(name=m.name, value=fmt_value(value), limit=tr(limit.describe()))
    parts = [
        f'<svg class="gauge" width="{w:.0f}" height="34" viewBox="0 0 {w:.0f} 34" role="img" '
        f'aria-label="{_e(label)}">',
        f'<rect x="{x0:.1f}" y="11" width="{x1 - x0:.1f}" height="8" rx="4" fill="#eaeef2"/>',
        f'<rect x="{band_lo:.1f}" y="11" width="{max(band_hi - band_lo, 1):.1f}" height="8" fill="#aceebb"/>',
    ]
    for edge in (limit.min, limit.max):
        if edge is not None:
            ex = x(edge)
            parts.append(f'<line x1="{ex:.1f}" y1="7" x2="{ex:.1f}" y2="23" stroke="#57606a"/>')
            parts.append(f'<text x="{ex:.1f}" y="32" text-anchor="middle">{_e(fmt_value(edge))}</text>')
    vx = x(value)
    parts.append(f'<rect x="{vx - 2:.1f}" y="3" width="4" height="24" rx="1" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(points: Sequence[TrendPoint], run_id: str) -> str:
    values = [p.value for p in points]
    lo_lim, hi_lim = points[-1].limit_min, points[-1].limit_max
    lo, hi = _domain([*values, *(x for x in (lo_lim, hi_lim) if x is not None)])
    w, h, left, right, top, bottom = 300.0, 80.0, 34.0, 292.0, 6.0, 74.0

    def x(i: int) -> float:
        return left + (right - left) * (i / (len(points) - 1) if len(points) > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    parts = [f'<svg class="spark" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" role="img">']
    band_top = y(hi_lim) if hi_lim is not None else top
    band_bottom = y(lo_lim) if lo_lim is not None else bottom
    if lo_lim is not None or hi_lim is not None:
        parts.append(f'<rect x="{left:.1f}" y="{band_top:.1f}" width="{right - left:.1f}" '
                     f'height="{max(band_bottom - band_top, 0.5):.1f}" fill="#dafbe1"/>')
    for edge in (lo_lim, hi_lim):
        if edge is not None:
            ey = y(edge)
            parts.append(f'<line x1="{left:.1f}" y1="{ey:.1f}" x2="{right:.1f}" y2="{ey:.1f}" '
                         f'stroke="{_COLOURS["FAIL"]}" stroke-dasharray="3 3" stroke-width="1"/>')
            parts.append(f'<text x="{left - 4:.1f}" y="{ey + 3:.1f}" text-anchor="end">'
                         f"{_e(fmt_value(edge))}</text>")
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{line}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    for i, p in enumerate(points):
        colour = _COLOURS["FAIL"] if outside(p.value, lo_lim, hi_lim, p.passed) else _COLOURS["PASS"]
        r = 4.0 if p.run_id == run_id else 2.5
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{r}" fill="{colour}">'
                     f"<title>{_e(fmt_time(p.at))}: {p.value:g}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def _domain(values: Sequence[float]) -> tuple[float, float]:
    a, b = min(values), max(values)
    pad = (b - a) * 0.2 if b > a else (abs(a) * 0.1 or 1.0)
    return a - pad, b + pad


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


__all__ = ["gauge", "sparkline"]
