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
from bench.i18n.stored import redact_text
from bench.record import Outcome
from bench.reports.format import fmt_time, fmt_value, redacted
from bench.reports.rma import _cell, _md  # the one Markdown escaping of device text
from bench.reports.words import case_word, verdict_word
from drivers.codecs.pan import redact_data
from drivers.i18n import N_, Text, _, tr, using_language

if TYPE_CHECKING:
    from bench.cases.catalogue import Catalogue
    from bench.cases.model import Case, Repair
    from bench.record import RunRecord

CASE_SCHEMA = "bench.case/1"
_SKIP = frozenset({"run_id", "last_failing_run", "before_run", "after_run", "resolved_by", "at", "opened_at", "closed_at", "started_at",
                   "ended_at", "runs"})
#: A recorded repair in the customer's words.
_DONE_WORDS = {
    "reseat": N_("reseated the internal connections"), "clean": N_("cleaned the unit"),
    "adjust": N_("corrected its settings"), "update": N_("updated its software"),
    "reflash": N_("reinstalled its software"), RETURN_TO_FACTORY: N_("sent it to the manufacturer"),
    REACTIVATED: N_("reactivated it after its return from the manufacturer"),
}
_RESULT_WORDS = {
    "repaired": N_("It passed all our tests afterwards and is ready to go back into service."),
    "returned": N_("It is with the manufacturer, who will repair and reactivate it."),
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
    summary = customer_summary(case, model, judgement.to_dict()["findings"], repairs, catalogue)
    out = dict(redact_data(data, _SKIP))
    out["customer_summary"] = redact_text(summary)  # kept translatable: the customer's language is the renderer's
    return out


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
    """A few plain sentences for the customer: what came in, what was wrong, what was done, how it left.

    A :class:`~drivers.i18n.Text` (English as a ``str``): the report shows it in the customer's language.
    """
    unit = N_("Your {model} terminal", model=model) if model else N_("Your terminal")
    words = [N_("{unit} (serial {serial}) came in because: {complaint}.", unit=unit, serial=case.serial,
                complaint=" ".join(case.complaint.split()))]
    wrong = [f["title"] for f in findings if f["in_unit"]]
    if wrong:
        words.append(N_("What was wrong: {faults}.", faults=_listing(wrong)))
    else:
        words.append(N_("Our tests did not find a fault in the terminal itself."))
    done = [_done(p, catalogue) for p in repairs]
    if done:
        words.append(N_("What we did: {actions}.", actions=_listing(done)))
    elif case.status == "closed":
        words.append(N_("No repair was needed."))
    reason = " ".join((case.close_reason or "").split())
    if case.result == "unrepaired":
        words.append(N_("We could not repair it: {reason}.", reason=reason) if reason else N_("We could not repair it."))
    elif case.result:
        words.append(_RESULT_WORDS[case.result])
    else:
        words.append(N_("The repair is still in progress."))
    return _sentences(words)


def _sentences(parts: Sequence[str]) -> Text:
    """Sentences one after the other (the catalogue says how: a space in English, none in Chinese)."""
    text = parts[-1] if isinstance(parts[-1], Text) else Text(parts[-1])
    for part in reversed(parts[:-1]):
        text = N_("{sentence} {more}", sentence=part, more=text)
    return text


def _listing(items: Sequence[str]) -> Text:
    """Items of a list in one sentence, ``a; b; c``."""
    text = items[-1] if isinstance(items[-1], Text) else Text(items[-1])
    for item in reversed(items[:-1]):
        text = N_("{item}; {more}", item=item, more=text)
    return text


def _done(p: Repair, catalogue: Catalogue) -> str:
    if p.action == "replace":
        part = catalogue.part(p.part_number or "")
        return N_("replaced the {part}", part=part.name) if part else N_("replaced a part ({number})",
                                                                          number=p.part_number)
    return _DONE_WORDS.get(p.action) or " ".join(p.note.split())


# --------------------------------------------------------------------------- JSON and Markdown


def render_case_json(data: dict[str, Any]) -> str:
    """``case.json``: the data of :func:`build_case_report`, indented (control characters as ``\\uXXXX``)."""
    return escape_controls_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def render_case_md(data: dict[str, Any], *, customer_lang: str | None = None) -> str:
    """``case.md``: the case report as Markdown (every stored or device text made inert), in the current
    language; the summary for the customer in ``customer_lang`` (default: the same)."""
    c, u, j, plan = data["case"], data["unit"], data["judgement"], data["plan"]
    title = " ".join(x for x in (u["model"], u["serial"]) if x)
    state = case_word(c["status"]) + (f", {case_word(c['result'])}" if c["result"] else "")
    lines = ["# " + _("Case {case}: {unit} ({state})").format(case=c["case"], unit=_md(title), state=state), "",
             f"> {_md(customer_text(data, customer_lang))}", "",
             "## " + _("Unit and complaint"), "", "| | |", "| --- | --- |"]
    opened = _("{when} by {who}").format(when=iso_time(c["opened_at"]), who=c["opened_by"])
    for label, value in ((_("Model"), u["model"]), (_("Serial number"), u["serial"]), (_("Firmware"), u["firmware"]),
                         (_("Hardware revision"), u["hw_revision"]), (_("Complaint"), c["complaint"]),
                         (_("Customer reference"), c["customer_ref"]), (_("Last worked"), c["last_worked"]),
                         (_("Software update"), c["software_update"]), (_("Opened"), opened)):
        lines.append(f"| {label} | {_cell(value)} |")
    lines += ["", "## " + _("Intake"), ""]
    lines += [f"- {_md(i['step'])}: {case_word('damaged' if i['damaged'] else 'sound')}"
              + (f" `{i['fault']}`" if i["fault"] and i["damaged"] else "")
              + (f": {_md(tr(i['message']))}" if i["message"] else "")
              for i in data["intake"]] or [_("No intake run.")]
    head = " | ".join([_("When"), _("What"), _("Result"), _("Faults / note")])
    lines += ["", "## " + _("Timeline"), "", f"| {head} |", "| --- | --- | --- | --- |"]
    for t in data["timeline"]:
        if t["kind"] == "run":
            what = _("run {run} {plan}").format(run=t["run_id"][:8], plan=_md(t["plan"]))
            lines.append(f"| {iso_time(t['at'])} | {what} | {verdict_word(t['verdict'])} | "
                         f"{_cell(' '.join(t['faults']))} |")
        else:
            part = f" {t['part_number']}" if t["part_number"] else ""
            what = _("repair: {action} by {technician}").format(action=_md(t["action"] + part),
                                                                technician=_md(t["technician"]))
            lines.append(f"| {iso_time(t['at'])} | {what} | | {_cell(t['note'])} |")
    verdict = _("Verdict: {verdict}").format(verdict=case_word(j["verdict"]))
    lines += ["", "## " + _("Judgement"), "", f"**{verdict}**: {_md(judgement_text(j))}", ""]
    for i, f in enumerate(j["findings"], 1):
        state = (_("resolved (run {run})").format(run=f["resolved_by"][:8]) if f["resolved"] else case_word("open"))
        whose = _("unit") if f["in_unit"] else _("not the unit")
        severity = f"{f['severity']} ({case_word(f['severity_label'])})"
        lines.append(f"{i}. `{f['fault']}` **{_md(tr(f['title']))}**: " + _(
            "{kind}, {part}, severity {severity}, {whose}, {state}").format(
            kind=case_word(f["kind"]), part=_md(tr(f["part"])), severity=severity, whose=whose, state=state))
    lines += ["", "## " + _("Repair plan"), ""]
    lines += _plan_md(plan)
    if data["plan_after_failing_runs"]:
        earlier = data["plan_after_failing_runs"]
        lines += ["", _("The plan after the failing runs (up to run {run}):").format(
            run=earlier["last_failing_run"][:8]), ""]
        lines += _plan_md(earlier)
    lines += ["", "## " + _("Before and after"), ""]
    lines += _compare_md(data["before_after"])
    lab = data["labour"]
    lines += ["", "## " + _("Parts used and labour"), ""]
    unknown = _("(not in the catalogue)")
    lines += [f"- {_md(p['number'])} {_md(p['name'] or unknown)}"
              + (f": {p['price']:.2f} {lab['currency']}" if p["price"] is not None else "")
              for p in data["parts_used"]] or [_("No part fitted.")]
    lines.append("- " + _("Labour: {minutes} min ({cost} {currency} at {rate}/h, catalogue times); total {total} "
                          "{currency}").format(minutes=lab["minutes"], cost=f"{lab['labour_cost']:.2f}",
                                               currency=lab["currency"], rate=f"{lab['rate_per_hour']:g}",
                                               total=f"{lab['total_cost']:.2f}"))
    r = data["result"]
    lines += ["", "## " + _("Result"), "", result_text(r)]
    return escape_controls("\n".join(lines), keep="\n") + "\n"


def customer_text(data: dict[str, Any], customer_lang: str | None = None) -> str:
    """The summary for the customer, in ``customer_lang`` (default: the current language)."""
    if not customer_lang:
        return tr(data["customer_summary"])
    with using_language(customer_lang):
        return tr(data["customer_summary"])


def _plan_md(plan: dict[str, Any]) -> list[str]:
    lines = []
    rtf = plan["return_to_factory"]
    if rtf:
        lines += ["**" + _("Return to factory") + f"**: {_md(tr(rtf['reason']))}", ""]
        lines += ["- " + _("evidence: {what}").format(what=_md(tr(e))) for e in rtf["evidence"]] + [""]
    if not plan["actions"]:
        lines.append(_("Nothing to do: no open fault in the unit."))
    for a in plan["actions"]:
        part = (" " + _("(part {number}, {price} {currency})").format(
            number=a["part_number"], price=f"{a['price']:.2f}", currency=plan["currency"])) if a["part_number"] else ""
        cond = (" *" + _("only if the fault persists") + "*") if a["conditional"] else ""
        lines.append(f"{a['order']}. {_md(tr(a['what']))}{part}: " + _("{minutes} min, for {faults}").format(
            minutes=a["minutes"], faults=", ".join(a["faults"])) + cond)
    lines += ["", _("Labour up to {minutes} min, cost up to {total} {currency} (parts {parts}); first pass {first} min, "
                    "{first_cost} {currency}.").format(
        minutes=plan["labour_minutes"], total=f"{plan['total_cost']:.2f}", currency=plan["currency"],
        parts=f"{plan['parts_cost']:.2f}", first=plan["first_pass_minutes"], first_cost=f"{plan['first_pass_cost']:.2f}")]
    if plan["unplanned"]:
        lines.append(_("Not in the catalogue (a technician decides): {faults}.").format(faults=", ".join(plan["unplanned"])))
    if plan["deferred"]:
        lines.append(_("Deferred until the unit is back from the factory: {faults}.").format(
            faults=", ".join(plan["deferred"])))
    return lines


def _compare_md(cmp: dict[str, Any] | None) -> list[str]:
    if cmp is None:
        return [_("No failing run followed by another run: nothing to compare.")]
    head = " | ".join([_("Step"), _("Measurement"), _("Before"), _("After"), _("Limit"), _("Change")])
    lines = [_("First failing run {before} ({before_verdict}) against the last run {after} ({after_verdict}).").format(
        before=cmp["before_run"][:8], before_verdict=verdict_word(cmp["before_verdict"]), after=cmp["after_run"][:8],
        after_verdict=verdict_word(cmp["after_verdict"])), "",
             f"| {head} |", "| --- | --- | ---: | ---: | --- | --- |"]
    for m in cmp["changes"]:
        lines.append(f"| {_cell(m['step'])} | {_cell(m['name'])} | {_cell(value_text(m['before'], m['unit']))} | "
                     f"{_cell(value_text(m['after'], m['unit']))} | {_cell(tr(m['limit'] or ''))} | "
                     f"{case_word(m['change'])} |")
    return lines


def judgement_text(j: dict[str, Any]) -> str:
    """The judgement's summary without the verdict it starts with (the report shows the verdict apart)."""
    text = tr(j["summary"])
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
        if r["last_run"]:
            return _("Open; last run {run}: {verdict}.").format(run=r["last_run"][:8],
                                                                 verdict=verdict_word(r["last_verdict"]))
        return _("Open.")
    reason = f" ({_md(r['close_reason'])})" if r["close_reason"] else ""
    return _("Closed {when}: {result}{reason}.").format(when=iso_time(r["closed_at"]),
                                                        result="**" + case_word(r["result"] or "") + "**", reason=reason)


def iso_time(text: str | None) -> str:
    """An ISO time of the report's data as ``2026-12-07 03:10:00 UTC`` (in the current language)."""
    return fmt_time(datetime.fromisoformat(text)) if text else "-"


__all__ = ["CASE_SCHEMA", "build_case_report", "customer_summary", "customer_text", "default_folder", "iso_time",
           "judgement_text",
           "render_case_json", "render_case_md", "result_text", "value_text"]
