"""A YAML plan collected as tests by the pytest plugin, as a user meets it: pytest on a plan in a
subprocess (the plugin loads through the installed package's entry point), its items' outcomes
and messages, and the run it stored.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.record import Outcome, RunRecord, Verdict

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[3]
QUICK_STEPS = ["identify", "firmware", "self-test", "battery", "tamper"]

RunPlan = Callable[..., pytest.RunResult]


@pytest.fixture
def plan_db(tmp_path: Path) -> str:
    """The store the inner pytest session writes to."""
    return f"sqlite:///{tmp_path / 'plans.db'}"


@pytest.fixture
def quick(pytester: pytest.Pytester) -> Path:
    """The shipped pos-quick plan, in the inner session's folder."""
    return Path(shutil.copy(ROOT / "testplans" / "pos-quick.yaml", pytester.path / "pos-quick.yaml"))


@pytest.fixture
def run_plan(pytester: pytest.Pytester, plan_db: str) -> RunPlan:
    """``run_plan(*args)``: pytest in a subprocess on the simulated bench, storing into ``plan_db``."""

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-sim", "--bench-db", plan_db, *args)

    return run


def stored(url: str) -> list[RunRecord]:
    """Every run in the store, oldest first, with its steps."""
    from bench.store.connect import open_store

    store = open_store(url)
    try:
        latest = store.latest_run()
        if latest is None or latest.unit is None:
            return [latest] if latest is not None else []
        return [store.get_run(s.run_id) for s in reversed(store.history(latest.unit.serial))]
    finally:
        store.close()


@pytest.mark.slow
def test_a_plan_on_the_command_line_is_one_passing_test_per_step(quick: Path, run_plan: RunPlan, plan_db: str) -> None:
    result = run_plan("-v", str(quick))
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([f"pos-quick.yaml::{name} PASSED*" for name in QUICK_STEPS])
    result.stdout.fnmatch_lines(["*PT-300 *: PASS (5 steps) - all steps passed - run *"])
    (run,) = stored(plan_db)
    assert run.verdict == Verdict.PASS
    assert [(s.name, s.check, s.outcome) for s in run.steps] == [
        ("identify", "unit.identify", Outcome.PASS), ("firmware", "unit.identify", Outcome.PASS),
        ("self-test", "unit.self_test", Outcome.PASS), ("battery", "power.battery", Outcome.PASS),
        ("tamper", "unit.tamper", Outcome.PASS),
    ]
    assert [s.index for s in run.steps] == list(range(5))
    assert any(m.name == "voltage" for m in run.steps[3].measurements)


