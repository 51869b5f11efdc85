"""The run as one self-contained HTML page for a person (``report.html``).

Verdict and diagnosis first, then the unit and the run, then every step with its
measurements drawn against their limits, its attachments (images inline as ``data:``
URIs) and, for failed steps, the log excerpt; last, when a store is given, the unit's
history of each numeric measurement as a sparkline with its limits.

The page has no script and no external reference: CSS is inline, charts are inline
SVG, and a Content-Security-Policy forbids the browser to fetch anything. Every text
that came from the device or the record is escaped with :func:`html.escape` and
PAN-redacted. The output depends only on the record (and the store's history up to
the run), so rendering a run twice gives the same bytes.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bench.measure import Measurement
from bench.record import AttachmentRecord, Finding, Outcome, RunRecord, StepRecord
from bench.reports.format import drift, fmt_time, fmt_value, is_number, outside, redacted, run_duration
from bench.reports.style import COLOURS as _COLOURS
from bench.reports.style import CSS as _CSS
from bench.soak.record import SUMMARY_MIME, rate_points, soak_summary

if TYPE_CHECKING:
    from bench.store.history import RunHistory, TrendPoint

#: Sparkline length: the last N values of each measurement for this unit.
TREND_POINTS = 20
#: Log lines shown for a failed step (the last ones).
LOG_EXCERPT_LINES = 40
#: Attachments shown as images (raster only: an SVG could carry script).
_IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_BAD = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT)


def render_html(rec: RunRecord, history: RunHistory | None = None, *, trend_points: int = TREND_POINTS) -> str:
    """The report page of ``rec``.

    Args:
        rec: the run (redacted here, so callers need not).
        history: the unit's past (read-only) for its trends; ``None`` leaves the section out.
        trend_points: how many of the unit's last values each sparkline shows.
    """
    rec = redacted(rec)
    unit = rec.unit
    who = " ".join(x for x in (unit.model, unit.serial) if x) if unit else "unknown unit"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="bench {_e(rec.bench_version)}">',
        f"<title>{_e(rec.verdict.value)} · {_e(who)} · {_e(rec.plan_name)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        _header(rec, who),
        '<main>',
        _diagnosis(rec.findings, rec),
        *_soaks(rec.steps),
        _failed(rec.steps),
        _facts(rec),
    ]
    if history is not None:
        parts.append(_trends(rec, history, trend_points))
    parts += [
        _steps(rec.steps),
        "</main>",
        f'<footer>Run {_e(rec.run_id)} · rendered by bench {_e(rec.bench_version)} from the run record '
        f"(schema bench.run/1). Times are UTC.</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- sections


def _header(rec: RunRecord, who: str) -> str:
    v = rec.verdict.value
    counts = _counts(rec.steps)
    unit = rec.unit
    if unit is None:
        sub = "unit not identified"
    else:
        sub = f"firmware {_e(unit.firmware or '-')} · hardware rev. {_e(unit.hw_revision or '-')}"
    return (
        f'<header class="top" style="--c:{_COLOURS.get(v, "#57606a")}">'
        f'<div class="verdict">{_e(v)}</div>'
        f'<div class="headline"><h1>{_e(who)}</h1>'
        f'<p class="summary">{_e(rec.summary or v.lower()).replace(" -&gt; ", " → ")}</p>'
        f'<p class="meta">{sub} · plan {_e(rec.plan_name)} {_e(rec.plan_version)} · station {_e(rec.station)}'
        f" · {_e(fmt_time(rec.started_at))} · {counts}</p></div>"
        "</header>"
    )


def _counts(steps: Sequence[StepRecord]) -> str:
    out = []
    for o in Outcome:
        n = sum(s.outcome == o for s in steps)
        if n:
            out.append(f'<span class="pill" style="--c:{_COLOURS[o.value]}">{n} {o.value.lower()}</span>')
    return " ".join(out) or "no steps"


def _diagnosis(findings: Sequence[Finding], rec: RunRecord) -> str:
    if not findings:
        text = "No fault found: every step ran and passed." if rec.verdict.value == "PASS" else "No finding recorded."
        return f'<section class="diagnosis"><h2>Diagnosis</h2><p class="ok">{_e(text)}</p></section>'
    cards = []
    for i, f in enumerate(findings, 1):
        whose = "unit" if f.in_unit else "operator" if f.category == "operator" else "bench"
        whose_text = {"unit": "fault in the unit", "bench": "fault in the bench, not the unit",
                      "operator": "not tested: an operator decision, not a fault in the unit"}[whose]
        rows = [("Suspected part", _e(f.part)), ("Action", _e(f.action))]
        if f.steps:
            links = [f'<a href="#step-{_e(_slug(s))}">{_e(s)}</a>' for s in f.steps]
            rows.append(("Seen in", ", ".join(links)))
        if f.consequences:
            rows.append(("Not tested because of it", _e(", ".join(f.consequences))))
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        cards.append(
            f'<div class="finding {whose}"><div class="fhead"><span class="rank">{i}</span>'
            f'<code class="fault">{_e(f.fault)}</code> <strong>{_e(f.title)}</strong>'
            f'<span class="tag {whose}">{_e(whose_text)}</span>'
            f'<span class="tag">{_e(f.category)}</span></div>'
            f"<dl>{dl}</dl></div>"
        )
    return f'<section class="diagnosis"><h2>Diagnosis</h2>{"".join(cards)}</section>'


def _facts(rec: RunRecord) -> str:
    unit = rec.unit
    duration = run_duration(rec)
    rows: list[tuple[str, str]] = [
        ("Model", unit.model if unit else "-"),
        ("Serial number", unit.serial if unit else "-"),
        ("Hardware revision", (unit.hw_revision or "-") if unit else "-"),
        ("Firmware", (unit.firmware or "-") if unit else "-"),
        ("Plan", f"{rec.plan_name} {rec.plan_version}"),
        ("Plan hash", rec.plan_hash[:16]),
        ("Station", rec.station if rec.slot is None else f"{rec.station}, slot {rec.slot}"),
        ("Operator", rec.operator),
        ("Started", fmt_time(rec.started_at)),
        ("Ended", fmt_time(rec.ended_at)),
        ("Duration", f"{duration:.2f} s" if duration is not None else "-"),
        ("Run", rec.run_id),
    ]
    if rec.scenario:
        rows.append(("Scenario (simulated)", rec.scenario))
    if rec.lot:
        rows.append(("Lot", rec.lot))
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in rows)
    return f'<section class="facts"><h2>Unit and run</h2><dl class="grid">{cells}</dl></section>'


def _failed(steps: Sequence[StepRecord]) -> str:
    bad = [s for s in steps if s.outcome in _BAD]
    if not bad:
        return ""
    return f'<section class="failed"><h2>What failed</h2>{"".join(_step(s) for s in bad)}</section>'


def _steps(steps: Sequence[StepRecord]) -> str:
    rows = []
    for s in steps:
        rows.append(
            f'<tr><td class="num">{s.index + 1}</td>'
            f'<td><a href="#step-{_e(_slug(s.name))}">{_e(s.name)}</a></td>'
            f"<td><code>{_e(s.check)}</code></td><td>{_badge(s.outcome.value)}</td>"
            f'<td class="num">{s.duration_s:.2f} s</td><td>{_e(s.fault or "")}</td></tr>'
        )
    table = (
        '<table class="overview"><thead><tr><th>#</th><th>Step</th><th>Check</th><th>Result</th>'
        f'<th>Time</th><th>Fault</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    details = "".join(_step(s, anchor=False) if s.outcome in _BAD else _step(s) for s in steps)
    return f'<section class="steps"><h2>All steps</h2>{table}{details}</section>'


def _step(s: StepRecord, *, anchor: bool = True) -> str:
    """A step's card; failed steps appear twice (under "What failed" and in order), anchored once."""
    o = s.outcome.value
    failed = s.outcome in _BAD
    head = (
        f'<h3><span class="idx">{s.index + 1}</span> {_e(s.name)} {_badge(o)}'
        f'<span class="check">{_e(s.check)} · {s.duration_s:.3f} s'
        f'{f" · {s.attempts} attempts" if s.attempts > 1 else ""}</span></h3>'
    )
    body = [head]
    if s.message:
        body.append(f'<p class="message">{_e(s.message)}</p>')
    if s.measurements:
        body.append(_measurements(s.measurements))
    for a in s.attachments:
        body.append(_attachment(a))
    if s.log:
        lines = s.log[-LOG_EXCERPT_LINES:] if failed else s.log
        cut = len(s.log) - len(lines)
        plural = "line" if len(s.log) == 1 else "lines"
        note = f"log (last {len(lines)} of {len(s.log)} lines)" if cut else f"log ({len(s.log)} {plural})"
        pre = f'<pre class="log">{_e(chr(10).join(lines))}</pre>'
        if failed:
            body.append(f'<div class="logbox"><div class="loghead">{note}</div>{pre}</div>')
        else:
            body.append(f"<details><summary>{note}</summary>{pre}</details>")
    ident = f' id="step-{_e(_slug(s.name))}"' if anchor else ""
    return (
        f'<article class="step"{ident} '
        f'style="--c:{_COLOURS.get(o, "#57606a")}">'
        f'{"".join(body)}</article>'
    )


