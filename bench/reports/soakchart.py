"""The soak's charts for the HTML report: inline SVG drawn from the tally's summary, nothing else.

* :func:`latency_chart`: p50 and p95 of the whole sale (``total_ms``) per minute of soak time,
  and, on a right-hand axis, the profile's arrival rate (arrivals per minute) when given;
* :func:`throughput_chart`: sales per minute, stacked approved / declined / failed;
* :func:`failures_chart`: failed sales by cause, horizontal bars, most frequent first;
* :func:`soak_section`: the three as one report section.

Each is a pure function of the summary (:meth:`bench.soak.stats.SoakTally.summary`): no script,
no external reference, and every text escaped (a cause comes from the unit). The look is the
report's (:mod:`bench.reports.style`): its outcome colours, its muted axis text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bench.i18n.layout import display_width
from bench.reports.style import COLOURS
from drivers.i18n import _

WIDTH, HEIGHT = 640.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 52.0, 52.0, 26.0, 38.0
#: Most bars in the throughput chart; longer soaks are shown in groups of minutes (per-minute means).
MAX_BARS = 120
P50_COLOUR, P95_COLOUR, RATE_COLOUR = "#0969da", "#bc4c00", "#6e7781"
_AXIS = "#d1d9e0"


def latency_chart(summary: Mapping[str, Any], rate: Sequence[tuple[float, float]] | None = None) -> str:
    """p50/p95 of ``total_ms`` per minute of soak time; ``rate``: the profile's (at_s, per_minute) points."""
    minutes = summary.get("minutes") or []
    span = _span_min(summary, rate)
    values = [v for m in minutes for v in (m.get("total_ms_p50"), m.get("total_ms_p95")) if v is not None]
    y_max = _nice_top(max(values, default=0.0))
    x = _x_scale(span)
    y = _y_scale(y_max)
    label = (_("Whole sale time (total_ms) per minute of soak time: p50 and p95, with the arrival rate") if rate
             else _("Whole sale time (total_ms) per minute of soak time: p50 and p95"))
    parts = [_open("latency", label)]
    parts += _y_axis(y_max, y, _("total time (ms)"), left=True)
    parts += _x_axis(span, x, _("soak time (min)"))
    for key, cls, colour in (("total_ms_p50", "p50", P50_COLOUR), ("total_ms_p95", "p95", P95_COLOUR)):
        points = [(x(m["minute"] + 0.5), y(m[key])) for m in minutes if m.get(key) is not None]
        parts.append(_series(points, cls, colour, breaks=_gaps(minutes, key)))
    legend = [("p50", P50_COLOUR, False), ("p95", P95_COLOUR, False)]
    if rate:
        r_max = _nice_top(max(r for _, r in rate))
        ry = _y_scale(r_max)
        parts += _y_axis(r_max, ry, _("arrivals per minute"), left=False)
        pts = sorted(rate)
        if pts[0][0] > 0:
            pts.insert(0, (0.0, pts[0][1]))
        if pts[-1][0] < span * 60:
            pts.append((span * 60, pts[-1][1]))
        line = " ".join(f"{x(t / 60):.1f},{ry(r):.1f}" for t, r in pts)
        parts.append(f'<polyline class="rate" points="{line}" fill="none" stroke="{RATE_COLOUR}" '
                     'stroke-width="1.5" stroke-dasharray="5 3"/>')
        legend.append((_("arrival rate"), RATE_COLOUR, True))
    if not values:
        parts.append(_empty(_("no completed sale")))
    parts.append(_legend(legend))
    parts.append("</svg>")
    return "".join(parts)


