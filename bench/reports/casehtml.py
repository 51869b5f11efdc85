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
from bench.reports.case import CASE_SCHEMA, iso_time, judgement_text, result_text, value_text
from bench.reports.style import COLOURS, CSS

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


def render_case_html(data: dict[str, Any]) -> str:
    """The report page of a case (``data`` from :func:`~bench.reports.case.build_case_report`)."""
    c, u = data["case"], data["unit"]
    who = " ".join(x for x in (u["model"], u["serial"]) if x)
    state = c["result"] or c["status"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Case {_e(c['case'])} · {_e(who)} · {_e(state)}</title>",
        f"<style>{CSS}\n{_EXTRA_CSS}</style>",
        "</head>",
        "<body>",
        _header(data, who, state),
        "<main>",
        f'<section class="customer" id="customer-summary"><strong>For the customer.</strong> '
        f"{_e(data['customer_summary'])}</section>",
        _unit(data),
        _intake(data["intake"]),
        _timeline(data["timeline"]),
        _judgement(data["judgement"]),
        _plan(data["plan"], data["plan_after_failing_runs"]),
        _compare(data["before_after"]),
        _parts(data),
        f'<section id="result"><h2>Result</h2><p>{_e(result_text(data["result"]).replace("**", ""))}</p></section>',
        "</main>",
        f"<footer>Case {_e(c['case'])} · rendered by bench from the results store (schema {CASE_SCHEMA}). "
        "Times are UTC.</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _header(data: dict[str, Any], who: str, state: str) -> str:
    c, j = data["case"], data["judgement"]
    return (f'<header class="top" style="--c:{_STATE_COLOURS.get(state, "#57606a")}">'
            f'<div class="verdict">{_e(state.upper())}</div>'
            f'<div class="headline"><h1>Case {_e(c["case"])}: {_e(who)}</h1>'
            f'<p class="summary">{_e(j["summary"]).replace(" -&gt; ", " → ")}</p>'
            f'<p class="meta">verdict {_e(j["verdict"])} · opened {_e(iso_time(c["opened_at"]))} by {_e(c["opened_by"])}'
            f" · {len([t for t in data['timeline'] if t['kind'] == 'run'])} run(s), "
            f"{len([t for t in data['timeline'] if t['kind'] == 'repair'])} repair(s)</p></div></header>")


def _unit(data: dict[str, Any]) -> str:
    c, u = data["case"], data["unit"]
    rows = [("Model", u["model"]), ("Serial", u["serial"]), ("Firmware", u["firmware"]),
            ("Hardware rev.", u["hw_revision"]), ("Customer ref.", c["customer_ref"]),
            ("Last worked", c["last_worked"]), ("Software update", c["software_update"]),
            ("Opened", f"{iso_time(c['opened_at'])} by {c['opened_by']}")]
    grid = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v or '-')}</dd></div>" for k, v in rows)
    return (f'<section id="unit"><h2>Unit and complaint</h2><p><strong>Complaint:</strong> {_e(c["complaint"])}</p>'
            f'<dl class="grid">{grid}</dl></section>')


def _intake(intake: Sequence[dict[str, Any]]) -> str:
    if not intake:
        return '<section id="intake"><h2>Intake</h2><p class="note">No intake run.</p></section>'
    rows = "".join(
        f'<tr class="{"bad" if i["damaged"] else ""}"><td>{_e(i["step"])}</td>'
        f'<td>{_badge("FAIL" if i["damaged"] else "PASS", "damaged" if i["damaged"] else "sound")}</td>'
        f'<td>{_e(i["fault"] if i["damaged"] and i["fault"] else "")}</td><td>{_e(i["message"])}</td></tr>'
        for i in intake)
    return ('<section id="intake"><h2>Intake</h2><table class="measurements"><tr><th>Question</th><th>Answer</th>'
            f"<th>Fault</th><th>Note</th></tr>{rows}</table></section>")