def _name_cell(m: Measurement) -> str:
    """A failed measurement leads with what it means for the unit; its name stays beneath."""
    if m.passed or not m.message:
        return _e(m.name)
    return f'{_e(m.message)}<br><small>{_e(m.name)}</small>'


def _measurements(ms: Iterable[Measurement]) -> str:
    rows = []
    for m in ms:
        unit = f" {m.unit}" if m.unit else ""
        ok = "PASS" if m.passed else "FAIL"
        expected = m.limit.describe() if m.limit else "-"
        chart = _gauge(m) if m.limit is not None else ""
        rows.append(
            f'<tr class="{"" if m.passed else "bad"}"><td>{_name_cell(m)}</td>'
            f'<td class="value">{_e(fmt_value(m.value))}{_e(unit)}</td><td>{_e(expected)}</td>'
            f'<td class="chart">{chart}</td><td>{_badge(ok, small=True) if m.limit else ""}</td></tr>'
        )
    return (
        '<table class="measurements"><thead><tr><th>Measurement</th><th>Value</th><th>Limit</th>'
        f'<th></th><th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _soaks(steps: Sequence[StepRecord]) -> list[str]:
    """A soak step's charts, once, near the top (a failed step is shown twice below)."""
    out = []
    for s in steps:
        summary = soak_summary(s)
        if summary is not None:
            from bench.reports.soakchart import soak_section

            out.append(soak_section(summary, rate_points(summary)))
    return out


def _attachment(a: AttachmentRecord) -> str:
    if a.mime == SUMMARY_MIME:
        return '<p class="attachment">The soak\'s figures are drawn in the Soak section above.</p>'
    if a.mime in _IMAGE_MIMES:
        data = base64.b64encode(a.data).decode("ascii")
        return (
            f'<figure class="attachment"><img src="data:{a.mime};base64,{data}" alt="{_e(a.name)}">'
            f"<figcaption>{_e(a.name)}</figcaption></figure>"
        )
    if a.mime.startswith("text/"):
        text = a.data.decode("utf-8", errors="replace")
        return (f'<figure class="attachment"><figcaption>{_e(a.name)}</figcaption>'
                f'<pre class="log">{_e(text)}</pre></figure>')
    return f'<p class="attachment">Attachment {_e(a.name)} ({_e(a.mime)}, {len(a.data)} bytes) not shown.</p>'


def _trends(rec: RunRecord, history: RunHistory, n: int) -> str:
    if rec.unit is None:
        return ""
    until = rec.ended_at or max((s.started_at for s in rec.steps), default=rec.started_at)
    seen: set[str] = set()
    cards: list[tuple[bool, bool, str]] = []
    for s in rec.steps:
        for m in s.measurements:
            if m.name in seen or not is_number(m.value):
                continue
            seen.add(m.name)
            points = [p for p in history.trend(m.name, serial=rec.unit.serial) if p.at <= until][-n:]
            if len(points) >= 2:
                cards.append(_trend_card(m, points, rec.run_id))
    # Drifting first, then the measurements with limits, each group in plan order.
    cards.sort(key=lambda c: (not c[0], not c[1]))
    head = (
        f'<h2>History of this unit</h2><p class="note">The last {n} values of each numeric measurement '
        f"for serial {_e(rec.unit.serial)} on record up to this run; the band is the allowed range.</p>"
    )
    if not cards:
        none = '<p class="ok">No earlier values on record for this unit.</p>'
        return f'<section class="trends">{head}{none}</section>'
    return f'<section class="trends">{head}<div class="cards">{"".join(c[2] for c in cards)}</div></section>'


def _trend_card(m: Measurement, points: Sequence[TrendPoint], run_id: str) -> tuple[bool, bool, str]:
    """(drift warning, has limits, the card's HTML)."""
    lo, hi = points[-1].limit_min, points[-1].limit_max
    d = drift([p.value for p in points], lo, hi, [p.passed for p in points])
    unit = f" {m.unit}" if m.unit else ""
    status = f'<p class="drift {"warn" if d.warning else ""}">{"⚠ " if d.warning else ""}{_e(d.message)}</p>'
    values = [p.value for p in points]
    return d.warning, lo is not None or hi is not None, (
        f'<div class="trend"><div class="thead"><strong>{_e(m.name)}</strong>'
        f'<span>{len(points)} values · {min(values):g}…{max(values):g}{_e(unit)}</span></div>'
        f"{_sparkline(points, run_id)}{status}</div>"
    )


# --------------------------------------------------------------------------- charts


def _gauge(m: Measurement) -> str:
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
    parts = [
        f'<svg class="gauge" width="{w:.0f}" height="34" viewBox="0 0 {w:.0f} 34" role="img" '
        f'aria-label="{_e(m.name)} {_e(fmt_value(value))} against {_e(limit.describe())}">',
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


def _sparkline(points: Sequence[TrendPoint], run_id: str) -> str:
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


# --------------------------------------------------------------------------- small helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _badge(outcome: str, *, small: bool = False) -> str:
    cls = "badge small" if small else "badge"
    return f'<span class="{cls}" style="--c:{_COLOURS.get(outcome, "#57606a")}">{_e(outcome)}</span>'




__all__ = ["TREND_POINTS", "render_html"]
