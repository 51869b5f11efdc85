"""JUnit XML: valid against docs/junit.xsd, counts that match, read by a real consumer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import junitparser
from lxml import etree

from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports.junit import render_junit

ROOT = Path(__file__).resolve().parents[3]
XSD = ROOT / "docs" / "junit.xsd"
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
PAN = "4761739001010010"


def make_run(*outcomes: Outcome, verdict: Verdict = Verdict.FAIL, model: str = "PT-300") -> RunRecord:
    """A run with one step per outcome; FAIL steps carry a failed battery measurement."""
    steps = []
    for i, o in enumerate(outcomes):
        ms = [Measurement("voltage", 7.9, "V", Limit(min=7.0, max=8.6, unit="V"), True)]
        fault, message = None, ""
        if o == Outcome.FAIL:
            ms = [Measurement("voltage", 3.41, "V", Limit(min=7.0, max=8.6, unit="V"), False, "PWR-BATT-LOW",
                              "voltage = 3.41 V: below min 7")]
            fault, message = "PWR-BATT-LOW", "voltage = 3.41 V: below min 7"
        elif o == Outcome.ERROR:
            fault, message = "BENCH-NO-READER", "no PC/SC reader"
        elif o == Outcome.SKIP:
            message = "skipped: battery did not pass"
        elif o == Outcome.TIMEOUT:
            message = "step timed out after 5 s"
        steps.append(StepRecord(i, f"step-{i}", "power.battery", o, T0 + timedelta(seconds=i), 0.25,
                                fault=fault, message=message, measurements=ms,
                                log=[f"line {i} \x00 <b>&", f"card {PAN}"]))
    return RunRecord(
        run_id="11111111-2222-3333-4444-555555555555", plan_name="pos-full", plan_version="1.0",
        plan_hash="ab" * 32, station="bench-7", operator="ana", started_at=T0,
        ended_at=T0 + timedelta(seconds=12.5), verdict=verdict,
        unit=UnitInfo(model, "PT3-000123", "C", "2.4.1"), steps=steps,
        findings=[Finding("PWR-BATT-LOW", "battery too low", "consumable", "battery", "charge it", True,
                          ["step-0"])],
        summary="unit: battery too low",
    )


def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _validate(text: str) -> None:
    schema = _schema()
    doc = etree.fromstring(text.encode("utf-8"))
    assert schema.validate(doc), schema.error_log


def test_valid_against_xsd_with_counts() -> None:
    rec = make_run(Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.SKIP, Outcome.TIMEOUT)
    text = render_junit(rec)
    _validate(text)
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib["name"] == "pos-full" and suite.attrib["hostname"] == "bench-7"
    assert suite.attrib["timestamp"] == "2024-05-01T08:00:00" and suite.attrib["time"] == "12.500"
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == (
        "5", "2", "1", "1")
    assert root.attrib["tests"] == "5" and root.attrib["failures"] == "2"
    cases = suite.findall("testcase")
    assert [c.attrib["name"] for c in cases] == [f"step-{i}" for i in range(5)]
    assert {c.attrib["classname"] for c in cases} == {"bench.pos-full"}
    failure = cases[1].find("failure")
    assert failure is not None and failure.attrib["type"] == "PWR-BATT-LOW"
    assert "measured 3.41 V, expected 7 ≤ x ≤ 8.6 V" in (failure.text or "")
    assert cases[2].find("error") is not None and cases[2].find("error").attrib["type"] == "BENCH-NO-READER"  # type: ignore[union-attr]
    assert cases[3].find("skipped").attrib["message"] == "skipped: battery did not pass"  # type: ignore[union-attr]
    assert cases[4].find("failure").attrib["type"] == "STEP-TIMEOUT"  # type: ignore[union-attr]
    props = {p.attrib["name"]: p.attrib["value"] for p in cases[1].iter("property")}
    assert props == {"voltage": "3.41", "voltage.unit": "V", "voltage.limit": "7 ≤ x ≤ 8.6 V"}
    out = cases[0].find("system-out")
    assert out is not None and "line 0 \ufffd <b>&" in (out.text or "")


def test_no_full_pan_and_control_chars_replaced() -> None:
    text = render_junit(make_run(Outcome.FAIL))
    assert PAN not in text and "476173******0010" in text
    assert "\x00" not in text


def test_error_verdict_without_failing_step_is_not_green() -> None:
    rec = make_run(Outcome.PASS, verdict=Verdict.ABORTED)
    text = render_junit(rec)
    _validate(text)
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None and suite.attrib["errors"] == "1" and suite.attrib["tests"] == "2"
    run_case = suite.findall("testcase")[-1]
    assert run_case.attrib["name"] == "run" and run_case.find("error") is not None


def test_xsd_rejects_what_consumers_cannot_read() -> None:
    """The schema is not a rubber stamp: a failure without testcase or a bad count fails it."""
    schema = _schema()
    bad = ['<testsuites><testsuite name="x" tests="-1" failures="0" errors="0"/></testsuites>',
           '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><failure/></testsuite></testsuites>',
           '<testsuites><testsuite name="x" tests="1" failures="0" errors="0">'
           '<testcase name="a" classname="b"><failure/><error/></testcase></testsuite></testsuites>']
    for doc in bad:
        assert not schema.validate(etree.fromstring(doc)), doc


def test_real_consumer_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(make_run(Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.SKIP)), "utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 1, 1, 1)
    results = {case.name: [type(r).__name__ for r in case.result] for case in suite}
    assert results == {"step-0": [], "step-1": ["Failure"], "step-2": ["Error"], "step-3": ["Skipped"]}
    failing = next(case for case in suite if case.name == "step-1")
    assert failing.result[0].type == "PWR-BATT-LOW"
    assert "below min 7" in failing.result[0].message


def test_script_in_model_is_text() -> None:
    text = render_junit(make_run(Outcome.PASS, model="<script>alert(1)</script>"))
    assert "<script>" not in text and "&lt;script&gt;" in text
    _validate(text)
