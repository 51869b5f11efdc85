"""``measure()``: each kind of limit's message as the user reads it, in pytest's output, the stored
step and the JUnit XML; a mistake in a limit is the test's own error, not a verdict on the unit.

A station with only the bench host (no simulator) is bench enough: ``measure`` needs a run record.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pluginruns import latest_run

from bench.record import Outcome

pytest_plugins = ["pytester"]

MEASURES = '''
def test_firmware(measure):
    measure("firmware", "2.4.1", equals="9.9.9")

def test_cover(measure):
    measure("printer.cover_open", True, equals=False)

def test_cover_with_its_fault(measure):
    measure("printer.cover_open", True, equals=False, fault="PRN-COVER")

def test_within_limits(measure):
    measure("head.temperature", 41.5, max=60, unit="°C")
    measure("retries", 3)

def test_limit_mistake(measure):
    measure("voltage", 7.6, min=float("nan"))

def test_equals_mistake(measure):
    measure("voltage", 7.6, equals=float("nan"))
'''


def test_each_limits_message_in_output_store_and_junit(pytester: pytest.Pytester, db_url: str,
                                                       tmp_path: Path) -> None:
    station = pytester.path / "host-only.toml"
    station.write_text('name = "host-only"\n[devices]\nhost = "tcp://127.0.0.1:0"\n')
    pytester.makepyfile(test_measures=MEASURES)
    junit = tmp_path / "junit.xml"

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-station", str(station),
                                           "--bench-db", db_url, f"--junitxml={junit}")

    result.assert_outcomes(passed=1, failed=5)
    firmware = "firmware: 2.4.1, expected '9.9.9'"
    cover = "printer cover open: yes, expected no"
    mistake = "measurement voltage: min must be a finite number, not nan"
    never = "measurement voltage: equals nan, which no value equals"
    result.stdout.fnmatch_lines([f"E *MeasurementFailed: {firmware}", f"E *MeasurementFailed: {cover}",
                                 "E *MeasurementFailed: printer cover open", f"E *ValueError: {mistake}",
                                 f"E *ValueError: {never}"])
    run = latest_run(db_url)
    assert [(s.name.split("::")[1], s.outcome, s.fault, s.message) for s in run.steps] == [
        ("test_firmware", Outcome.FAIL, "TEST-FAILED", firmware),
        ("test_cover", Outcome.FAIL, "TEST-FAILED", cover),  # not the title of TEST-FAILED
        ("test_cover_with_its_fault", Outcome.FAIL, "PRN-COVER", "printer cover open"),  # the fault's title
        ("test_within_limits", Outcome.PASS, None, ""),
        ("test_limit_mistake", Outcome.ERROR, "TEST-ERROR", f"error in the test: ValueError: {mistake}"),
        ("test_equals_mistake", Outcome.ERROR, "TEST-ERROR", f"error in the test: ValueError: {never}"),
    ]
    temperature, retries = run.steps[3].measurements
    assert (temperature.value, temperature.unit, temperature.passed) == (41.5, "°C", True)
    assert temperature.limit is not None and temperature.limit.max == 60
    assert (retries.value, retries.limit, retries.passed) == (3, None, True)
    root = ET.parse(junit).getroot()
    props = {(case.get("name"), p.get("name")): p.get("value")
             for case in root.iter("testcase") for p in case.iterfind("properties/property")}
    assert props == {
        ("test_firmware", "bench.firmware"): "2.4.1 (= '9.9.9') FAIL",
        ("test_cover", "bench.printer.cover_open"): "True (no) FAIL",
        ("test_cover_with_its_fault", "bench.printer.cover_open"): "True (no) FAIL",
        ("test_within_limits", "bench.head.temperature"): "41.5 °C (≤ 60 °C) pass",
        ("test_within_limits", "bench.retries"): "3 pass",
    }