def throughput_chart(summary: Mapping[str, Any]) -> str:
    """Sales per minute of soak time, stacked approved / declined / failed."""
    minutes = summary.get("minutes") or []
    span = _span_min(summary, None)
    group = max(1, math.ceil(span / MAX_BARS))
    bars: dict[int, list[float]] = {}
    for m in minutes:
        row = bars.setdefault(m["minute"] // group, [0.0, 0.0, 0.0])
        for i, key in enumerate(("approved", "declined", "failed")):
            row[i] += m.get(key, 0) / group
    y_max = _nice_top(max((sum(r) for r in bars.values()), default=0.0))
    x = _x_scale(span)
    y = _y_scale(y_max)
    label = _("sales per minute") if group == 1 else _("sales per minute ({n}-min means)").format(n=group)
    parts = [_open("throughput", _("Sales per minute of soak time: approved, declined and failed"))]
    parts += _y_axis(y_max, y, label, left=True)
    parts += _x_axis(span, x, _("soak time (min)"))
    colours = (COLOURS["PASS"], COLOURS["TIMEOUT"], COLOURS["FAIL"])
    names = ("approved", "declined", "failed")
    shown = (_("approved"), _("declined"), _("failed"))
    for index, row in sorted(bars.items()):
        x0, x1 = x(index * group), x(min((index + 1) * group, span))
        width = max(x1 - x0 - (1.0 if x1 - x0 > 3 else 0.0), 0.5)
        base = 0.0
        when = (_("minute {n}").format(n=index) if group == 1 else
                _("minutes {first}-{last}").format(first=index * group, last=(index + 1) * group - 1))
        for value, colour, name, word in zip(row, colours, names, shown, strict=True):
            if value <= 0:
                continue
            top, bottom = y(base + value), y(base)
            parts.append(f'<rect class="{name}" x="{x0:.1f}" y="{top:.1f}" width="{width:.1f}" '
                         f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}">'
                         f"<title>{_e(_tip(when, value, word, group))}</title></rect>")
            base += value
    if not bars:
        parts.append(_empty(_("no sale")))
    parts.append(_legend([(n, c, False) for n, c in zip(shown, colours, strict=True)]))
    parts.append("</svg>")
    return "".join(parts)


