"""The run as JUnit XML, the dialect CI systems read (schema: ``docs/junit.xsd``).

One ``<testsuite>`` per run (name = plan, hostname = station), one ``<testcase>`` per
step (classname ``bench.<plan>``, name = step name). Measurements are testcase
``<property>`` pairs: ``NAME`` = value, ``NAME.unit``, ``NAME.limit`` (the limit in
words). FAIL and TIMEOUT become ``<failure type="FAULT-CODE">`` with measured vs
expected, ERROR becomes ``<error>``, SKIP ``<skipped>``; the step log is ``<system-out>``.
A run that ended ERROR or ABORTED without any step saying so gets one extra
``run`` testcase with an ``<error>``, and an INCOMPLETE run (steps the operator skipped:
``<skipped>`` alone would read as green) one with a ``<failure type="RUN-INCOMPLETE">``,
so CI never shows a run green that did not PASS.
Timestamps are UTC without an offset (``2026-11-24T22:20:04``), as most consumers expect.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from bench.record import Outcome, RunRecord, StepRecord, Verdict, iso
from bench.reports.format import fmt_value, redacted, run_duration
from drivers.i18n import SOURCE_LANGUAGE, using_language

# XML 1.0 allows tab, LF, CR and these ranges; anything else a device sends is replaced.
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(rec: RunRecord) -> str:
    """The JUnit XML document of ``rec`` (PAN-redacted), as text with an XML declaration."""
    return render_junit_many([rec])


def render_junit_many(records: list[RunRecord]) -> str:
    """One JUnit XML document for the runs of a multi-up station: a test suite per unit (English, whatever the
    language of the process: CI reads it)."""
    with using_language(SOURCE_LANGUAGE):
        suites = [_suite(redacted(rec), n, several=len(records) > 1) for n, rec in enumerate(records)]
    counts = {k: sum(c[k] for _, c, _ in suites) for k in ("tests", "failures", "errors", "skipped")}
    time = f"{max((t for _, _, t in suites), default=0.0):.3f}"
    plans = sorted({rec.plan_name for rec in records})
    name = f"bench {', '.join(plans)}" + (f" on {len(records)} units" if len(records) > 1 else "")
    root = ET.Element("testsuites", _attrs(name=name, time=time, **_str(counts)))
    root.extend(suite for suite, _, _ in suites)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(rec: RunRecord, index: int, *, several: bool) -> tuple[ET.Element, dict[str, int], float]:
    """The ``testsuite`` of one run, its counts and its duration."""
    plan = rec.plan_name
    cases = [_testcase(plan, s) for s in rec.steps]
    counts = {
        "tests": len(rec.steps),
        "failures": sum(s.outcome in (Outcome.FAIL, Outcome.TIMEOUT) for s in rec.steps),
        "errors": sum(s.outcome == Outcome.ERROR for s in rec.steps),
        "skipped": sum(s.outcome == Outcome.SKIP for s in rec.steps),
    }
    if rec.verdict in (Verdict.ERROR, Verdict.ABORTED, Verdict.RUNNING) and not (
        counts["failures"] or counts["errors"]
    ):
        cases.append(_run_error(rec))
        counts["tests"] += 1
        counts["errors"] += 1
    elif rec.verdict == Verdict.INCOMPLETE and not counts["failures"]:
        cases.append(_run_error(rec, "failure"))
        counts["tests"] += 1
        counts["failures"] += 1
    total = run_duration(rec)
    if total is None:
        total = sum(s.duration_s for s in rec.steps)
    unit = rec.unit
    name = plan
    if several:  # one suite per unit: which slot and which unit, so CI shows them apart
        name = f"{plan} slot {rec.slot if rec.slot is not None else index + 1}" + (f" {unit.serial}" if unit else "")
    suite = ET.Element(
        "testsuite",
        _attrs(
            name=name,
            **_str(counts),
            time=f"{total:.3f}",
            timestamp=_timestamp(rec.started_at),
            hostname=rec.station,
            id=str(index),
        ),
    )
    props = ET.SubElement(suite, "properties")
    for prop, value in (
        ("run_id", rec.run_id),
        ("verdict", rec.verdict.value),
        ("summary", rec.summary),
        ("plan.name", rec.plan_name),
        ("plan.version", rec.plan_version),
        ("plan.hash", rec.plan_hash),
        ("station", rec.station),
        ("operator", rec.operator),
        ("unit.model", unit.model if unit else ""),
        ("unit.serial", unit.serial if unit else ""),
        ("unit.hw_revision", unit.hw_revision if unit else ""),
        ("unit.firmware", unit.firmware if unit else ""),
        ("started_at", iso(rec.started_at)),
        ("ended_at", iso(rec.ended_at) if rec.ended_at else ""),
        ("scenario", rec.scenario or ""),
        ("lot", rec.lot or ""),
        ("bench_version", rec.bench_version),
    ) + ((("slot", str(rec.slot)),) if rec.slot is not None else ()):
        ET.SubElement(props, "property", _attrs(name=prop, value=value))
    suite.extend(cases)
    out = ET.SubElement(suite, "system-out")
    out.text = _clean(_diagnosis_text(rec))
    return suite, counts, total


def _testcase(plan: str, step: StepRecord) -> ET.Element:
    case = ET.Element(
        "testcase", _attrs(classname=f"bench.{plan}", name=step.name, time=f"{step.duration_s:.3f}")
    )
    if step.measurements:
        props = ET.SubElement(case, "properties")
        for m in step.measurements:
            ET.SubElement(props, "property", _attrs(name=m.name, value=fmt_value(m.value)))
            if m.unit:
                ET.SubElement(props, "property", _attrs(name=f"{m.name}.unit", value=m.unit))
            if m.limit is not None:
                ET.SubElement(props, "property", _attrs(name=f"{m.name}.limit", value=m.limit.describe()))
    if step.outcome in (Outcome.FAIL, Outcome.TIMEOUT):
        default = "STEP-TIMEOUT" if step.outcome == Outcome.TIMEOUT else "UNIT-FAULT"
        code = step.fault or _first_fault(step) or default
        el = ET.SubElement(case, "failure", _attrs(message=_message(step), type=code))
        el.text = _clean(_details(step))
    elif step.outcome == Outcome.ERROR:
        el = ET.SubElement(case, "error", _attrs(message=_message(step), type=step.fault or "BENCH-ERROR"))
        el.text = _clean(_details(step))
    elif step.outcome == Outcome.SKIP:
        ET.SubElement(case, "skipped", _attrs(message=step.message or "skipped"))
    if step.log:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(step.log))
    return case


def _run_error(rec: RunRecord, kind: str = "error") -> ET.Element:
    case = ET.Element("testcase", _attrs(classname=f"bench.{rec.plan_name}", name="run", time="0.000"))
    message = f"run ended {rec.verdict.value}" + (f": {rec.summary}" if rec.summary else "")
    el = ET.SubElement(case, kind, _attrs(message=message, type=f"RUN-{rec.verdict.value}"))
    el.text = _clean(message)
    return case


def _first_fault(step: StepRecord) -> str | None:
    return next((m.fault for m in step.measurements if not m.passed and m.fault), None)


def _message(step: StepRecord) -> str:
    if step.message:
        return step.message
    failed = [m.message or f"{m.name} out of limits" for m in step.measurements if not m.passed]
    return "; ".join(failed) or step.outcome.value.lower()


def _details(step: StepRecord) -> str:
    lines = [f"{step.outcome.value}: {_message(step)}"]
    for m in step.measurements:
        if m.passed:
            continue
        unit = f" {m.unit}" if m.unit else ""
        expected = m.limit.describe() if m.limit else "-"
        fault = f" [{m.fault}]" if m.fault else ""
        lead = f"{m.message}: " if m.message and not m.message.startswith(m.name) else ""
        lines.append(f"{lead}{m.name} measured {fmt_value(m.value)}{unit}, expected {expected}{fault}")
    if step.attempts > 1:
        lines.append(f"attempts: {step.attempts}")
    return "\n".join(lines)


def _diagnosis_text(rec: RunRecord) -> str:
    lines = [f"verdict: {rec.verdict.value}" + (f" - {rec.summary}" if rec.summary else "")]
    for f in rec.findings:
        whose = "unit" if f.in_unit else "bench"
        lines.append(f"{f.fault}: {f.title} [{f.category}, {whose}] part: {f.part}; action: {f.action}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _attrs(**values: str) -> dict[str, str]:
    return {k: _clean(v) for k, v in values.items()}


def _str(counts: dict[str, int]) -> dict[str, str]:
    return {k: str(v) for k, v in counts.items()}


def _timestamp(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


__all__ = ["render_junit"]