def _timeline(items: Sequence[dict[str, Any]]) -> str:
    rows = []
    for t in items:
        if t["kind"] == "run":
            rows.append(f'<tr><td class="num">{_e(iso_time(t["at"]))}</td><td>run <code>{_e(t["run_id"][:8])}</code> '
                        f'{_e(t["plan"])}</td><td>{_badge(t["verdict"])}</td><td>{_e(" ".join(t["faults"]))}</td></tr>')
        else:
            part = f' <code>{_e(t["part_number"])}</code>' if t["part_number"] else ""
            rows.append(f'<tr class="repair"><td class="num">{_e(iso_time(t["at"]))}</td><td>repair: '
                        f'<strong>{_e(t["action"])}</strong>{part} by {_e(t["technician"])}</td><td></td>'
                        f'<td>{_e(t["note"])}</td></tr>')
    body = "".join(rows) or '<tr><td colspan="4">Nothing yet.</td></tr>'
    return ('<section id="timeline"><h2>Timeline</h2><table class="overview"><tr><th>When (UTC)</th><th>What</th>'
            f"<th>Result</th><th>Faults / note</th></tr>{body}</table></section>")


def _judgement(j: dict[str, Any]) -> str:
    cards = []
    for i, f in enumerate(j["findings"], 1):
        whose = "unit" if f["in_unit"] else "operator" if f["kind"] == "operator" else "bench"
        cls = f"finding {whose}" + (" resolved" if f["resolved"] else "")
        state = (f'<span class="ok">resolved</span> (run <code>{_e(f["resolved_by"][:8])}</code>)' if f["resolved"]
                 else "open")
        rows = [("Kind", _e(f["kind"])), ("Suspected part", _e(f["part"])),
                ("Severity", f'{f["severity"]} ({_e(f["severity_label"])})'), ("State", state),
                ("Seen in", _e(", ".join(f["sources"]) or "the run itself")
                 + f" · {len(f['runs'])} run(s)")]
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        cards.append(f'<div class="{cls}"><div class="fhead"><span class="rank">{i}</span>'
                     f'<code class="fault">{_e(f["fault"])}</code> <strong>{_e(f["title"])}</strong>'
                     f'<span class="tag {whose}">{_e(whose)}</span></div><dl>{dl}</dl></div>')
    body = "".join(cards) or '<p class="ok">No fault found in any run.</p>'
    return (f'<section id="judgement"><h2>Judgement: {_e(j["verdict"])}</h2>'
            f'<p class="note">{_e(judgement_text(j))}</p>{body}</section>')


def _plan(plan: dict[str, Any], earlier: dict[str, Any] | None) -> str:
    out = ['<section id="plan"><h2>Repair plan</h2>', *_plan_body(plan)]
    if earlier is not None:
        out.append(f'<h3>The plan after the failing runs (up to run <code>{_e(earlier["last_failing_run"][:8])}'
                   "</code>)</h3>")
        out += _plan_body(earlier)
    out.append("</section>")
    return "".join(out)


def _plan_body(plan: dict[str, Any]) -> list[str]:
    cur = plan["currency"]
    out: list[str] = []
    rtf = plan["return_to_factory"]
    if rtf:
        ev = "".join(f"<li>{_e(e)}</li>" for e in rtf["evidence"])
        out.append(f'<div class="finding"><div class="fhead"><strong>Return to factory</strong></div>'
                   f"<dl><dt>Model</dt><dd>{_e(rtf['model'])}</dd><dt>Serial</dt><dd>{_e(rtf['serial'])}</dd>"
                   f"<dt>Reason</dt><dd>{_e(rtf['reason'])}</dd><dt>Evidence</dt><dd><ul>{ev}</ul></dd></dl></div>")
    if plan["actions"]:
        rows = "".join(
            f'<tr><td class="num">{a["order"]}</td><td>{_e(a["what"])}'
            + (' <span class="tag">only if the fault persists</span>' if a["conditional"] else "")
            + f'</td><td>{_e(a["part_number"] or "")}</td>'
            f'<td class="num">{_money(a["price"], cur) if a["part_number"] else ""}</td>'
            f'<td class="num">{a["minutes"]} min</td><td>{_e(", ".join(a["faults"]))}</td></tr>'
            for a in plan["actions"])
        out.append('<table class="overview"><tr><th>#</th><th>Action</th><th>Part</th><th>Price</th><th>Labour</th>'
                   f"<th>For</th></tr>{rows}</table>")
    else:
        out.append('<p class="ok">Nothing to do: no open fault in the unit.</p>')
    out.append(f'<p class="note">Labour up to {plan["labour_minutes"]} min, cost up to '
               f'{_money(plan["total_cost"], cur)} (parts {_money(plan["parts_cost"], cur)}); first pass '
               f'{plan["first_pass_minutes"]} min, {_money(plan["first_pass_cost"], cur)}.</p>')
    if plan["unplanned"]:
        out.append(f'<p class="note">Not in the catalogue (a technician decides): {_e(", ".join(plan["unplanned"]))}</p>')
    if plan["deferred"]:
        out.append(f'<p class="note">Deferred until the unit is back: {_e(", ".join(plan["deferred"]))}</p>')
    return out


