"""The run as one self-contained HTML page for a person (``report.html``).

Verdict and diagnosis first, then the unit and the run, then every step with its
measurements drawn against their limits, its attachments (images inline as ``data:``
URIs) and, for failed steps, the log excerpt; last, when a store is given, the unit's
history of each numeric measurement as a sparkline with its limits.

The page has no script and no external reference: CSS is inline, charts are inline
SVG, the CJK font of a Chinese report is embedded as ``data:`` (:mod:`.fonts`), and a
Content-Security-Policy forbids the browser to fetch anything. Every word is in the
current language (the caller picks it: :func:`bench.reports.render.render`). Every text
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
from bench.record import SCHEMA_VERSION, AttachmentRecord, Finding, Outcome, RunRecord, StepRecord
from bench.reports.charts import gauge, sparkline
from bench.reports.format import drift, fmt_seconds, fmt_time, fmt_value, is_number, redacted, run_duration
from bench.reports.style import COLOURS as _COLOURS
from bench.reports.style import page
from bench.reports.words import category_word, outcome_word, verdict_word
from bench.soak.record import SUMMARY_MIME, rate_points, soak_summary
from drivers.i18n import _, ngettext, tr

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
    """The report page of ``rec``, in the current language.

    Args:
        rec: the run (redacted here, so callers need not).
        history: the unit's past (read-only) for its trends; ``None`` leaves the section out.
        trend_points: how many of the unit's last values each sparkline shows.
    """
    rec = redacted(rec)
    unit = rec.unit
    who = " ".join(x for x in (unit.model, unit.serial) if x) if unit else _("unknown unit")
    body = [
        _header(rec, who),
        "<main>",
        _diagnosis(rec.findings, rec),
        *_soaks(rec.steps),
        _failed(rec.steps),
        _facts(rec),
    ]
    if history is not None:
        body.append(_trends(rec, history, trend_points))
    body += [
        _steps(rec.steps),
        "</main>",
        "<footer>" + _e(_("Run {run} · rendered by bench {version} from the run record (schema {schema}). "
                          "Times are UTC.").format(run=rec.run_id, version=rec.bench_version,
                                                   schema=f"bench.run/{SCHEMA_VERSION}")) + "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    title = f"{verdict_word(rec.verdict.value)} · {who} · {rec.plan_name}"
    return page(title, body, generator=f"bench {rec.bench_version}")


# --------------------------------------------------------------------------- sections


def _header(rec: RunRecord, who: str) -> str:
    v = rec.verdict.value
    counts = _counts(rec.steps)
    unit = rec.unit
    if unit is None:
        sub = _("unit not identified")
    else:
        sub = _("firmware {firmware} · hardware rev. {revision}").format(firmware=unit.firmware or "-",
                                                                        revision=unit.hw_revision or "-")
    plan = _("plan {name} {version} · station {station}").format(name=rec.plan_name, version=rec.plan_version,
                                                                 station=rec.station)
    return (
        f'<header class="top" style="--c:{_COLOURS.get(v, "#57606a")}">'
        f'<div class="verdict">{_e(verdict_word(v))}</div>'
        f'<div class="headline"><h1>{_e(who)}</h1>'
        f'<p class="summary">{_e(tr(rec.summary) or outcome_word(v)).replace(" -&gt; ", " → ")}</p>'
        f'<p class="meta">{_e(sub)} · {_e(plan)} · {_e(fmt_time(rec.started_at))} · {counts}</p></div>'
        "</header>"
    )


def _counts(steps: Sequence[StepRecord]) -> str:
    out = []
    for o in Outcome:
        n = sum(s.outcome == o for s in steps)
        if n:
            out.append(f'<span class="pill" style="--c:{_COLOURS[o.value]}">{n} {_e(outcome_word(o.value))}</span>')
    return " ".join(out) or _e(_("no steps"))


def _h2(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def _section(cls: str, heading: str, content: str) -> str:
    return f'<section class="{cls}">{_h2(heading)}{content}</section>'


def _diagnosis(findings: Sequence[Finding], rec: RunRecord) -> str:
    if not findings:
        text = (_("No fault found: every step ran and passed.") if rec.verdict.value == "PASS"
                else _("No finding recorded."))
        return _section("diagnosis", _("Diagnosis"), f'<p class="ok">{_e(text)}</p>')
    cards = []
    for i, f in enumerate(findings, 1):
        whose = "unit" if f.in_unit else "operator" if f.category == "operator" else "bench"
        whose_text = {"unit": _("fault in the unit"), "bench": _("fault in the bench, not the unit"),
                      "operator": _("not tested: an operator decision, not a fault in the unit")}[whose]
        rows = [(_("Suspected part"), _e(tr(f.part))), (_("Action"), _e(tr(f.action)))]
        if f.steps:
            links = [f'<a href="#step-{_e(_slug(s))}">{_e(s)}</a>' for s in f.steps]
            rows.append((_("Seen in"), ", ".join(links)))
        if f.consequences:
            rows.append((_("Not tested because of it"), _e(", ".join(f.consequences))))
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
        cards.append(
            f'<div class="finding {whose}"><div class="fhead"><span class="rank">{i}</span>'
            f'<code class="fault">{_e(f.fault)}</code> <strong>{_e(tr(f.title))}</strong>'
            f'<span class="tag {whose}">{_e(whose_text)}</span>'
            f'<span class="tag">{_e(category_word(f.category))}</span></div>'
            f"<dl>{dl}</dl></div>"
        )
    return _section("diagnosis", _("Diagnosis"), "".join(cards))


def _facts(rec: RunRecord) -> str:
    unit = rec.unit
    duration = run_duration(rec)
    station = rec.station if rec.slot is None else _("{station}, slot {slot}").format(station=rec.station,
                                                                                      slot=rec.slot)
    rows: list[tuple[str, str]] = [
        (_("Model"), unit.model if unit else "-"),
        (_("Serial number"), unit.serial if unit else "-"),
        (_("Hardware revision"), (unit.hw_revision or "-") if unit else "-"),
        (_("Firmware"), (unit.firmware or "-") if unit else "-"),
        (_("Plan"), f"{rec.plan_name} {rec.plan_version}"),
        (_("Plan hash"), rec.plan_hash[:16]),
        (_("Station"), station),
        (_("Operator"), rec.operator),
        (_("Started"), fmt_time(rec.started_at)),
        (_("Ended"), fmt_time(rec.ended_at)),
        (_("Duration"), fmt_seconds(duration) if duration is not None else "-"),
        (_("Run"), rec.run_id),
    ]
    if rec.scenario:
        rows.append((_("Scenario (simulated)"), rec.scenario))
    if rec.lot:
        rows.append((_("Lot"), rec.lot))
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in rows)
    return _section("facts", _("Unit and run"), f'<dl class="grid">{cells}</dl>')


def _failed(steps: Sequence[StepRecord]) -> str:
    bad = [s for s in steps if s.outcome in _BAD]
    if not bad:
        return ""
    return _section("failed", _("What failed"), "".join(_step(s) for s in bad))


def _th(*names: str) -> str:
    return "".join(f"<th>{_e(n)}</th>" for n in names)


def _steps(steps: Sequence[StepRecord]) -> str:
    rows = []
    for s in steps:
        rows.append(
            f'<tr><td class="num">{s.index + 1}</td>'
            f'<td><a href="#step-{_e(_slug(s.name))}">{_e(s.name)}</a></td>'
            f"<td><code>{_e(s.check)}</code></td><td>{_badge(s.outcome.value)}</td>"
            f'<td class="num">{_e(fmt_seconds(s.duration_s))}</td><td>{_e(s.fault or "")}</td></tr>'
        )
    head = _th("#", _("Step"), _("Check"), _("Result"), _("Time"), _("Fault"))
    table = f'<table class="overview"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    details = "".join(_step(s, anchor=False) if s.outcome in _BAD else _step(s) for s in steps)
    return _section("steps", _("All steps"), table + details)


def _step(s: StepRecord, *, anchor: bool = True) -> str:
    """A step's card; failed steps appear twice (under "What failed" and in order), anchored once."""
    o = s.outcome.value
    failed = s.outcome in _BAD
    attempts = (" · " + _("{n} attempts").format(n=s.attempts)) if s.attempts > 1 else ""
    head = (
        f'<h3><span class="idx">{s.index + 1}</span> {_e(s.name)} {_badge(o)}'
        f'<span class="check">{_e(s.check)} · {_e(fmt_seconds(s.duration_s, 3))}{_e(attempts)}</span></h3>'
    )
    body = [head]
    if s.message:
        body.append(f'<p class="message">{_e(tr(s.message))}</p>')
    if s.measurements:
        body.append(_measurements(s.measurements))
    for a in s.attachments:
        body.append(_attachment(a))
    if s.log:
        lines = s.log[-LOG_EXCERPT_LINES:] if failed else s.log
        if len(lines) < len(s.log):
            note = _("log (last {shown} of {total} lines)").format(shown=len(lines), total=len(s.log))
        else:
            note = ngettext("log ({n} line)", "log ({n} lines)", len(s.log)).format(n=len(s.log))
        pre = f'<pre class="log">{_e(chr(10).join(lines))}</pre>'
        if failed:
            body.append(f'<div class="logbox"><div class="loghead">{_e(note)}</div>{pre}</div>')
        else:
            body.append(f"<details><summary>{_e(note)}</summary>{pre}</details>")
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
    return f'{_e(tr(m.message))}<br><small>{_e(m.name)}</small>'


