"""The case report: a repair case from intake to sign-off, as data (``case.json``) and Markdown (``case.md``).

:func:`build_case_report` gathers everything a case knows (unit, complaint, intake answers, a
timeline of runs and repairs, the judgement, the repair plan, the parts used and the labour,
the result, the first failing run against the last one measurement by measurement) and a short
summary for the customer in plain words. The whole of it then goes through the run report's
redaction (:func:`drivers.codecs.pan.redact_data`), so no renderer can let a full PAN out;
:mod:`bench.reports.casehtml` draws the same data as HTML. Output depends only on the store's
contents: rendering a case twice gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cases.assess import assess
from bench.cases.compare import before_after
from bench.cases.model import REACTIVATED, RETURN_TO_FACTORY, iso
from bench.cases.replay import failing_runs
from bench.controls import escape_controls, escape_controls_json
from bench.record import Outcome
from bench.reports.format import fmt_time, fmt_value, redacted
from bench.reports.rma import _cell, _md  # the one Markdown escaping of device text
from drivers.codecs.pan import redact_data

if TYPE_CHECKING:
    from bench.cases.catalogue import Catalogue
    from bench.cases.model import Case, Repair
    from bench.record import RunRecord

CASE_SCHEMA = "bench.case/1"
_SKIP = frozenset({"run_id", "last_failing_run", "before_run", "after_run", "resolved_by", "at", "opened_at", "closed_at", "started_at",
                   "ended_at", "runs"})
#: A recorded repair in the customer's words.
_DONE_WORDS = {
    "reseat": "reseated the internal connections", "clean": "cleaned the unit", "adjust": "corrected its settings",
    "update": "updated its software", "reflash": "reinstalled its software",
    RETURN_TO_FACTORY: "sent it to the manufacturer", REACTIVATED: "reactivated it after its return from the manufacturer",
}
_RESULT_WORDS = {
    "repaired": "It passed all our tests afterwards and is ready to go back into service.",
    "unrepaired": "We could not repair it",
    "returned": "It is with the manufacturer, who will repair and reactivate it.",
}


def default_folder(case: Case) -> Path:
    """``reports/cases/C<id>``: where ``bench case report`` and ``bench case close`` write by default."""
    return Path("reports") / "cases" / case.label


def build_case_report(case: Case, runs: Sequence[RunRecord], repairs: Sequence[Repair],
                      catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The case report as plain JSON-able data (schema ``bench.case/1``), PAN-redacted throughout."""
    runs = sorted((redacted(r) for r in runs), key=lambda r: r.started_at)
    if catalogue is None:
        from bench.cases.catalogue import load_catalogue

        catalogue = load_catalogue()
    judgement, plan = assess(case, runs, catalogue)
    failing = failing_runs(runs)
    # Once the verification passed nothing is left to plan: the plan the repair followed is the one after the
    # failing runs (as bench case replay judges it).
    earlier = assess(case, failing, catalogue)[1] if runs and len(failing) < len(runs) else None
    model = case.model or judgement.model
    identified = next((r.unit for r in reversed(runs) if r.unit is not None), None)
    comparison = before_after(runs)
    used = _parts_used(repairs, catalogue)
    labour = _labour(repairs, model, catalogue, used)
    data = {
        "schema": CASE_SCHEMA,
        "case": case.to_dict(),
        "unit": {"serial": case.serial, "model": model or None,
                 "firmware": identified.firmware if identified else None,
                 "hw_revision": identified.hw_revision if identified else None},
        "intake": _intake(runs),
        "timeline": _timeline(runs, repairs),
        "judgement": judgement.to_dict(),
        "plan": plan.to_dict(),
        "plan_after_failing_runs": ({"last_failing_run": failing[-1].run_id, **earlier.to_dict()}
                                    if earlier is not None else None),
        "parts_used": used,
        "labour": labour,
        "result": {"status": case.status, "result": case.result, "closed_at": iso(case.closed_at),
                   "close_reason": case.close_reason,
                   "last_run": runs[-1].run_id if runs else None,
                   "last_verdict": runs[-1].verdict.value if runs else None},
        "before_after": comparison.to_dict() if comparison else None,
    }
    data["customer_summary"] = customer_summary(case, model, judgement.to_dict()["findings"], repairs, catalogue)
    return dict(redact_data(data, _SKIP))


