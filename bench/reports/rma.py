"""The fault (RMA) report: what a repair desk or a manufacturer's return process asks for.

Model, serial, firmware and hardware revision; the symptoms (failed steps, measured vs
expected); the diagnosis with suspected parts and actions; every step tried and its
result; when the unit last passed on this bench; operator, station and date.
:func:`build_rma` makes the plain data (``rma.json``, schema ``bench.rma/1``);
:func:`render_rma_md` turns it into Markdown (``rma.md``), in the current language; the data
keeps the English of every text (its translatable texts are :class:`~drivers.i18n.Text`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.controls import escape_controls, escape_controls_json
from bench.record import Outcome, RunRecord
from bench.reports.format import fmt_seconds, fmt_time, fmt_value, last_pass_before, redacted, run_duration
from bench.reports.words import category_word, verdict_word
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.store.history import RunHistory

RMA_SCHEMA = "bench.rma/1"
NEVER = N_("never on record")
NO_STORE = N_("unknown (no results store consulted)")


def build_rma(rec: RunRecord, history: RunHistory | None = None) -> dict[str, Any]:
    """The fault report of ``rec`` as plain JSON-able data (PAN-redacted).

    Args:
        rec: the run.
        history: the unit's past (read-only), to find when the unit last passed before this run;
            without it the last pass is reported as unknown.
    """
    rec = redacted(rec)
    unit = rec.unit
    symptoms: list[dict[str, Any]] = []
    for s in rec.steps:
        if s.outcome not in (Outcome.FAIL, Outcome.TIMEOUT, Outcome.ERROR):
            continue
        symptoms.append({
            "step": s.name,
            "outcome": s.outcome.value,
            "fault": s.fault or next((m.fault for m in s.measurements if not m.passed and m.fault), None),
            "message": s.message,
            "measurements": [
                {
                    "name": m.name,
                    "measured": m.value,
                    "unit": m.unit,
                    "expected": m.limit.describe() if m.limit else None,
                    "fault": m.fault,
                }
                for m in s.measurements
                if not m.passed
            ],
        })
    last: dict[str, Any] | None = None
    if history is not None and unit is not None:
        found = last_pass_before(history, rec)
        if found is not None:
            last = {
                "run_id": found.run_id,
                "date": _iso(found),
                "plan": f"{found.plan_name} {found.plan_version}",
                "station": found.station,
            }
            last_text = N_("{date} (run {run}, {plan}, station {station})", date=_utc_text(found.started_at),
                           run=found.run_id[:8], plan=last["plan"], station=found.station)
        else:
            last_text = NEVER
    elif unit is None:
        last_text = N_("unknown (the unit did not identify itself)")
    else:
        last_text = NO_STORE
    duration = run_duration(rec)
    return {
        "schema": RMA_SCHEMA,
        "run_id": rec.run_id,
        "date": rec.started_at.isoformat().replace("+00:00", "Z"),
        "verdict": rec.verdict.value,
        "summary": rec.summary,
        "unit": {
            "model": unit.model if unit else None,
            "serial": unit.serial if unit else None,
            "firmware": unit.firmware if unit else None,
            "hw_revision": unit.hw_revision if unit else None,
        },
        "symptoms": symptoms,
        "diagnosis": [f.to_dict() for f in rec.findings],
        "steps": [
            {
                "index": s.index + 1,
                "name": s.name,
                "check": s.check,
                "outcome": s.outcome.value,
                "fault": s.fault,
                "message": s.message,
                "attempts": s.attempts,
                "duration_s": round(s.duration_s, 3),
            }
            for s in rec.steps
        ],
        "last_pass": last,
        "last_pass_text": last_text,
        "operator": rec.operator,
        "station": rec.station,
        "plan": {"name": rec.plan_name, "version": rec.plan_version, "hash": rec.plan_hash},
        "duration_s": round(duration, 3) if duration is not None else None,
        "scenario": rec.scenario,
        "lot": rec.lot,
    }


def render_rma_json(data: dict[str, Any]) -> str:
    """``rma.json``: the data of :func:`build_rma`, indented (control characters as ``\\uXXXX``)."""
    return escape_controls_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def render_rma_md(data: dict[str, Any]) -> str:
    """``rma.md``: the fault report as Markdown for a person, in the current language (no control characters,
    see :func:`_md`)."""
    u = data["unit"]
    title = " ".join(x for x in (u["model"], u["serial"]) if x) or _("unknown unit")
    lines = ["# " + _("Fault report: {unit}").format(unit=_md(title)), ""]
    verdict = _("Verdict: {verdict}").format(verdict=verdict_word(data["verdict"]))
    lines.append(_("{label}: {text}").format(label=f"**{verdict}**", text=_md(tr(data["summary"])))
                 if data["summary"] else f"**{verdict}**")
    lines += ["", "## " + _("Unit"), "", "| | |", "| --- | --- |"]
    for label, value in (
        (_("Model"), u["model"]),
        (_("Serial number"), u["serial"]),
        (_("Firmware"), u["firmware"]),
        (_("Hardware revision"), u["hw_revision"]),
        (_("Last passed on this bench"), _last_pass_md(data)),
    ):
        lines.append(f"| {label} | {_cell(value)} |")

    lines += ["", "## " + _("Symptoms"), ""]
    if not data["symptoms"]:
        skipped = [s["name"] for s in data["steps"] if s["outcome"] == "SKIP" and s["fault"]]
        if data["verdict"] == "PASS":
            lines.append(_("None: every step passed."))
        elif skipped:
            lines.append(_("No fault found, but the unit is not signed off: not tested: {steps}.").format(
                steps=", ".join(_md(s) for s in skipped)))
        elif not data["steps"]:
            lines.append(_("The run stopped before its first step: {summary}").format(summary=_md(tr(data["summary"]))))
        else:
            lines.append(_("No failed step recorded."))
    for s in data["symptoms"]:
        head = _("{label}: {text}").format(label=f"- **{_md(s['step'])}**", text=verdict_word(s["outcome"]))
        if s["fault"]:
            head += f" `{s['fault']}`"
        if s["message"]:
            head = _("{label}: {text}").format(label=head, text=_md(tr(s["message"])))
        lines.append(head)
        for m in s["measurements"]:
            unit = f" {_md(m['unit'])}" if m["unit"] else ""
            lines.append("  - " + _("{name}: measured **{value}**, expected {limit}").format(
                name=_md(m["name"]), value=_md(fmt_value(m["measured"])) + unit, limit=_md(tr(m["expected"] or "-"))))

    lines += ["", "## " + _("Diagnosis"), ""]
    if not data["diagnosis"]:
        lines.append(_("No fault found."))
    for i, f in enumerate(data["diagnosis"], 1):
        whose = (_("unit") if f["in_unit"] else _("not the unit") if f["category"] == "operator"
                 else _("bench (not the unit)"))
        title = _("{label}: {text}").format(label=f"`{f['fault']}`", text=_md(tr(f["title"])))
        lines.append(f"{i}. **{title}** " + _("({kind}, {whose})").format(kind=category_word(f["category"]), whose=whose))
        lines.append("   - " + _("Suspected part: {part}").format(part=_md(tr(f["part"]))))
        lines.append("   - " + _("Action: {action}").format(action=_md(tr(f["action"]))))
        if f["steps"]:
            lines.append("   - " + _("Seen in: {steps}").format(steps=", ".join(_md(s) for s in f["steps"])))
        if f["consequences"]:
            lines.append("   - " + _("Not tested because of it: {steps}").format(
                steps=", ".join(_md(s) for s in f["consequences"])))

    head = " | ".join(["#", _("Step"), _("Check"), _("Result"), _("Fault"), _("Note")])
    lines += ["", "## " + _("Steps tried"), "", f"| {head} |", "| ---: | --- | --- | --- | --- | --- |"]
    for s in data["steps"]:
        note = tr(s["message"])
        if s["attempts"] > 1:
            attempts = _("{n} attempts").format(n=s["attempts"])
            note = f"{note} " + _("({text})").format(text=attempts) if note else _("({text})").format(text=attempts)
        lines.append(f"| {s['index']} | {_cell(s['name'])} | {_cell(s['check'])} | {verdict_word(s['outcome'])} | "
                     f"{_cell(s['fault'])} | {_cell(note)} |")

    plan = data["plan"]
    lines += ["", "## " + _("Test"), "", "| | |", "| --- | --- |"]
    duration = fmt_seconds(data["duration_s"], None) if data["duration_s"] is not None else "-"
    for label, value in (
        (_("Date"), fmt_time(datetime.fromisoformat(data["date"]))),
        (_("Operator"), data["operator"]),
        (_("Station"), data["station"]),
        (_("Plan"), f"{plan['name']} {plan['version']} " + _("({text})").format(text=plan["hash"][:12])),
        (_("Duration"), duration),
        (_("Run"), data["run_id"]),
        (_("Scenario (simulated)"), data["scenario"]),
        (_("Lot"), data["lot"]),
    ):
        if value:
            lines.append(f"| {label} | {_cell(value)} |")
    # _md escapes every device text; this catches a field added later without it.
    return escape_controls("\n".join(lines), keep="\n") + "\n"


def _utc_text(t: datetime) -> str:
    """A time in the English of the data (``rma.json`` is the same in every language)."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _last_pass_md(data: dict[str, Any]) -> str:
    last = data["last_pass"]
    if last is None:
        return tr(data["last_pass_text"])
    return _("{date} (run {run}, {plan}, station {station})").format(
        date=fmt_time(datetime.fromisoformat(last["date"].replace("Z", "+00:00"))), run=last["run_id"][:8],
        plan=last["plan"], station=last["station"])


def _iso(summary: Any) -> str:
    return str(summary.started_at.isoformat()).replace("+00:00", "Z")


_MD_SPECIAL = re.compile(r"[\\`*\[\]<|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|^#")


def _md(text: Any) -> str:
    """Text from the device, made inert in Markdown (no HTML, links, code or emphasis), on one line.

    Underscores inside words (``charge_percent``) stay as they are: they cannot start emphasis.
    Control characters become visible escapes (``\\x1b``, see :mod:`bench.controls`).
    """
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), escape_controls(" ".join(str(text).split())))


def _cell(value: Any) -> str:
    return "-" if value in (None, "") else _md(value)


__all__ = ["NEVER", "NO_STORE", "RMA_SCHEMA", "build_rma", "render_rma_json", "render_rma_md"]
