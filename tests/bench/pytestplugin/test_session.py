"""The session's run record: one run, its steps stored as each test ends, ABORTED when interrupted."""

from __future__ import annotations

import pytest
from pluginruns import SERIAL, RunBench, bench_lines, stored_runs

from bench.record import Outcome, Verdict

pytest_plugins = ["pytester"]

INTERRUPTED = '''
def test_first(unit):
    assert unit.identify().serial

def test_second(unit):
    raise KeyboardInterrupt  # as Ctrl-C in the middle of a test

def test_third(unit):
    raise AssertionError("must not run")
'''


@pytest.mark.slow
def test_an_interrupted_session_leaves_its_run_aborted_with_the_finished_steps(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str) -> None:
    pytester.makepyfile(test_interrupted=INTERRUPTED)

    result = run_bench()

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(passed=1)
    assert "must not run" not in result.stdout.str()
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: ABORTED (1 step) - interrupted before every test ran - run ")
    [run] = stored_runs(db_url)
    assert (run.verdict, run.summary) == (Verdict.ABORTED, "interrupted before every test ran")
    assert run.ended_at is not None
    assert [(s.name, s.outcome) for s in run.steps] == [("test_interrupted.py::test_first", Outcome.PASS)]


SESSION = '''
import pytest

def test_one(unit):
    pass

@pytest.mark.skipif(True, reason="no printer on this bench")
def test_marked(printer):
    raise AssertionError("must not run")

def test_two(unit, measure):
    measure("battery.charge", unit.battery().charge_percent, min=50, unit="%")

def test_skipped_inside(unit):
    pytest.skip("no keypad overlay on this bench")
'''


@pytest.mark.slow
def test_one_run_per_session_and_a_skipped_test_keeps_it_from_passing_marked_or_not(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str) -> None:
    pytester.makepyfile(test_session=SESSION)

    result = run_bench()

    result.assert_outcomes(passed=2, skipped=2)
    assert result.ret == pytest.ExitCode.OK  # pytest's own exit codes apply
    [run] = stored_runs(db_url)
    assert run.verdict == Verdict.INCOMPLETE  # as bench run: a unit is signed off only when every test ran
    assert [(s.index, s.outcome, s.fault, s.message) for s in run.steps] == [
        (0, Outcome.PASS, None, ""),
        (1, Outcome.SKIP, "TEST-SKIPPED", "no printer on this bench"),  # skipped before its fixtures ran
        (2, Outcome.PASS, None, ""),
        (3, Outcome.SKIP, "TEST-SKIPPED", "no keypad overlay on this bench")]
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: INCOMPLETE (4 steps)")


TERMINATED = '''
import os
import signal

def test_first(unit):
    assert unit.identify().serial

def test_killed(unit):
    os.kill(os.getpid(), signal.SIGTERM)  # as a CI job cancelled, or `kill PID`, in the middle of a test

def test_third(unit):
    raise AssertionError("must not run")
'''


@pytest.mark.slow
def test_sigterm_ends_the_session_as_ctrl_c_does(pytester: pytest.Pytester, run_bench: RunBench,
                                                  db_url: str) -> None:
    pytester.makepyfile(test_terminated=TERMINATED)

    result = run_bench()

    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str() + result.stderr.str()
    assert "must not run" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*test_terminated.py:8: KeyboardInterrupt"])  # the test's line, not the handler's
    said = "interrupted by SIGTERM (kill, a service stop or a shutdown) before every test ran"
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: ABORTED (1 step) - {said} - run "), line
    [run] = stored_runs(db_url)  # finished by the session itself, not left RUNNING for the next bench
    assert (run.verdict, run.summary) == (Verdict.ABORTED, said)
    assert run.ended_at is not None


SIGNAL_AT_THE_END = '''
import os
import signal

from bench.pytestplugin.session import BenchSession

_finish = BenchSession.finish


def finish(self, interrupted=None):
    os.kill(os.getpid(), signal.SIGTERM)  # arrives as the session ends its runs
    return _finish(self, interrupted)


BenchSession.finish = finish
'''


@pytest.mark.slow
def test_a_signal_while_the_session_ends_its_runs_does_not_cut_them_short(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str) -> None:
    pytester.makeconftest(SIGNAL_AT_THE_END)
    pytester.makepyfile(test_one="def test_one(unit):\n    assert unit.identify().serial\n")

    result = run_bench()

    result.assert_outcomes(passed=1)
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: PASS (1 step) - all steps passed - run "), line
    [run] = stored_runs(db_url)
    assert run.verdict == Verdict.PASS and run.ended_at is not None


@pytest.mark.slow
def test_setup_only_signs_off_no_unit(pytester: pytest.Pytester, run_bench: RunBench, db_url: str) -> None:
    # --setup-only opens the devices but calls no test: not a PASS of the unit
    pytester.makepyfile(test_one="def test_one(unit):\n    assert unit.identify().serial\n")

    result = run_bench("--setup-only")

    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: INCOMPLETE (1 step) - bench: a test was skipped"), line
    [run] = stored_runs(db_url)
    assert run.verdict == Verdict.INCOMPLETE
    assert [(s.outcome, s.fault, s.message) for s in run.steps] == [
        (Outcome.SKIP, "TEST-SKIPPED", "not run: pytest ran only its setup and teardown (--setup-only)")]


def test_a_store_that_cannot_be_reached_stops_the_session_in_one_line(pytester: pytest.Pytester) -> None:
    # Nothing could be recorded: the session stops at the first bench test with bench's exit code 3.
    pytester.makepyfile(test_two="def test_a(unit):\n    pass\n\ndef test_b(unit):\n    pass\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-sim",
                                           "--bench-db", "postgresql://bench@127.0.0.1:1/nodb")

    assert result.ret == 3
    shown = result.stdout.str() + result.stderr.str()
    assert shown.count("bench could not start: cannot open store") == 1
    assert "Traceback" not in shown and "test_b" not in shown
