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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.reports.style import COLOURS as _COLOURS
from bench.reports.style import CSS as _CSS
from drivers.codecs.pan import redact

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
    """``lot.html``."""
    d = lot_document(status, switching)
    s = d["sampling"]
    decision = d["decision"]
    colour = _DECISION_COLOURS.get(decision, _COLOURS["RUNNING"])
    shown = decision or "OPEN"
    plan_line = (f"code letter {s['code_letter']} (Table I: {s['table_letter']}), sample {s['sample_size']}"
                 f"{' = 100 % inspection' if s['hundred_percent'] else ''}, Ac {s['ac']}, Re {s['re']}")
    summary = (f"{d['defectives']} defective(s) in {d['tested']} unit(s) tested of a sample of "
               f"{s['sample_size']}" + (f"; {d['remaining']} still to test" if d["remaining"] else ""))
    if d.get("in_gap"):
        summary += "; accepted between Ac and Re under reduced inspection: normal inspection is reinstated"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Lot {_e(d['lot'])}: {_e(shown)}</title><style>{_CSS}</style></head><body>",
        f'<header class="top" style="--c:{colour}"><div class="verdict">{_e(shown)}</div>'
        f"<div class=\"headline\"><h1>Lot {_e(d['lot'])}: {_e(d['part'])} from {_e(d['supplier'])}</h1>"
        f'<p class="summary">{_e(summary)}</p>'
        f"<p class=\"meta\">ISO 2859-1 single sampling, {_e(s['severity'])} inspection, level {_e(s['level'])}, "
        f"AQL {_e(_num(s['aql']))} · {_e(plan_line)}</p></div></header><main>",
        "<h2>Lot</h2><dl class=\"grid\">",
        *(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in (
            ("lot", d["lot"]), ("supplier", d["supplier"]), ("part", d["part"]), ("lot size", s["lot_size"]),
            ("test plan", d["plan_file"]), ("inspector", d["inspector"]),
            ("opened", d["opened_at"] or "-"), ("decided", d["decided_at"] or "-"),
            ("AQL", _num(s["aql"])), ("level", s["level"]), ("severity", s["severity"]),
            ("code letter", s["code_letter"]), ("sample size", s["sample_size"]), ("Ac / Re", f"{s['ac']} / {s['re']}"),
            ("tested", d["tested"]), ("defectives", d["defectives"]),
        )),
        "</dl>",
        "<h2>Defectives by fault code</h2>",
    ]
    by_fault = d["defectives_by_fault"]
    if by_fault:
        parts.append("<table><tr><th>fault code</th><th>units</th></tr>")
        parts += [f'<tr><td><span class="fault">{_e(code)}</span></td><td class="num">{n}</td></tr>'
                  for code, n in by_fault.items()]
        parts.append("</table>")
    else:
        parts.append('<p class="ok">no defective unit</p>')
    parts.append(f"<h2>Units tested ({d['tested']})</h2>")
    if d["units"]:
        parts.append("<table><tr><th>#</th><th>serial</th><th>model</th><th>verdict</th><th>fault codes</th>"
                     "<th>tested (UTC)</th><th>runs</th></tr>")
        for i, u in enumerate(d["units"], 1):
            c = _COLOURS.get(u["verdict"], "#57606a")
            parts.append(
                f'<tr><td class="num">{i}</td><td>{_e(u["serial"])}</td><td>{_e(u["model"] or "-")}</td>'
                f'<td><span class="badge small" style="--c:{c}">{_e(u["verdict"])}</span></td>'
                f'<td>{_e(", ".join(u["faults"]) or "-")}</td><td>{_e(u["tested_at"] or "-")}</td>'
                f'<td><code>{_e(" ".join(r[:8] for r in u["runs"]))}</code></td></tr>'
            )
        parts.append("</table>")
    else:
        parts.append('<p class="note">no unit tested yet</p>')
    if d["not_counted_runs"]:
        parts.append(f'<p class="note">{d["not_counted_runs"]} run(s) ended ERROR, INCOMPLETE or ABORTED '
                     "without a counted result: those units must be retested.</p>")
    sw = d.get("switching_after")
    if sw:
        parts.append("<h2>Switching rules (this supplier's part)</h2>")
        parts.append(f"<p>next lot: <b>{_e(sw['state'])}</b> inspection · switching score {_e(sw['switching_score'])}"
                     f"{' · reduced inspection may be approved' if sw['reduced_eligible'] else ''}</p>")
        if sw["history"]:
            parts.append("<ul>" + "".join(f"<li>{_e(h)}</li>" for h in sw["history"][-10:]) + "</ul>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
