"""A test as a step of the run: card numbers masked wherever pytest and bench show or keep a failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pluginruns import RunBench, latest_run, stored_runs

from bench.record import Outcome

pytest_plugins = ["pytester"]

FULL, SPACED, MASKED = "4761739001010010", "4761 7390 0101 0010", "476173******0010"

CARD_DATA = f'''
import logging

def test_card_refused(unit):
    logging.getLogger("pos").warning("card %s inserted", "{SPACED}")
    print("the terminal read {FULL}")
    assert unit.identify().serial == "nobody", "card {SPACED} refused"
'''


@pytest.mark.slow
def test_a_full_pan_in_a_failure_is_masked_in_output_junit_store_and_reports(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str, tmp_path: Path) -> None:
    pytester.makepyfile(test_card=CARD_DATA)
    junit, reports = tmp_path / "junit.xml", tmp_path / "reports"

    result = run_bench("-vv", "-rA", f"--junitxml={junit}", "-o", "junit_logging=all",
                       "--bench-report", str(reports))

    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str()
    # the failure as pytest shows it, the short summary line included (it reads the crash line)
    result.stdout.fnmatch_lines([f"E * card {MASKED} refused",
                                 f"FAILED test_card.py::test_card_refused - AssertionError: card {MASKED} refused"])
    assert f"the terminal read {MASKED}" in shown and f"card {MASKED} inserted" in shown
    xml = junit.read_text()
    assert f"the terminal read {MASKED}" in xml  # the captured output, masked
    failure = ET.parse(junit).getroot().find(".//testcase/failure")
    assert failure is not None and failure.get("message", "").startswith(f"AssertionError: card {MASKED} refused")
    [run] = stored_runs(db_url)
    [step] = run.steps
    assert (step.outcome, step.fault) == (Outcome.FAIL, "TEST-FAILED")
    assert step.message == f"AssertionError: card {MASKED} refused"
    assert any(f"card {MASKED} inserted" in line for line in step.log)
    assert any(f"the terminal read {MASKED}" in line for line in step.log)
    written = {p.name: p.read_text() for p in next(reports.iterdir()).iterdir()}
    assert MASKED in written["run.json"]
    for where, text in [("pytest's output", shown), ("the JUnit XML", xml), ("the store", repr(run)),
                        *written.items()]:
        assert FULL not in text and SPACED not in text, f"a full PAN in {where}"


@pytest.mark.slow
def test_live_logging_masks_card_numbers_too(pytester: pytest.Pytester, run_bench: RunBench) -> None:
    # log_cli prints records as they are made, before any report exists: the records themselves are masked.
    pytester.makepyfile(test_card=CARD_DATA)

    result = run_bench("-o", "log_cli=true", "-o", "log_cli_level=WARNING")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"WARNING *card {MASKED} inserted*"])
    assert SPACED not in result.stdout.str() + result.stderr.str()


CARD_IN_NAMES = f'''
import pytest

@pytest.mark.parametrize("card", ["{FULL}"])
def test_card_id(measure, card):
    measure(f"pan {{card}}", 1, max=2)

def test_known_issue(measure):
    pytest.xfail("card {SPACED} declined")
'''


@pytest.mark.slow
def test_a_pan_in_a_parameter_a_measurement_name_or_an_xfail_reason_is_masked(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str, tmp_path: Path) -> None:
    pytester.makepyfile(test_card=CARD_IN_NAMES)
    junit = tmp_path / "junit.xml"

    result = run_bench("-v", "-rx", f"--junitxml={junit}")

    result.assert_outcomes(passed=1, xfailed=1)
    exact = MASKED.replace("*", "[*]")  # fnmatch reads the mask's stars as wildcards
    result.stdout.fnmatch_lines([f"test_card.py::test_card_id[[]{exact}[]] PASSED*",
                                 f"XFAIL test_card.py::test_known_issue - card {exact} declined"])
    root = ET.parse(junit).getroot()
    assert [p.get("name") for p in root.iterfind(".//property")] == [f"bench.pan {MASKED}"]
    skipped = root.find(".//testcase/skipped")
    assert skipped is not None and skipped.get("message") == f"card {MASKED} declined"
    run = latest_run(db_url)  # no test asks for the unit: a run with no unit identified
    assert [s.name for s in run.steps] == [f"test_card.py::test_card_id[{MASKED}]", "test_card.py::test_known_issue"]
    assert [m.name for m in run.steps[0].measurements] == [f"pan {MASKED}"]
    assert run.steps[1].message == f"expected to fail: card {MASKED} declined"
    xml = junit.read_text()
    assert f'name="test_card_id[{MASKED}]"' in xml
    for where, text in [("pytest's output", result.stdout.str() + result.stderr.str()), ("the JUnit XML", xml),
                        ("the store", repr(run))]:
        assert FULL not in text and SPACED not in text, f"a full PAN in {where}"
