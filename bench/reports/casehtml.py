"""The case report as one self-contained HTML page (``case.html``), in the run report's look.

Drawn from the data of :func:`bench.reports.case.build_case_report` (already PAN-redacted):
the result and the customer's summary first, then unit and complaint, intake, the timeline,
the judgement, the repair plan, before and after, parts and labour. No script, no external
reference (inline CSS from :mod:`bench.reports.style`, a Content-Security-Policy that lets the
browser fetch nothing); every stored or device text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from bench.controls import escape_controls
from bench.reports.case import CASE_SCHEMA, customer_text, iso_time, judgement_text, result_text, value_text
from bench.reports.style import COLOURS, html_lang, page
from bench.reports.words import case_word, verdict_word
from drivers.i18n import _, tr

#: Header colour of a case by how it stands.
_STATE_COLOURS = {"repaired": COLOURS["PASS"], "unrepaired": COLOURS["FAIL"], "returned": COLOURS["ABORTED"],
                  "open": COLOURS["RUNNING"]}
_CHANGE_CLASS = {"still failing": "bad", "new failure": "bad", "fixed": "fixed"}
_EXTRA_CSS = """
.customer{background:var(--bg);border:1px solid var(--line);border-left:6px solid #0969da;border-radius:6px;
  padding:12px 16px;margin:18px 0 0;font-size:16px}