@pytest.mark.slow
def test_a_failing_scenario_fails_its_step_with_the_fault_code(quick: Path, run_plan: RunPlan, plan_db: str,
                                                               tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = run_plan("-v", "--bench-scenario", "battery-low", f"--junitxml={junit}", str(quick))
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*pos-quick.yaml::battery FAILED*"])
    result.stdout.fnmatch_lines([
        "*_ battery (power.battery) _*",
        "PWR-BATT-LOW: charge_percent = 8 %: below min 20",
        "  voltage = 3.41 V*",
        "  charge_percent = 8 % (20 ≤ x ≤ 100 %) FAIL",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    (run,) = stored(plan_db)
    assert run.verdict == Verdict.FAIL
    assert [s.name for s in run.steps] == QUICK_STEPS
    battery = run.steps[3]
    assert (battery.outcome, battery.fault) == (Outcome.FAIL, "PWR-BATT-LOW")
    assert {m.name: m.passed for m in battery.measurements}["charge_percent"] is False
    assert run.findings[0].fault == "PWR-BATT-LOW"
    case = ET.parse(junit).find(".//testcase[@name='battery']")
    assert case is not None and case.find("failure") is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["bench.charge_percent"] == "8 % (20 ≤ x ≤ 100 %) FAIL"


@pytest.mark.slow
def test_a_step_over_its_timeout_fails_as_a_timeout(pytester: pytest.Pytester, quick: Path, run_plan: RunPlan,
                                                    plan_db: str) -> None:
    """The unit stops answering at ``battery``, whose plan gives it 1 s (its driver would try for 2 s)."""
    text = quick.read_text().replace("    check: power.battery\n", "    check: power.battery\n    timeout: 1\n")
    quick.write_text(text)
    result = run_plan("--bench-scenario", "unit-stops-answering", "-k", "not tamper", str(quick))
    result.assert_outcomes(passed=3, failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*_ battery (power.battery) _*", "STEP-TIMEOUT: did not finish within 1 s"])
    (run,) = stored(plan_db)
    assert [(s.name, s.outcome, s.fault) for s in run.steps][3:] == [("battery", Outcome.TIMEOUT, "STEP-TIMEOUT")]
    assert run.verdict == Verdict.FAIL


def test_a_unit_that_cannot_be_opened_errors_every_step(pytester: pytest.Pytester, quick: Path, plan_db: str) -> None:
    station = pytester.path / "station.toml"
    port = pytester.path / "no-such-port"
    station.write_text(f'name = "desk"\n[devices]\nunit = "{port}"\n')
    answers = pytester.path / "answers.yaml"
    answers.write_text("{}\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-station", str(station),
                                           "--bench-operator-script", str(answers), "--bench-db", plan_db, str(quick))
    result.assert_outcomes(errors=5)
    result.stdout.fnmatch_lines(["*_ ERROR at setup of identify (unit.identify) _*",
                                 "BENCH-PORT: cannot open unit port *no-such-port*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    (run,) = stored(plan_db)
    assert [(s.name, s.outcome, s.fault) for s in run.steps] == [(n, Outcome.ERROR, "BENCH-PORT") for n in QUICK_STEPS]
    assert run.verdict == Verdict.ERROR


@pytest.mark.slow
def test_a_session_stopped_early_stores_only_the_steps_that_ran(quick: Path, run_plan: RunPlan, plan_db: str) -> None:
    """The runner waits for each step's item: after ``-x`` stops at battery, tamper never ran."""
    result = run_plan("-x", "--bench-scenario", "battery-low", str(quick))
    result.assert_outcomes(passed=3, failed=1)
    (run,) = stored(plan_db)
    assert [s.name for s in run.steps] == QUICK_STEPS[:4]
    assert run.verdict == Verdict.FAIL


@pytest.mark.slow
def test_a_deselected_step_skips_the_steps_that_require_it(quick: Path, run_plan: RunPlan, plan_db: str) -> None:
    result = run_plan("-rs", "-k", "not identify", str(quick))
    result.assert_outcomes(passed=1, skipped=3, deselected=1)
    for line in (17, 20, 23):  # the requiring steps' lines in the plan
        result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] pos-quick.yaml:{line}: requires identify (not run)"])
    (run,) = stored(plan_db)
    assert [(s.name, s.outcome) for s in run.steps] == [
        ("firmware", Outcome.PASS), ("self-test", Outcome.SKIP), ("battery", Outcome.SKIP), ("tamper", Outcome.SKIP),
    ]
    assert {s.fault for s in run.steps[1:]} == {"TEST-SKIPPED"}  # not tested: the unit is not signed off
    assert run.verdict == Verdict.INCOMPLETE


@pytest.mark.slow
def test_a_plan_and_a_python_module_make_one_run(pytester: pytest.Pytester, quick: Path, run_plan: RunPlan,
                                                 plan_db: str) -> None:
    pytester.makepyfile(test_mine='''
        def test_voltage(unit, measure):
            measure("volts", unit.battery().voltage, min=3.0, unit="V")
    ''')
    result = run_plan("test_mine.py", str(quick))
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*: PASS (6 steps) - all steps passed - run *"])
    (run,) = stored(plan_db)
    assert [s.name for s in run.steps] == ["test_mine.py::test_voltage", *QUICK_STEPS]
    assert [s.check for s in run.steps][:2] == ["pytest", "unit.identify"]
    assert [s.index for s in run.steps] == list(range(6))


@pytest.mark.slow
def test_a_multi_up_bench_runs_the_plan_once_per_slot(quick: Path, run_plan: RunPlan, plan_db: str,
                                                      many_slots: None) -> None:
    result = run_plan("-v", "--bench-units", "2", str(quick))
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines([f"pos-quick.yaml::identify[[]slot{n}[]] PASSED*" for n in (1, 2)])
    result.stdout.fnmatch_lines(["slot 1: PT-300 *: PASS (5 steps)*", "slot 2: PT-300 *: PASS (5 steps)*"])
    from bench.store.connect import open_store

    store = open_store(plan_db)
    try:
        for serial in ("PT3-000123-01", "PT3-000123-02"):
            (summary,) = store.history(serial)
            assert [s.name for s in store.get_run(summary.run_id).steps] == QUICK_STEPS
    finally:
        store.close()


def test_a_plan_that_does_not_load_is_one_line(pytester: pytest.Pytester) -> None:
    bad = pytester.path / "bad.yaml"
    bad.write_text('plan: bad\nversion: "1"\nsteps:\n  - name: a\n    chek: unit.identify\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(bad))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*_ ERROR collecting bad.yaml _*",
        "bad.yaml:5: unknown field 'chek'; did you mean 'check'? (at steps[0].'chek')",
        "*= short test summary info =*",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*plans.py*")


def test_a_plan_without_a_bench_is_skipped_with_the_reason(pytester: pytest.Pytester, quick: Path) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", str(quick))
    result.assert_outcomes(skipped=5)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] pos-quick.yaml:10: no bench: run pytest with --bench-sim*"])


def test_only_plans_named_or_globbed_are_collected(pytester: pytest.Pytester, quick: Path) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    (pytester.path / "plans").mkdir()
    shutil.move(quick, pytester.path / "plans" / "pos-quick.yaml")
    shutil.copy(ROOT / "drivers" / "sim" / "scenarios" / "battery-low.yaml", pytester.path / "plans")
    (pytester.path / "settings.yml").write_text("not: a plan\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co", "-q")
    result.stdout.fnmatch_lines(["test_plain.py::test_one", "1 test collected*"])

    pytester.makeini("[pytest]\nbench_plans = plans/pos-*.yaml\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co", "-q")
    result.stdout.fnmatch_lines(["plans/pos-quick.yaml::identify", "6 tests collected*"])
    result.stdout.no_fnmatch_line("*battery-low*")


@pytest.mark.slow
def test_ctrl_c_while_a_step_runs_aborts_the_run(pytester: pytest.Pytester, quick: Path, plan_db: str) -> None:
    """The unit stops answering in ``battery``; Ctrl-C while ``tamper`` waits for it to come back."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "--bench-sim", "--bench-db", plan_db,
           "--bench-scenario", "unit-stops-answering", str(quick)]
    proc = subprocess.Popen(cmd, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "battery FAILED" in line:
                break
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen.append(out)
    text = "".join(seen)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, text
    assert "KeyboardInterrupt" in text
    assert "battery FAILED" in text
    (run,) = stored(plan_db)
    assert run.verdict == Verdict.ABORTED
    assert [s.name for s in run.steps] == QUICK_STEPS[:4]
