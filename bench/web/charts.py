"""The dashboard's charts as inline SVG, drawn on the server: yield per day, the failure pareto, sparklines.

Each function returns :class:`markupsafe.Markup` for a template to place as it is; every text in it
(a fault code, a measurement's name) is escaped here. No script, no style attribute (the page's
Content-Security-Policy allows neither inline): colours are presentation attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from drivers.i18n import _

if TYPE_CHECKING:
    from bench.store.dashboard import DayYield, FaultCount
    from bench.store.history import TrendPoint

PASS, FAIL, OTHER, LINE, MUTED = "#1a7f37", "#cf222e", "#d4a72c", "#0969da", "#59636e"


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def yield_chart(days: Sequence[DayYield], *, width: int = 720, height: int = 200) -> Markup:
    """Runs per day as stacked bars (passed, failed, incomplete) and the first-pass yield as a line."""
    if not days:
        return Markup('<p class="empty">{}</p>').format(_("no finished runs in these days"))
    left, right, top, bottom = 36, 40, 10, 28
    w, h = width - left - right, height - top - bottom
    most = max(d.figure.runs for d in days) or 1
    step = w / len(days)
    label = _("runs and first-pass yield per day")
    bar = max(2.0, step * 0.7)
    out = [f'<svg class="chart yield" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
           f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#d1d9e0"/>',
           f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="11" fill="{MUTED}">{most}</text>',
           f'<text x="{left + w + 4}" y="{top + 8}" font-size="11" fill="{LINE}">100%</text>',
           f'<text x="{left + w + 4}" y="{top + h}" font-size="11" fill="{LINE}">0%</text>']
    points = []
    for i, d in enumerate(days):
        f = d.figure
        x = left + i * step + (step - bar) / 2
        y: float = top + h
        for count, colour, what in ((f.passed, PASS, _("passed")), (f.failed, FAIL, _("failed")),
                                    (f.incomplete, OTHER, _("incomplete"))):
            if count:
                bh = h * count / most
                y -= bh
                out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" height="{_n(bh)}" fill="{colour}">'
                           f'<title>{d.day.isoformat()}: {count} {escape(what)}</title></rect>')
        fpy = f.first_pass_yield
        if fpy is not None:
            points.append((x + bar / 2, top + h * (1 - fpy), d, fpy))
        if len(days) <= 16 or i % max(1, len(days) // 8) == 0:
            out.append(f'<text x="{_n(x + bar / 2)}" y="{height - 10}" text-anchor="middle" font-size="11" '
                       f'fill="{MUTED}">{d.day.strftime("%m-%d")}</text>')
    if points:
        out.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="'
                   + " ".join(f"{_n(px)},{_n(py)}" for px, py, _, _ in points) + '"/>')
        for px, py, d, fpy in points:
            tip = _("{day}: first-pass yield {percent}").format(day=d.day.isoformat(), percent=f"{fpy:.1%}")
            out.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="3" fill="{LINE}"><title>{escape(tip)}</title></circle>')
    out.append("</svg>")
    return Markup("".join(out))


def pareto_chart(faults: Sequence[FaultCount], *, width: int = 720) -> Markup:
    """One horizontal bar per fault code, most first, with its count and the cumulative share."""
    if not faults:
        return Markup('<p class="empty">{}</p>').format(_("no failures"))
    row, left, count_w = 24, 190, 90
    height = row * len(faults) + 8
    most = max(f.runs for f in faults) or 1
    total = sum(f.runs for f in faults) or 1
    w = width - left - count_w
    label = _("failure pareto")
    out = [f'<svg class="chart pareto" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">']
    cumulative = 0
    for i, f in enumerate(faults):
        cumulative += f.runs
        y = 4 + i * row
        bw = max(2.0, w * f.runs / most)
        code = escape(f.fault)
        tip = _("{fault}: {n} FAIL run(s)").format(fault=f.fault, n=f.runs)
        cum = _("cum {percent}").format(percent=f"{cumulative / total:.0%}")
        out.append(f'<g class="bar" data-fault="{code}" data-count="{f.runs}">'
                   f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#1f2328">{code}</text>'
                   f'<rect x="{left}" y="{y + 3}" width="{_n(bw)}" height="{row - 8}" rx="2" fill="{FAIL}">'
                   f'<title>{escape(tip)}</title></rect>'
                   f'<text class="count" x="{_n(left + bw + 6)}" y="{y + 16}" font-size="13" fill="#1f2328">{f.runs}</text>'
                   f'<text x="{width - 4}" y="{y + 16}" text-anchor="end" font-size="11" fill="{MUTED}">'
                   f'{escape(cum)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def sparkline(points: Sequence[TrendPoint], *, width: int = 220, height: int = 44) -> Markup:
    """A measurement's values over time, oldest first, with its limits dashed and outliers in red."""
    if not points:
        return Markup("")
    values = [p.value for p in points]
    lo_lim, hi_lim = points[-1].limit_min, points[-1].limit_max
    span = [*values, *(v for v in (lo_lim, hi_lim) if v is not None)]
    lo, hi = min(span), max(span)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    pad = 4

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (1 - (v - lo) / (hi - lo))

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / max(1, len(points) - 1))

    out = [f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'xmlns="http://www.w3.org/2000/svg">']
    for lim in (lo_lim, hi_lim):
        if lim is not None:
            out.append(f'<line x1="0" x2="{width}" y1="{_n(y(lim))}" y2="{_n(y(lim))}" stroke="{MUTED}" '
                       f'stroke-dasharray="3 3"/>')
    out.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="1.5" points="'
               + " ".join(f"{_n(x(i))},{_n(y(v))}" for i, v in enumerate(values)) + '"/>')
    for i, p in enumerate(points):
        colour = LINE if p.passed else FAIL
        out.append(f'<circle cx="{_n(x(i))}" cy="{_n(y(p.value))}" r="2" fill="{colour}">'
                   f'<title>{escape(p.at.strftime("%Y-%m-%d %H:%M"))}: {p.value:g}</title></circle>')
    out.append("</svg>")
    return Markup("".join(out))