def _compare(cmp: dict[str, Any] | None) -> str:
    head = '<section id="before-after"><h2>Before and after</h2>'
    if cmp is None:
        return head + '<p class="note">No failing run followed by another run: nothing to compare.</p></section>'
    counts = ", ".join(f"{n} {k}" for k, n in cmp["counts"].items() if n)
    changed = [m for m in cmp["changes"] if m["change"] != "unchanged"]
    same = [m for m in cmp["changes"] if m["change"] == "unchanged"]
    out = [head, f'<p class="note">First failing run <code>{_e(cmp["before_run"][:8])}</code> '
           f'({_e(cmp["before_verdict"])}) against the last run <code>{_e(cmp["after_run"][:8])}</code> '
           f'({_e(cmp["after_verdict"])}): {_e(counts)}.</p>', _change_table(changed)]
    if same:  # the same value twice says little: folded away (and left out in print)
        out.append(f"<details><summary>{len(same)} unchanged</summary>{_change_table(same)}</details>")
    out.append("</section>")
    return "".join(out)


def _change_table(changes: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{_CHANGE_CLASS.get(m["change"], "")}"><td>{_e(m["step"])}</td><td>{_e(m["name"])}</td>'
        f'<td class="value">{_e(value_text(m["before"], m["unit"]))}</td>'
        f'<td class="value">{_e(value_text(m["after"], m["unit"]))}</td><td>{_e(m["limit"] or "")}</td>'
        f'<td class="change">{_e(m["change"])}</td></tr>'
        for m in changes)
    return ('<table class="measurements"><tr><th>Step</th><th>Measurement</th><th>Before</th><th>After</th>'
            f"<th>Limit</th><th>Change</th></tr>{rows}</table>")


def _parts(data: dict[str, Any]) -> str:
    lab = data["labour"]
    cur = lab["currency"]
    rows = "".join(f'<tr><td><code>{_e(p["number"])}</code></td><td>{_e(p["name"] or "(not in the catalogue)")}</td>'
                   f'<td class="num">{_money(p["price"], cur) if p["price"] is not None else "-"}</td></tr>'
                   for p in data["parts_used"]) or '<tr><td colspan="3">No part fitted.</td></tr>'
    return ('<section id="parts"><h2>Parts used and labour</h2><table class="overview"><tr><th>Part</th><th>Name</th>'
            f'<th>Price</th></tr>{rows}</table><p class="note">Labour {lab["minutes"]} min at '
            f'{lab["rate_per_hour"]:g} {_e(cur)}/h (catalogue times): {_money(lab["labour_cost"], cur)}; '
            f'total {_money(lab["total_cost"], cur)}.</p></section>')


def _money(value: float, currency: str) -> str:
    return f"{value:.2f} {_e(currency)}"


def _badge(outcome: str, text: str | None = None) -> str:
    return (f'<span class="badge small" style="--c:{COLOURS.get(outcome, "#57606a")}">'
            f"{_e(text or outcome)}</span>")


def _e(value: Any) -> str:
    return html.escape(escape_controls(str(value)), quote=True)


__all__ = ["render_case_html"]
