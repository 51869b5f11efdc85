"""The fixtures named after a station's roles: a device test failing with the driver's fault code
under a scenario, a role the station lacks, and a multi-up bench (each bench test once per slot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pluginruns import SERIAL, RunBench, bench_lines, latest_run, runs_shown, stored_runs

from bench.record import Outcome, Verdict

pytest_plugins = ["pytester"]

CARD_TEST = '''
def test_card_answers(card_reader, operator):
    operator.perform("insert_card", "Insert the test card", card="emv-visa-contact", reader=card_reader.url)
    card_reader.wait_for_insert(10.0)
    info = card_reader.connect()
    assert info.atr
'''


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "outcome", "fault"), [
    ("good", Outcome.PASS, None),
    ("card-reader-no-atr", Outcome.FAIL, "ICC-NO-ATR"),
])
def test_a_scenario_fails_a_device_test_with_the_drivers_fault_code(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str, scenario: str, outcome: Outcome,
        fault: str | None) -> None:
    pytester.makepyfile(test_card=CARD_TEST)

    result = run_bench("--bench-scenario", scenario)

    result.assert_outcomes(**{"passed" if outcome == Outcome.PASS else "failed": 1})
    [run] = stored_runs(db_url)
    assert run.scenario == scenario
    [step] = run.steps
    assert (step.name, step.outcome, step.fault) == ("test_card.py::test_card_answers", outcome, fault)
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: {'PASS' if fault is None else 'FAIL'} (1 step)")
    if fault is not None:
        result.stdout.fnmatch_lines(["E *CardError: the card does not respond when powered (no answer to reset)"])
        assert step.message == "the card does not respond when powered (no answer to reset)"
        assert any(line.startswith("detail: reader ") for line in step.log)  # the driver's detail, kept
        assert "card reader" in line  # the diagnosis names the part


ROLE_TESTS = '''
def test_reads_a_card(card_reader):
    raise AssertionError("must not run")

def test_host_listens(host, station):
    assert station.name == "host-only" and station.roles == ["host"]
    assert host.url.startswith("tcp://127.0.0.1:") and not host.url.endswith(":0")
'''


def test_a_role_the_station_lacks_skips_the_test_naming_it(pytester: pytest.Pytester, db_url: str) -> None:
    # the cheapest real station: only the bench host, which opening starts on a free local port
    station = pytester.path / "host-only.toml"
    station.write_text('name = "host-only"\n[devices]\nhost = "tcp://127.0.0.1:0"\n')
    pytester.makepyfile(test_roles=ROLE_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--bench-station", str(station),
                                           "--bench-db", db_url)

    result.assert_outcomes(passed=1, skipped=1)
    why = "the station has no card reader (role 'card_reader')"
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] test_roles.py:*: {why}"])
    run = latest_run(db_url)
    assert (run.station, run.unit, run.verdict) == ("host-only", None, Verdict.INCOMPLETE)
    assert [(s.name, s.outcome, s.fault, s.message) for s in run.steps] == [
        ("test_roles.py::test_reads_a_card", Outcome.SKIP, "TEST-SKIPPED", why),
        ("test_roles.py::test_host_listens", Outcome.PASS, None, ""),
    ]
    [line] = bench_lines(result)
    assert line.startswith("unit not identified: INCOMPLETE (2 steps)")


MULTI = '''
def test_battery(unit, measure, station):
    battery = unit.battery()
    measure("battery.voltage", battery.voltage, min=6.0, unit="V")
    assert station.slot in (1, 2)

def test_arithmetic():
    assert 2 * 2 == 4
'''


@pytest.mark.slow
def test_multi_up_runs_each_bench_test_once_per_slot(pytester: pytest.Pytester, run_bench: RunBench, db_url: str,
                                                     tmp_path: Path, many_slots: None) -> None:
    pytester.makepyfile(test_multi=MULTI)

    result = run_bench("--bench-units", "2", "-v", "--bench-report", str(tmp_path / "reports"))

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["test_multi.py::test_battery[[]slot1[]] PASSED*",
                                 "test_multi.py::test_battery[[]slot2[]] PASSED*",
                                 "test_multi.py::test_arithmetic PASSED*"])
    lines = bench_lines(result)
    assert [line.split(":")[0] for line in lines] == ["slot 1", "slot 2"]
    runs = runs_shown(lines, db_url)
    assert [r.slot for r in runs] == [1, 2]
    serials = [r.unit.serial for r in runs if r.unit is not None]
    assert len(set(serials)) == 2
    for run in runs:
        assert run.verdict == Verdict.PASS
        assert [(s.name, s.outcome, [m.name for m in s.measurements]) for s in run.steps] == [
            ("test_multi.py::test_battery", Outcome.PASS, ["battery.voltage"])]
    folders = sorted((tmp_path / "reports").iterdir())
    assert [sorted(p.name for p in f.iterdir()) for f in folders] == [["junit.xml", "report.html", "run.json"]] * 2


def test_a_device_the_bench_cannot_open_is_an_error_of_the_bench(pytester: pytest.Pytester, db_url: str) -> None:
    station = pytester.path / "broken.toml"
    station.write_text('name = "broken"\n[devices]\nunit = "/dev/ttyBENCH-NO-SUCH-PORT"\n')
    pytester.makepyfile(test_unit="def test_battery(unit):\n    raise AssertionError('must not run')\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-station", str(station),
                                           "--bench-db", db_url)

    result.assert_outcomes(errors=1)
    assert "must not run" not in result.stdout.str()
    run = latest_run(db_url)
    assert (run.verdict, run.unit) == (Verdict.ERROR, None)
    [step] = run.steps
    assert (step.outcome, step.fault) == (Outcome.ERROR, "BENCH-PORT")
    assert step.message.startswith("cannot open unit port /dev/ttyBENCH-NO-SUCH-PORT: ")
    assert step.message.endswith(" (in setup)")
    [line] = bench_lines(result)
    assert line.startswith("unit not identified: ERROR (1 step) - bench: ")


OPERATOR_TESTS = '''
def test_display_lit(operator):
    assert operator.confirm("Is the display lit?", timeout=5.0), "the operator saw no light"

def test_beep(operator):
    operator.confirm("Did it beep?", timeout=5.0)

def test_card_inserted(card_reader, operator):
    operator.perform("insert_card", "Insert the test card", card="emv-visa-contact", reader=card_reader.url)
    card_reader.wait_for_insert(10.0)
'''


@pytest.mark.slow
def test_the_operator_answers_from_a_script_and_an_unanswered_prompt_times_out(
        pytester: pytest.Pytester, run_bench: RunBench, db_url: str) -> None:
    script = pytester.path / "answers.yaml"
    script.write_text('answers:\n  "Is the display lit?": false\n')
    pytester.makepyfile(test_operator=OPERATOR_TESTS)

    result = run_bench("--bench-operator-script", str(script))

    result.assert_outcomes(passed=1, failed=2)
    [run] = stored_runs(db_url)
    assert [(s.name.split("::")[1], s.outcome, s.fault) for s in run.steps] == [
        ("test_display_lit", Outcome.FAIL, "TEST-FAILED"),
        ("test_beep", Outcome.TIMEOUT, "OP-NO-RESPONSE"),
        ("test_card_inserted", Outcome.PASS, None),  # the simulator still inserts the card
    ]
    assert run.steps[0].message == "AssertionError: the operator saw no light"
    assert run.steps[1].message == "no operator response to 'Did it beep?'"


def test_a_station_with_two_slots_runs_each_bench_test_per_slot(pytester: pytest.Pytester, db_url: str) -> None:
    # a station of two slots with only the bench host in each: real devices, no simulator
    station = pytester.path / "two.toml"
    station.write_text('name = "two"\n[slots.1]\nhost = "tcp://127.0.0.1:0"\n[slots.2]\nhost = "tcp://127.0.0.1:0"\n')
    pytester.makepyfile(test_slots='''
def test_host_listens(host, station):
    assert station.roles == ["host"] and host.url.startswith("tcp://127.0.0.1:")

def test_reads_a_card(card_reader):
    raise AssertionError("must not run")
''')

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "-rs", "--bench-station", str(station),
                                           "--bench-db", db_url)

    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["test_slots.py::test_host_listens[[]slot1[]] PASSED*",
                                 "test_slots.py::test_host_listens[[]slot2[]] PASSED*"])
    result.stdout.fnmatch_lines(["SKIPPED * the station has no card reader in slot 1 (role 'card_reader')",
                                 "SKIPPED * the station has no card reader in slot 2 (role 'card_reader')"])
    lines = bench_lines(result)
    assert [line.split(": ")[0] for line in lines] == ["slot 1", "slot 2"]
    runs = runs_shown(lines, db_url)
    assert [(r.station, r.slot, r.verdict) for r in runs] == [("two", 1, Verdict.INCOMPLETE),
                                                              ("two", 2, Verdict.INCOMPLETE)]
    for run in runs:
        assert [(s.name, s.outcome) for s in run.steps] == [("test_slots.py::test_host_listens", Outcome.PASS),
                                                            ("test_slots.py::test_reads_a_card", Outcome.SKIP)]


@pytest.mark.slow
def test_a_role_the_simulator_did_not_start_is_not_said_to_be_missing(pytester: pytest.Pytester,
                                                                      run_bench: RunBench) -> None:
    # the simulator starts the roles the collected tests name; one asked for at run time was not
    pytester.makepyfile(test_late='''
def test_late_reader(request, unit):
    request.getfixturevalue("card_reader")
    raise AssertionError("must not run")
''')

    result = run_bench("-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * the simulated bench started without a card reader: no collected test "
                                 "names the card_reader fixture among its arguments"])


INSTRUMENTS = '''
def test_supply(supply, measure):
    supply.set_voltage(7.4)
    supply.output(True)
    measure("supply.voltage", supply.measure_voltage(), min=0, max=30, unit="V")

def test_dmm(dmm, measure):
    measure("dmm.voltage", dmm.dc_voltage(), min=-1000, max=1000, unit="V")

def test_scope(scope):
    assert scope.identify().model
'''


@pytest.mark.slow
def test_the_instruments_are_fixtures_on_the_simulated_bench(pytester: pytest.Pytester, run_bench: RunBench,
                                                              db_url: str) -> None:
    # PyVISA-sim instruments behind the real PyVISA API, started because the tests ask for them.
    pytester.makepyfile(test_instruments=INSTRUMENTS)

    result = run_bench()

    result.assert_outcomes(passed=3)
    [run] = stored_runs(db_url)
    assert run.verdict == Verdict.PASS
    assert [m.name for s in run.steps for m in s.measurements] == ["supply.voltage", "dmm.voltage"]