def _measurements(ms: Iterable[Measurement]) -> str:
    rows = []
    for m in ms:
        unit = f" {m.unit}" if m.unit else ""
        ok = "PASS" if m.passed else "FAIL"
        expected = tr(m.limit.describe()) if m.limit else "-"
        chart = gauge(m) if m.limit is not None else ""
        rows.append(
            f'<tr class="{"" if m.passed else "bad"}"><td>{_name_cell(m)}</td>'
            f'<td class="value">{_e(fmt_value(m.value))}{_e(unit)}</td><td>{_e(expected)}</td>'
            f'<td class="chart">{chart}</td><td>{_badge(ok, small=True) if m.limit else ""}</td></tr>'
        )
    head = _th(_("Measurement"), _("Value"), _("Limit"), "", "")
    return f'<table class="measurements"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


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
        return '<p class="attachment">' + _e(_("The soak figures are drawn in the Soak section above.")) + "</p>"
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
    note = _("Attachment {name} ({mime}, {size} bytes) not shown.").format(name=a.name, mime=a.mime, size=len(a.data))
    return f'<p class="attachment">{_e(note)}</p>'


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
    note = _("The last {n} values of each numeric measurement for serial {serial} on record up to this run; "
             "the band is the allowed range.").format(n=n, serial=rec.unit.serial)
    head = _h2(_("History of this unit")) + f'<p class="note">{_e(note)}</p>'
    if not cards:
        none = '<p class="ok">' + _e(_("No earlier values on record for this unit.")) + "</p>"
        return f'<section class="trends">{head}{none}</section>'
    return f'<section class="trends">{head}<div class="cards">{"".join(c[2] for c in cards)}</div></section>'