def failures_chart(summary: Mapping[str, Any]) -> str:
    """Failed sales by cause, most frequent first (a short chart saying so when none failed)."""
    causes = sorted((summary.get("failures_by_cause") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    row, label_w = 20.0, 150.0
    height = TOP + max(len(causes), 1) * row + 10
    parts = [_open("failures", _("Failed sales by cause"), height=height)]
    title = _e(_("failed sales by cause (count)"))
    parts.append(f'<text class="title" x="{LEFT:.1f}" y="14">{title}</text>')
    if not causes:
        none = _e(_("no failed sale"))
        parts.append(f'<text class="none" x="{LEFT:.1f}" y="{TOP + 12:.1f}">{none}</text></svg>')
        return "".join(parts)
    top = max(n for _, n in causes)
    x0, x1 = LEFT + label_w, WIDTH - RIGHT - 40
    for i, (cause, n) in enumerate(causes):
        yy = TOP + i * row
        w = max((x1 - x0) * n / top, 1.0)
        parts.append(f'<text class="cause" x="{x0 - 6:.1f}" y="{yy + 13:.1f}" text-anchor="end">'
                     f"{_e(_cut(cause, 28))}</text>")
        parts.append(f'<rect class="bar" x="{x0:.1f}" y="{yy + 3:.1f}" width="{w:.1f}" height="{row - 6:.1f}" '
                     f'fill="{COLOURS["FAIL"]}"><title>{_e(cause)}: {n}</title></rect>')
        parts.append(f'<text class="count" x="{x0 + w + 4:.1f}" y="{yy + 13:.1f}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def soak_section(summary: Mapping[str, Any], rate: Sequence[tuple[float, float]] | None = None) -> str:
    """The soak's charts as one report section (HTML)."""
    figures = (
        (_("Latency over soak time"), latency_chart(summary, rate)),
        (_("Throughput"), throughput_chart(summary)),
        (_("Failures by cause"), failures_chart(summary)),
    )
    body = "".join(f'<figure class="soakchart">{svg}<figcaption>{_e(cap)}</figcaption></figure>'
                   for cap, svg in figures)
    return '<section class="soak"><h2>' + _e(_("Soak")) + f"</h2>{body}</section>"


# --------------------------------------------------------------------------- drawing helpers


def _open(cls: str, label: str, *, height: float = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="soak {cls}" width="{WIDTH:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH:.0f} {height:.0f}" role="img" aria-label="{_e(label)}">')


def _span_min(summary: Mapping[str, Any], rate: Sequence[tuple[float, float]] | None) -> float:
    """The x axis in minutes: every minute seen, and the rate curve's end."""
    minutes = summary.get("minutes") or []
    end = max(len(minutes), math.ceil(float(summary.get("soak_s") or 0) / 60))
    if rate:
        end = max(end, math.ceil(max(t for t, _ in rate) / 60))
    return float(max(end, 1))


def _x_scale(span: float) -> Any:
    def x(minute: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * minute / span

    return x


def _y_scale(top: float, height: float = HEIGHT) -> Any:
    def y(value: float) -> float:
        return height - BOTTOM - (height - BOTTOM - TOP) * value / top

    return y


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round ticks from 0 to ``top`` (steps of 1, 2 or 5 times a power of ten)."""
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    n = int(top / step + 1e-9)
    return [i * step for i in range(n + 1)]


def _nice_top(value: float) -> float:
    """The smallest round number at or above ``value`` (at least 1) that :func:`_ticks` ends on."""
    value = max(value, 1.0)
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * power >= value - 1e-9:
            return float(m * power)
    return float(10 * power)  # pragma: no cover - the loop always ends by 10 * power


def _y_axis(top: float, y: Any, title: str, *, left: bool) -> list[str]:
    xa = LEFT if left else WIDTH - RIGHT
    anchor, dx = ("end", -5) if left else ("start", 5)
    out = [f'<line x1="{xa:.1f}" y1="{TOP:.1f}" x2="{xa:.1f}" y2="{HEIGHT - BOTTOM:.1f}" stroke="{_AXIS}"/>']
    for v in _ticks(top):
        yy = y(v)
        if left:
            out.append(f'<line x1="{LEFT:.1f}" y1="{yy:.1f}" x2="{WIDTH - RIGHT:.1f}" y2="{yy:.1f}" '
                       f'stroke="{_AXIS}" stroke-width="0.5"/>')
        out.append(f'<text x="{xa + dx:.1f}" y="{yy + 3:.1f}" text-anchor="{anchor}">{_num(v)}</text>')
    tx = 12.0 if left else WIDTH - 10
    out.append(f'<text class="axis" x="{tx:.1f}" y="{(TOP + HEIGHT - BOTTOM) / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 {tx:.1f} {(TOP + HEIGHT - BOTTOM) / 2:.1f})">{_e(title)}</text>')
    return out


def _x_axis(span: float, x: Any, title: str) -> list[str]:
    base = HEIGHT - BOTTOM
    out = [f'<line x1="{LEFT:.1f}" y1="{base:.1f}" x2="{WIDTH - RIGHT:.1f}" y2="{base:.1f}" stroke="#8c959f"/>']
    for v in _ticks(span, 6):
        if v > span + 1e-9:
            continue
        out.append(f'<line x1="{x(v):.1f}" y1="{base:.1f}" x2="{x(v):.1f}" y2="{base + 4:.1f}" stroke="#8c959f"/>')
        out.append(f'<text x="{x(v):.1f}" y="{base + 14:.1f}" text-anchor="middle">{_num(v)}</text>')
    out.append(f'<text class="axis" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 6:.1f}" '
               f'text-anchor="middle">{_e(title)}</text>')
    return out


def _gaps(minutes: Sequence[Mapping[str, Any]], key: str) -> set[int]:
    """Indexes (in the drawn points) where a line must break: a minute without a value came before."""
    out: set[int] = set()
    drawn, last = 0, None
    for m in minutes:
        if m.get(key) is None:
            continue
        if last is not None and m["minute"] != last + 1:
            out.add(drawn)
        last, drawn = m["minute"], drawn + 1
    return out


def _series(points: Sequence[tuple[float, float]], cls: str, colour: str, *, breaks: set[int]) -> str:
    """A line through ``points``, broken before each index in ``breaks``; a lone point is a dot."""
    runs: list[list[tuple[float, float]]] = []
    for i, p in enumerate(points):
        if i == 0 or i in breaks:
            runs.append([])
        runs[-1].append(p)
    out = [f'<g class="{cls}">']
    for run in runs:
        if len(run) == 1:
            out.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="2" fill="{colour}"/>')
        else:
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in run)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    out.append("</g>")
    return "".join(out)


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    out, xx = ['<g class="legend">'], LEFT
    for name, colour, dashed in items:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{xx:.1f}" y1="12" x2="{xx + 16:.1f}" y2="12" stroke="{colour}" stroke-width="3"{dash}/>')
        out.append(f'<text x="{xx + 20:.1f}" y="15">{_e(name)}</text>')
        xx += 28 + 6 * display_width(name)
    out.append("</g>")
    return "".join(out)


def _empty(text: str) -> str:
    return (f'<text class="none" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{(TOP + HEIGHT - BOTTOM) / 2:.1f}" '
            f'text-anchor="middle">{_e(text)}</text>')


def _num(v: float) -> str:
    if v >= 10_000:
        return f"{v / 1000:g}k"
    return f"{round(v, 6):g}"


def _tip(when: str, value: float, word: str, group: int) -> str:
    if group == 1:
        return _("{when}: {value} {what}").format(when=when, value=f"{value:g}", what=word)
    return _("{when}: {value} {what} a minute").format(when=when, value=f"{value:g}", what=word)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


__all__ = ["failures_chart", "latency_chart", "soak_section", "throughput_chart"]
