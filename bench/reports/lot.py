"""The incoming-inspection lot report: ``lot.html`` (one self-contained page) and ``lot.json``.

Plan (code letter, sample size, Ac, Re), every sampled unit with its verdict and fault
codes, the defectives by fault code, the decision, the inspector and the dates. Like
``report.html`` the page has no script and no external reference (inline CSS and a
Content-Security-Policy), and every text from the store is escaped with
:func:`html.escape` and PAN-redacted.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.reports.format import fmt_time
from bench.reports.style import COLOURS as _COLOURS
from bench.reports.style import page
from bench.reports.words import verdict_word
from drivers.codecs.pan import redact
from drivers.i18n import _

if TYPE_CHECKING:
    from bench.lots.sampling import SwitchingState
    from bench.lots.store import LotStatus

FILES = {"html": "lot.html", "json": "lot.json"}
_DECISION_COLOURS = {"ACCEPT": _COLOURS["PASS"], "REJECT": _COLOURS["FAIL"], None: _COLOURS["RUNNING"]}
def lot_document(status: LotStatus, switching: SwitchingState | None = None) -> dict[str, Any]:
    """The lot report as plain data (what ``lot.json`` holds)."""
    doc = status.to_dict()
    doc["report_version"] = 1
    if switching is not None:
        doc["switching_after"] = switching.to_dict()
    out: dict[str, Any] = json.loads(redact(json.dumps(doc)))
    return out


def render_lot_json(status: LotStatus, switching: SwitchingState | None = None) -> str:
    """``lot.json``."""
    return json.dumps(lot_document(status, switching), indent=2, ensure_ascii=False) + "\n"


def render_lot_html(status: LotStatus, switching: SwitchingState | None = None) -> str:
    """``lot.html``, in the current language."""
    d = lot_document(status, switching)
    s = d["sampling"]
    decision = d["decision"]
    colour = _DECISION_COLOURS.get(decision, _COLOURS["RUNNING"])
    shown = verdict_word(decision or "OPEN")
    plan_line = _("code letter {letter} (Table I: {table}), sample {n}").format(
        letter=s["code_letter"], table=s["table_letter"], n=s["sample_size"])
    if s["hundred_percent"]:
        plan_line += _(" = {share} inspection").format(share="100 %")
    plan_line += ", Ac {ac}, Re {re}".format(ac=s["ac"], re=s["re"])
    summary = _("{defectives} defective(s) in {tested} unit(s) tested of a sample of {n}").format(
        defectives=d["defectives"], tested=d["tested"], n=s["sample_size"])
    if d["remaining"]:
        summary += _("; {n} still to test").format(n=d["remaining"])
    if d.get("in_gap"):
        summary += _("; accepted between Ac and Re under reduced inspection: normal inspection is reinstated")
    title = _("Lot {lot}: {part} from {supplier}").format(lot=d["lot"], part=d["part"], supplier=d["supplier"])
    method = _("ISO 2859-1 single sampling, {severity} inspection, level {level}, AQL {aql}").format(
        severity=s["severity"], level=s["level"], aql=_num(s["aql"]))
    body = [
        f'<header class="top" style="--c:{colour}"><div class="verdict">{_e(shown)}</div>'
        f'<div class="headline"><h1>{_e(title)}</h1><p class="summary">{_e(summary)}</p>'
        f'<p class="meta">{_e(method)} · {_e(plan_line)}</p></div></header><main>',
        _h2(_("Lot")) + '<dl class="grid">',
        *(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in (
            (_("lot"), d["lot"]), (_("supplier"), d["supplier"]), (_("part"), d["part"]),
            (_("lot size"), s["lot_size"]), (_("test plan"), d["plan_file"]), (_("inspector"), d["inspector"]),
            (_("opened"), _when(d["opened_at"])), (_("decided"), _when(d["decided_at"])),
            ("AQL", _num(s["aql"])), (_("level"), s["level"]), (_("severity"), s["severity"]),
            (_("code letter"), s["code_letter"]), (_("sample size"), s["sample_size"]),
            ("Ac / Re", f"{s['ac']} / {s['re']}"), (_("tested"), d["tested"]), (_("defectives"), d["defectives"]),
        )),
        "</dl>",
        _h2(_("Defectives by fault code")),
    ]
    by_fault = d["defectives_by_fault"]
    if by_fault:
        body.append("<table><tr>" + _th(_("fault code"), _("units")) + "</tr>")
        body += [f'<tr><td><span class="fault">{_e(code)}</span></td><td class="num">{n}</td></tr>'
                 for code, n in by_fault.items()]
        body.append("</table>")
    else:
        body.append('<p class="ok">' + _e(_("no defective unit")) + "</p>")
    body.append(_h2(_("Units tested ({n})").format(n=d["tested"])))
    if d["units"]:
        body.append("<table><tr>" + _th("#", _("serial"), _("model"), _("verdict"), _("fault codes"),
                                        _("tested (UTC)"), _("runs")) + "</tr>")
        for i, u in enumerate(d["units"], 1):
            c = _COLOURS.get(u["verdict"], "#57606a")
            body.append(
                f'<tr><td class="num">{i}</td><td>{_e(u["serial"])}</td><td>{_e(u["model"] or "-")}</td>'
                f'<td><span class="badge small" style="--c:{c}">{_e(verdict_word(u["verdict"]))}</span></td>'
                f'<td>{_e(", ".join(u["faults"]) or "-")}</td><td>{_e(_when(u["tested_at"]))}</td>'
                f'<td><code>{_e(" ".join(r[:8] for r in u["runs"]))}</code></td></tr>'
            )
        body.append("</table>")
    else:
        body.append('<p class="note">' + _e(_("no unit tested yet")) + "</p>")
    if d["not_counted_runs"]:
        note = _("{n} run(s) ended ERROR, INCOMPLETE or ABORTED without a counted result: those units must be "
                 "retested.").format(n=d["not_counted_runs"])
        body.append(f'<p class="note">{_e(note)}</p>')
    sw = d.get("switching_after")
    if sw:
        body.append(_h2(_("Switching rules (this supplier's part)")))
        line = _("next lot: {state} inspection · switching score {score}").format(state=sw["state"],
                                                                                  score=sw["switching_score"])
        if sw["reduced_eligible"]:
            line += " · " + _("reduced inspection may be approved")
        body.append(f"<p>{_e(line)}</p>")
        if sw["history"]:
            body.append("<ul>" + "".join(f"<li>{_e(h)}</li>" for h in sw["history"][-10:]) + "</ul>")
    body.append("</main></body></html>\n")
    return page(_("Lot {lot}: {decision}").format(lot=d["lot"], decision=shown), body)


def write_lot_reports(status: LotStatus, out_dir: Path, switching: SwitchingState | None = None) -> dict[str, Path]:
    """Write ``lot.html`` and ``lot.json`` into ``out_dir`` (created)."""
    from bench.reports.files import write_atomic

    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, text in (("html", render_lot_html(status, switching)), ("json", render_lot_json(status, switching))):
        path = out_dir / FILES[kind]
        write_atomic(path, text)  # whole or not at all
        written[kind] = path
    return written


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float | int) else str(x)


def _when(text: str | None) -> str:
    """An ISO time of the lot's data in the reader's language (UTC)."""
    if not text:
        return "-"
    try:
        return fmt_time(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _h2(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def _th(*names: str) -> str:
    return "".join(f"<th>{_e(n)}</th>" for n in names)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