def _trend_card(m: Measurement, points: Sequence[TrendPoint], run_id: str) -> tuple[bool, bool, str]:
    """(drift warning, has limits, the card's HTML)."""
    lo, hi = points[-1].limit_min, points[-1].limit_max
    d = drift([p.value for p in points], lo, hi, [p.passed for p in points])
    unit = f" {m.unit}" if m.unit else ""
    status = f'<p class="drift {"warn" if d.warning else ""}">{"⚠ " if d.warning else ""}{_e(tr(d.message))}</p>'
    values = [p.value for p in points]
    span = _("{n} values · {low}…{high}{unit}").format(n=len(points), low=f"{min(values):g}", high=f"{max(values):g}",
                                                       unit=unit)
    return d.warning, lo is not None or hi is not None, (
        f'<div class="trend"><div class="thead"><strong>{_e(m.name)}</strong>'
        f"<span>{_e(span)}</span></div>"
        f"{sparkline(points, run_id)}{status}</div>"
    )


# --------------------------------------------------------------------------- small helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _badge(outcome: str, *, small: bool = False) -> str:
    cls = "badge small" if small else "badge"
    return f'<span class="{cls}" style="--c:{_COLOURS.get(outcome, "#57606a")}">{_e(verdict_word(outcome))}</span>'




__all__ = ["TREND_POINTS", "render_html"]