def _intake(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Each intake question's answer (the steps of ``intake.*`` checks), newest answer last."""
    return [{"run_id": r.run_id, "step": s.name, "outcome": s.outcome.value, "fault": s.fault,
             "damaged": s.outcome not in (Outcome.PASS, Outcome.SKIP), "message": s.message}
            for r in runs for s in r.steps if s.check.startswith("intake.")]


def _faults(run: RunRecord) -> list[str]:
    out: list[str] = []
    for code in [s.fault for s in run.steps if s.fault] + [f.fault for f in run.findings]:
        if code and code not in out:
            out.append(code)
    return out


def _timeline(runs: Sequence[RunRecord], repairs: Sequence[Repair]) -> list[dict[str, Any]]:
    """Runs and repairs in the order they happened."""
    items: list[tuple[Any, dict[str, Any]]] = []
    for r in runs:
        items.append((r.started_at, {"at": iso(r.started_at), "kind": "run", "run_id": r.run_id,
                                     "verdict": r.verdict.value, "plan": f"{r.plan_name} {r.plan_version}",
                                     "faults": _faults(r), "summary": r.summary}))
    for p in repairs:
        items.append((p.at, {"at": iso(p.at), "kind": "repair", "action": p.action, "part_number": p.part_number,
                             "technician": p.technician, "note": p.note}))
    return [d for _, d in sorted(items, key=lambda x: x[0])]


def _parts_used(repairs: Sequence[Repair], catalogue: Catalogue) -> list[dict[str, Any]]:
    out = []
    for p in repairs:
        if p.part_number:
            part = catalogue.part(p.part_number)
            out.append({"number": p.part_number, "name": part.name if part else None,
                        "price": part.price if part else None, "at": iso(p.at), "technician": p.technician})
    return out


def _labour(repairs: Sequence[Repair], model: str, catalogue: Catalogue,
            used: list[dict[str, Any]]) -> dict[str, Any]:
    """Labour of the recorded repairs at the catalogue's times (the store records no minutes: an estimate)."""
    lines, minutes = [], 0
    for p in repairs:
        m = _minutes(p, model, catalogue)
        minutes += m or 0
        lines.append({"action": p.action, "part_number": p.part_number, "minutes": m})
    labour_cost = round(minutes * catalogue.labour_rate / 60.0, 2)
    parts_cost = round(sum(u["price"] or 0.0 for u in used), 2)
    return {"minutes": minutes, "labour_cost": labour_cost, "parts_cost": parts_cost,
            "total_cost": round(labour_cost + parts_cost, 2), "currency": catalogue.currency,
            "rate_per_hour": catalogue.labour_rate, "estimated": True, "actions": lines}


def _minutes(p: Repair, model: str, catalogue: Catalogue) -> int | None:
    if p.action == "replace":
        part = catalogue.part(p.part_number or "")
        return part.labour_minutes if part else None
    same = [a for a in catalogue.actions if a.kind == p.action and a.fits(model)]
    return same[0].minutes if same else None


def customer_summary(case: Case, model: str, findings: Sequence[dict[str, Any]], repairs: Sequence[Repair],
                     catalogue: Catalogue) -> str:
    """A few plain sentences for the customer: what came in, what was wrong, what was done, how it left."""
    unit = f"Your {model} terminal" if model else "Your terminal"
    words = [f"{unit} (serial {case.serial}) came in because: {' '.join(case.complaint.split())}."]
    wrong = [f["title"] for f in findings if f["in_unit"]]
    if wrong:
        words.append(f"What was wrong: {'; '.join(wrong)}.")
    else:
        words.append("Our tests did not find a fault in the terminal itself.")
    done = [_done(p, catalogue) for p in repairs]
    if done:
        words.append(f"What we did: {'; '.join(done)}.")
    elif case.status == "closed":
        words.append("No repair was needed.")
    if case.result == "unrepaired":
        words.append(f"{_RESULT_WORDS['unrepaired']}: {' '.join((case.close_reason or '').split())}.".replace(": .", "."))
    elif case.result:
        words.append(_RESULT_WORDS[case.result])
    else:
        words.append("The repair is still in progress.")
    return " ".join(words)


def _done(p: Repair, catalogue: Catalogue) -> str:
    if p.action == "replace":
        part = catalogue.part(p.part_number or "")
        return f"replaced the {part.name}" if part else f"replaced a part ({p.part_number})"
    return _DONE_WORDS.get(p.action) or " ".join(p.note.split())


# --------------------------------------------------------------------------- JSON and Markdown


def render_case_json(data: dict[str, Any]) -> str:
    """``case.json``: the data of :func:`build_case_report`, indented (control characters as ``\\uXXXX``)."""
    return escape_controls_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def render_case_md(data: dict[str, Any]) -> str:
    """``case.md``: the case report as Markdown (every stored or device text made inert)."""
    c, u, j, plan = data["case"], data["unit"], data["judgement"], data["plan"]
    title = " ".join(x for x in (u["model"], u["serial"]) if x)
    state = c["status"] + (f", {c['result']}" if c["result"] else "")
    lines = [f"# Case {c['case']}: {_md(title)} ({state})", "", f"> {_md(data['customer_summary'])}", "",
             "## Unit and complaint", "", "| | |", "| --- | --- |"]
    for label, value in (("Model", u["model"]), ("Serial number", u["serial"]), ("Firmware", u["firmware"]),
                         ("Hardware revision", u["hw_revision"]), ("Complaint", c["complaint"]),
                         ("Customer reference", c["customer_ref"]), ("Last worked", c["last_worked"]),
                         ("Software update", c["software_update"]),
                         ("Opened", f"{iso_time(c['opened_at'])} by {c['opened_by']}")):
        lines.append(f"| {label} | {_cell(value)} |")
    lines += ["", "## Intake", ""]
    lines += [f"- {_md(i['step'])}: {'damaged' if i['damaged'] else 'sound'}"
              + (f" `{i['fault']}`" if i["fault"] and i["damaged"] else "") + (f": {_md(i['message'])}" if i["message"] else "")
              for i in data["intake"]] or ["No intake run."]
    lines += ["", "## Timeline", "", "| When | What | Result | Faults / note |", "| --- | --- | --- | --- |"]
    for t in data["timeline"]:
        if t["kind"] == "run":
            lines.append(f"| {iso_time(t['at'])} | run {t['run_id'][:8]} {_md(t['plan'])} | {t['verdict']} | "
                         f"{_cell(' '.join(t['faults']))} |")
        else:
            part = f" {t['part_number']}" if t["part_number"] else ""
            lines.append(f"| {iso_time(t['at'])} | repair: {_md(t['action'] + part)} by {_md(t['technician'])} | | "
                         f"{_cell(t['note'])} |")
    lines += ["", "## Judgement", "", f"**Verdict: {j['verdict']}**: {_md(judgement_text(j))}", ""]
    for i, f in enumerate(j["findings"], 1):
        state = f"resolved (run {f['resolved_by'][:8]})" if f["resolved"] else "open"
        whose = "unit" if f["in_unit"] else "not the unit"
        lines.append(f"{i}. `{f['fault']}` **{_md(f['title'])}**: {f['kind']}, {_md(f['part'])}, severity "
                     f"{f['severity']} ({f['severity_label']}), {whose}, {state}")
    lines += ["", "## Repair plan", ""]
    lines += _plan_md(plan)
    if data["plan_after_failing_runs"]:
        earlier = data["plan_after_failing_runs"]
        lines += ["", f"The plan after the failing runs (up to run {earlier['last_failing_run'][:8]}):", ""]
        lines += _plan_md(earlier)
    lines += ["", "## Before and after", ""]
    lines += _compare_md(data["before_after"])
    lab = data["labour"]
    lines += ["", "## Parts used and labour", ""]
    lines += [f"- {_md(p['number'])} {_md(p['name'] or '(not in the catalogue)')}"
              + (f": {p['price']:.2f} {lab['currency']}" if p["price"] is not None else "")
              for p in data["parts_used"]] or ["No part fitted."]
    lines.append(f"- Labour: {lab['minutes']} min ({lab['labour_cost']:.2f} {lab['currency']} at "
                 f"{lab['rate_per_hour']:g}/h, catalogue times); total {lab['total_cost']:.2f} {lab['currency']}")
    r = data["result"]
    lines += ["", "## Result", "", result_text(r)]
    return escape_controls("\n".join(lines), keep="\n") + "\n"


def _plan_md(plan: dict[str, Any]) -> list[str]:
    lines = []
    rtf = plan["return_to_factory"]
    if rtf:
        lines += [f"**Return to factory**: {_md(rtf['reason'])}", ""]
        lines += [f"- evidence: {_md(e)}" for e in rtf["evidence"]] + [""]
    if not plan["actions"]:
        lines.append("Nothing to do: no open fault in the unit.")
    for a in plan["actions"]:
        part = f" (part {a['part_number']}, {a['price']:.2f} {plan['currency']})" if a["part_number"] else ""
        cond = " *only if the fault persists*" if a["conditional"] else ""
        lines.append(f"{a['order']}. {_md(a['what'])}{part}: {a['minutes']} min, for {', '.join(a['faults'])}{cond}")
    lines += ["", f"Labour up to {plan['labour_minutes']} min, cost up to {plan['total_cost']:.2f} {plan['currency']}"
              f" (parts {plan['parts_cost']:.2f}); first pass {plan['first_pass_minutes']} min, "
              f"{plan['first_pass_cost']:.2f} {plan['currency']}."]
    if plan["unplanned"]:
        lines.append(f"Not in the catalogue (a technician decides): {', '.join(plan['unplanned'])}.")
    if plan["deferred"]:
        lines.append(f"Deferred until the unit is back from the factory: {', '.join(plan['deferred'])}.")
    return lines


def _compare_md(cmp: dict[str, Any] | None) -> list[str]:
    if cmp is None:
        return ["No failing run followed by another run: nothing to compare."]
    lines = [f"First failing run {cmp['before_run'][:8]} ({cmp['before_verdict']}) against the last run "
             f"{cmp['after_run'][:8]} ({cmp['after_verdict']}).", "",
             "| Step | Measurement | Before | After | Limit | Change |", "| --- | --- | ---: | ---: | --- | --- |"]
    for m in cmp["changes"]:
        lines.append(f"| {_cell(m['step'])} | {_cell(m['name'])} | {_cell(value_text(m['before'], m['unit']))} | "
                     f"{_cell(value_text(m['after'], m['unit']))} | {_cell(m['limit'])} | {m['change']} |")
    return lines


def judgement_text(j: dict[str, Any]) -> str:
    """The judgement's summary without the verdict it starts with (the report shows the verdict apart)."""
    text = str(j["summary"])
    prefix = f"{j['verdict']}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def value_text(value: Any, unit: str | None) -> str:
    """A measured value with its unit, ``-`` when not measured."""
    if value is None:
        return "-"
    return fmt_value(value) + (f" {unit}" if unit else "")


def result_text(r: dict[str, Any]) -> str:
    """How the case stands, in one sentence (Markdown bold around the result)."""
    if r["status"] == "open":
        last = f"; last run {r['last_run'][:8]}: {r['last_verdict']}" if r["last_run"] else ""
        return f"Open{last}."
    reason = f" ({_md(r['close_reason'])})" if r["close_reason"] else ""
    return f"Closed {iso_time(r['closed_at'])}: **{r['result']}**{reason}."


def iso_time(text: str | None) -> str:
    """An ISO time of the report's data as ``2026-12-07 03:10:00 UTC``."""
    return fmt_time(datetime.fromisoformat(text)) if text else "-"


__all__ = ["CASE_SCHEMA", "build_case_report", "customer_summary", "default_folder", "iso_time",
           "judgement_text",
           "render_case_json", "render_case_md", "result_text", "value_text"]
