"""The fault (RMA) report: what a repair desk or a manufacturer's return process asks for.

Model, serial, firmware and hardware revision; the symptoms (failed steps, measured vs
expected); the diagnosis with suspected parts and actions; every step tried and its
result; when the unit last passed on this bench; operator, station and date.
:func:`build_rma` makes the plain data (``rma.json``, schema ``bench.rma/1``);
:func:`render_rma_md` turns it into Markdown (``rma.md``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.controls import escape_controls, escape_controls_json
from bench.record import Outcome, RunRecord
from bench.reports.format import fmt_time, fmt_value, last_pass_before, redacted, run_duration

if TYPE_CHECKING:
    from bench.store.history import RunHistory

RMA_SCHEMA = "bench.rma/1"
NEVER = "never on record"
NO_STORE = "unknown (no results store consulted)"


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
            last_text = (f"{fmt_time(found.started_at)} (run {found.run_id[:8]}, {last['plan']}, "
                         f"station {found.station})")
        else:
            last_text = NEVER
    elif unit is None:
        last_text = "unknown (the unit did not identify itself)"
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
    """``rma.md``: the fault report as Markdown for a person (no control characters, see :func:`_md`)."""
    u = data["unit"]
    title = " ".join(x for x in (u["model"], u["serial"]) if x) or "unknown unit"
    lines = [f"# Fault report: {_md(title)}", ""]
    lines.append(f"**Verdict: {data['verdict']}**" + (f": {_md(data['summary'])}" if data["summary"] else ""))
    lines += ["", "## Unit", "", "| | |", "| --- | --- |"]
    for label, value in (
        ("Model", u["model"]),
        ("Serial number", u["serial"]),
        ("Firmware", u["firmware"]),
        ("Hardware revision", u["hw_revision"]),
        ("Last passed on this bench", data["last_pass_text"]),
    ):
        lines.append(f"| {label} | {_cell(value)} |")

    lines += ["", "## Symptoms", ""]
    if not data["symptoms"]:
        skipped = [s["name"] for s in data["steps"] if s["outcome"] == "SKIP" and s["fault"]]
        if data["verdict"] == "PASS":
            lines.append("None: every step passed.")
        elif skipped:
            lines.append(f"No fault found, but the unit is not signed off: not tested: {', '.join(_md(s) for s in skipped)}.")
        elif not data["steps"]:
            lines.append(f"The run stopped before its first step: {_md(data['summary'])}")
        else:
            lines.append("No failed step recorded.")
    for s in data["symptoms"]:
        head = f"- **{_md(s['step'])}**: {s['outcome']}"
        if s["fault"]:
            head += f" `{s['fault']}`"
        if s["message"]:
            head += f": {_md(s['message'])}"
        lines.append(head)
        for m in s["measurements"]:
            unit = f" {_md(m['unit'])}" if m["unit"] else ""
            lines.append(f"  - {_md(m['name'])}: measured **{_md(fmt_value(m['measured']))}{unit}**, "
                         f"expected {_md(m['expected'] or '-')}")

    lines += ["", "## Diagnosis", ""]
    if not data["diagnosis"]:
        lines.append("No fault found.")
    for i, f in enumerate(data["diagnosis"], 1):
        whose = "unit" if f["in_unit"] else "not the unit" if f["category"] == "operator" else "bench (not the unit)"
        lines.append(f"{i}. **`{f['fault']}`: {_md(f['title'])}** ({f['category']}, {whose})")
        lines.append(f"   - Suspected part: {_md(f['part'])}")
        lines.append(f"   - Action: {_md(f['action'])}")
        if f["steps"]:
            lines.append(f"   - Seen in: {', '.join(_md(s) for s in f['steps'])}")
        if f["consequences"]:
            lines.append(f"   - Not tested because of it: {', '.join(_md(s) for s in f['consequences'])}")

    lines += ["", "## Steps tried", "", "| # | Step | Check | Result | Fault | Note |",
              "| ---: | --- | --- | --- | --- | --- |"]
    for s in data["steps"]:
        note = s["message"]
        if s["attempts"] > 1:
            note = f"{note} ({s['attempts']} attempts)".strip()
        lines.append(f"| {s['index']} | {_cell(s['name'])} | {_cell(s['check'])} | {s['outcome']} | "
                     f"{_cell(s['fault'])} | {_cell(note)} |")

    plan = data["plan"]
    lines += ["", "## Test", "", "| | |", "| --- | --- |"]
    duration = f"{data['duration_s']:g} s" if data["duration_s"] is not None else "-"
    for label, value in (
        ("Date", fmt_time(datetime.fromisoformat(data["date"]))),
        ("Operator", data["operator"]),
        ("Station", data["station"]),
        ("Plan", f"{plan['name']} {plan['version']} ({plan['hash'][:12]})"),
        ("Duration", duration),
        ("Run", data["run_id"]),
        ("Scenario (simulated)", data["scenario"]),
        ("Lot", data["lot"]),
    ):
        if value:
            lines.append(f"| {label} | {_cell(value)} |")
    # _md escapes every device text; this catches a field added later without it.
    return escape_controls("\n".join(lines), keep="\n") + "\n"


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