table.measurements tr.fixed td{background:#f0fff4}table.measurements tr.fixed td.change{color:#1a7f37;font-weight:600}
table.measurements tr.bad td.change{color:#cf222e;font-weight:600}
.finding.resolved{border-left-color:#1a7f37}
tr.repair td{background:#f6f8fa}
""".strip()


def render_case_html(data: dict[str, Any], *, customer_lang: str | None = None) -> str:
    """The report page of a case (``data`` from :func:`~bench.reports.case.build_case_report`), in the current
    language; the summary for the customer in ``customer_lang`` (default: the same)."""
    c, u = data["case"], data["unit"]
    who = " ".join(x for x in (u["model"], u["serial"]) if x)
    state = c["result"] or c["status"]
    customer = _e(_("For the customer."))
    body = [
        _header(data, who, state),
        "<main>",
        f'<section class="customer" id="customer-summary"{_lang(customer_lang)}><strong>{customer}</strong> '
        f"{_e(customer_text(data, customer_lang))}</section>",
        _unit(data),
        _intake(data["intake"]),
        _timeline(data["timeline"]),
        _judgement(data["judgement"]),
        _plan(data["plan"], data["plan_after_failing_runs"]),
        _compare(data["before_after"]),
        _parts(data),
        '<section id="result">' + _h2(_("Result")) + f'<p>{_e(result_text(data["result"]).replace("**", ""))}</p></section>',
        "</main>",
        "<footer>" + _e(_("Case {case} · rendered by bench from the results store (schema {schema}). Times are UTC.")
                        .format(case=c["case"], schema=CASE_SCHEMA)) + "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    title = _("Case {case} · {unit} · {state}").format(case=c["case"], unit=who, state=case_word(state))
    return page(title, body, extra_css=_EXTRA_CSS)


def _lang(language: str | None) -> str:
    """The ``lang`` attribute of the customer's summary when it is not in the page's language."""
    return f' lang="{html_lang(language)}"' if language and html_lang(language) != html_lang() else ""


def _h2(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def _th(*names: str) -> str:
    return "".join(f"<th>{_e(n)}</th>" for n in names)


def _header(data: dict[str, Any], who: str, state: str) -> str:
    c, j = data["case"], data["judgement"]
    runs = len([t for t in data["timeline"] if t["kind"] == "run"])
    repairs = len([t for t in data["timeline"] if t["kind"] == "repair"])
    meta = _("verdict {verdict} · opened {when} by {who} · {runs} run(s), {repairs} repair(s)").format(
        verdict=case_word(j["verdict"]), when=iso_time(c["opened_at"]), who=c["opened_by"], runs=runs, repairs=repairs)
    heading = _("Case {case}: {unit}").format(case=c["case"], unit=who)
    return (f'<header class="top" style="--c:{_STATE_COLOURS.get(state, "#57606a")}">'
            f'<div class="verdict">{_e(case_word(state).upper())}</div>'
            f'<div class="headline"><h1>{_e(heading)}</h1>'
            f'<p class="summary">{_e(tr(j["summary"])).replace(" -&gt; ", " → ")}</p>'
            f'<p class="meta">{_e(meta)}</p></div></header>')


def _unit(data: dict[str, Any]) -> str:
    c, u = data["case"], data["unit"]
    rows = [(_("Model"), u["model"]), (_("Serial"), u["serial"]), (_("Firmware"), u["firmware"]),
            (_("Hardware rev."), u["hw_revision"]), (_("Customer ref."), c["customer_ref"]),
            (_("Last worked"), c["last_worked"]), (_("Software update"), c["software_update"]),
            (_("Opened"), _("{when} by {who}").format(when=iso_time(c["opened_at"]), who=c["opened_by"]))]
    grid = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v or '-')}</dd></div>" for k, v in rows)
    complaint = _e(_("Complaint:"))
    return ('<section id="unit">' + _h2(_("Unit and complaint"))
            + f'<p><strong>{complaint}</strong> {_e(c["complaint"])}</p><dl class="grid">{grid}</dl></section>')


def _intake(intake: Sequence[dict[str, Any]]) -> str:
    head = '<section id="intake">' + _h2(_("Intake"))
    if not intake:
        return head + '<p class="note">' + _e(_("No intake run.")) + "</p></section>"
    rows = "".join(
        f'<tr class="{"bad" if i["damaged"] else ""}"><td>{_e(i["step"])}</td>'
        f'<td>{_badge("FAIL" if i["damaged"] else "PASS", case_word("damaged" if i["damaged"] else "sound"))}</td>'
        f'<td>{_e(i["fault"] if i["damaged"] and i["fault"] else "")}</td><td>{_e(tr(i["message"]))}</td></tr>'
        for i in intake)
    return (head + '<table class="measurements"><tr>' + _th(_("Question"), _("Answer"), _("Fault"), _("Note"))
            + f"</tr>{rows}</table></section>")


def _timeline(items: Sequence[dict[str, Any]]) -> str:
    rows = []
    for t in items:
        if t["kind"] == "run":
            what = _("run {run} {plan}").format(run=f"\x00{t['run_id'][:8]}\x01", plan=t["plan"])
            rows.append(f'<tr><td class="num">{_e(iso_time(t["at"]))}</td><td>{_code(what)}</td>'
                        f'<td>{_badge(t["verdict"])}</td><td>{_e(" ".join(t["faults"]))}</td></tr>')
        else:
            part = f' <code>{_e(t["part_number"])}</code>' if t["part_number"] else ""
            what = _e(_("repair: {action} by {technician}").format(action="\x02", technician=t["technician"]))
            what = what.replace("\x02", f"<strong>{_e(case_word(t['action']))}</strong>{part}")
            rows.append(f'<tr class="repair"><td class="num">{_e(iso_time(t["at"]))}</td><td>{what}</td><td></td>'
                        f'<td>{_e(t["note"])}</td></tr>')
    body = "".join(rows) or '<tr><td colspan="4">' + _e(_("Nothing yet.")) + "</td></tr>"
    head = _th(_("When (UTC)"), _("What"), _("Result"), _("Faults / note"))
    return ('<section id="timeline">' + _h2(_("Timeline"))
            + f'<table class="overview"><tr>{head}</tr>{body}</table></section>')


def _code(text: str) -> str:
    """``text`` escaped, the part between \\x00 and \\x01 as code (a run id inside a translated phrase)."""
    return _e(text).replace("\x00", "<code>").replace("\x01", "</code>")


def _judgement(j: dict[str, Any]) -> str:
    cards = []
    for i, f in enumerate(j["findings"], 1):
        whose = "unit" if f["in_unit"] else "operator" if f["kind"] == "operator" else "bench"
        cls = f"finding {whose}" + (" resolved" if f["resolved"] else "")
        if f["resolved"]:
            state = f'<span class="ok">{_e(case_word("resolved"))}</span> ' + _code(
                _("(run {run})").format(run=f"\x00{f['resolved_by'][:8]}\x01"))
        else:
            state = _e(case_word("open"))
        seen = ", ".join(f["sources"]) or _("the run itself")
        rows = [(_("Kind"), _e(case_word(f["kind"]))), (_("Suspected part"), _e(tr(f["part"]))),
                (_("Severity"), f'{f["severity"]} ({_e(case_word(f["severity_label"]))})'), (_("State"), state),
                (_("Seen in"), _e(seen) + " · " + _e(_("{n} run(s)").format(n=len(f["runs"]))))]
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
        whose_word = {"unit": _("unit"), "operator": _("operator"), "bench": _("bench")}[whose]
        cards.append(f'<div class="{cls}"><div class="fhead"><span class="rank">{i}</span>'
                     f'<code class="fault">{_e(f["fault"])}</code> <strong>{_e(tr(f["title"]))}</strong>'
                     f'<span class="tag {whose}">{_e(whose_word)}</span></div><dl>{dl}</dl></div>')
    body = "".join(cards) or '<p class="ok">' + _e(_("No fault found in any run.")) + "</p>"
    heading = _("Judgement: {verdict}").format(verdict=case_word(j["verdict"]))
    return f'<section id="judgement">{_h2(heading)}<p class="note">{_e(judgement_text(j))}</p>{body}</section>'


def _plan(plan: dict[str, Any], earlier: dict[str, Any] | None) -> str:
    out = ['<section id="plan">' + _h2(_("Repair plan")), *_plan_body(plan)]
    if earlier is not None:
        run = f"\x00{earlier['last_failing_run'][:8]}\x01"
        out.append("<h3>" + _code(_("The plan after the failing runs (up to run {run})").format(run=run)) + "</h3>")
        out += _plan_body(earlier)
    out.append("</section>")
    return "".join(out)


def _plan_body(plan: dict[str, Any]) -> list[str]:
    cur = plan["currency"]
    out: list[str] = []
    rtf = plan["return_to_factory"]
    if rtf:
        ev = "".join(f"<li>{_e(tr(e))}</li>" for e in rtf["evidence"])
        form = ((_("Model"), _e(rtf["model"])), (_("Serial"), _e(rtf["serial"])), (_("Reason"), _e(tr(rtf["reason"]))),
                (_("Evidence"), f"<ul>{ev}</ul>"))
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in form)
        out.append('<div class="finding"><div class="fhead"><strong>' + _e(_("Return to factory"))
                   + f"</strong></div><dl>{dl}</dl></div>")
    if plan["actions"]:
        only_if = ' <span class="tag">' + _e(_("only if the fault persists")) + "</span>"
        rows = "".join(
            f'<tr><td class="num">{a["order"]}</td><td>{_e(tr(a["what"]))}'
            + (only_if if a["conditional"] else "")
            + f'</td><td>{_e(a["part_number"] or "")}</td>'
            f'<td class="num">{_e(_money(a["price"], cur)) if a["part_number"] else ""}</td>'
            f'<td class="num">{_e(_minutes(a["minutes"]))}</td><td>{_e(", ".join(a["faults"]))}</td></tr>'
            for a in plan["actions"])
        head = _th("#", _("Action"), _("Part"), _("Price"), _("Labour"), _("For"))
        out.append(f'<table class="overview"><tr>{head}</tr>{rows}</table>')
    else:
        out.append('<p class="ok">' + _e(_("Nothing to do: no open fault in the unit.")) + "</p>")
    note = _("Labour up to {minutes} min, cost up to {total} (parts {parts}); first pass {first} min, {first_cost}.").format(
        minutes=plan["labour_minutes"], total=_money(plan["total_cost"], cur), parts=_money(plan["parts_cost"], cur),
        first=plan["first_pass_minutes"], first_cost=_money(plan["first_pass_cost"], cur))
    out.append(f'<p class="note">{_e(note)}</p>')
    if plan["unplanned"]:
        text = _("Not in the catalogue (a technician decides): {faults}").format(faults=", ".join(plan["unplanned"]))
        out.append(f'<p class="note">{_e(text)}</p>')
    if plan["deferred"]:
        text = _("Deferred until the unit is back: {faults}").format(faults=", ".join(plan["deferred"]))
        out.append(f'<p class="note">{_e(text)}</p>')
    return out


def _compare(cmp: dict[str, Any] | None) -> str:
    head = '<section id="before-after">' + _h2(_("Before and after"))
    if cmp is None:
        return (head + '<p class="note">' + _e(_("No failing run followed by another run: nothing to compare."))
                + "</p></section>")
    counts = ", ".join(f"{n} {case_word(k)}" for k, n in cmp["counts"].items() if n)
    changed = [m for m in cmp["changes"] if m["change"] != "unchanged"]
    same = [m for m in cmp["changes"] if m["change"] == "unchanged"]
    text = _("First failing run {before} ({before_verdict}) against the last run {after} ({after_verdict}): "
             "{counts}.").format(before=f"\x00{cmp['before_run'][:8]}\x01",
                                 before_verdict=verdict_word(cmp["before_verdict"]),
                                 after=f"\x00{cmp['after_run'][:8]}\x01", after_verdict=verdict_word(cmp["after_verdict"]),
                                 counts=counts)
    out = [head, f'<p class="note">{_code(text)}</p>', _change_table(changed)]
    if same:  # the same value twice says little: folded away (and left out in print)
        folded = _e(_("{n} unchanged").format(n=len(same)))
        out.append(f"<details><summary>{folded}</summary>{_change_table(same)}</details>")
    out.append("</section>")
    return "".join(out)


def _change_table(changes: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{_CHANGE_CLASS.get(m["change"], "")}"><td>{_e(m["step"])}</td><td>{_e(m["name"])}</td>'
        f'<td class="value">{_e(value_text(m["before"], m["unit"]))}</td>'
        f'<td class="value">{_e(value_text(m["after"], m["unit"]))}</td><td>{_e(tr(m["limit"] or ""))}</td>'
        f'<td class="change">{_e(case_word(m["change"]))}</td></tr>'
        for m in changes)
    head = _th(_("Step"), _("Measurement"), _("Before"), _("After"), _("Limit"), _("Change"))
    return f'<table class="measurements"><tr>{head}</tr>{rows}</table>'


def _parts(data: dict[str, Any]) -> str:
    lab = data["labour"]
    cur = lab["currency"]
    unknown = _("(not in the catalogue)")
    rows = "".join(f'<tr><td><code>{_e(p["number"])}</code></td><td>{_e(p["name"] or unknown)}</td>'
                   f'<td class="num">{_e(_money(p["price"], cur)) if p["price"] is not None else "-"}</td></tr>'
                   for p in data["parts_used"]) or '<tr><td colspan="3">' + _e(_("No part fitted.")) + "</td></tr>"
    note = _("Labour {minutes} min at {rate} {currency}/h (catalogue times): {cost}; total {total}.").format(
        minutes=lab["minutes"], rate=f'{lab["rate_per_hour"]:g}', currency=cur, cost=_money(lab["labour_cost"], cur),
        total=_money(lab["total_cost"], cur))
    head = _th(_("Part"), _("Name"), _("Price"))
    return ('<section id="parts">' + _h2(_("Parts used and labour"))
            + f'<table class="overview"><tr>{head}</tr>{rows}</table><p class="note">{_e(note)}</p></section>')


def _minutes(n: int) -> str:
    return _("{n} min").format(n=n)


def _money(value: float, currency: str) -> str:
    return f"{value:.2f} {currency}"


def _badge(outcome: str, text: str | None = None) -> str:
    return (f'<span class="badge small" style="--c:{COLOURS.get(outcome, "#57606a")}">'
            f"{_e(text or verdict_word(outcome))}</span>")


def _e(value: Any) -> str:
    return html.escape(escape_controls(str(value)), quote=True)


__all__ = ["render_case_html"]
