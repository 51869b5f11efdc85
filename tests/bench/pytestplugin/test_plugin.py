"""The plugin end to end, as a user meets it: an example test module run with ``--bench-sim``
(outcomes, the ``bench`` line, the stored run, a failing measurement's message, JUnit
properties, the report folder), the same module without a bench, and ``pip install`` of the
package into a fresh venv (the entry point alone loads the plugin).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pluginruns import SERIAL, RunBench, bench_lines, stored_runs

from bench.record import Outcome, Verdict

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[3]

EXAMPLE = '''
import logging

def test_identity(unit):
    assert unit.identify().model == "PT-300"

def test_battery(unit, measure):
    battery = unit.battery()
    measure("battery.voltage", battery.voltage, min=6.0, max=9.0, unit="V")
    logging.getLogger("example").warning("judging the charge now")
    measure("battery.charge", battery.charge_percent, min=95, unit="%", fault="PWR-BATT-LOW")

def test_arithmetic():
    assert 1 + 1 == 2
'''

CHARGE = "battery.charge = 87 %: below min 95"


@pytest.mark.slow
def test_example_module_on_the_simulated_bench(pytester: pytest.Pytester, run_bench: RunBench, db_url: str,
                                               tmp_path: Path) -> None:
    pytester.makepyfile(test_example=EXAMPLE)
    junit, reports = tmp_path / "junit.xml", tmp_path / "reports"

    result = run_bench(f"--junitxml={junit}", "--bench-report", str(reports))

    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"E * {CHARGE}"])
    [line] = bench_lines(result)
    assert line.startswith(f"PT-300 {SERIAL}: FAIL (2 steps) - ")
    assert "battery" in line

    [run] = stored_runs(db_url)
    assert run.verdict == Verdict.FAIL
    assert run.plan_name.startswith("pytest:")
    assert run.station == "sim" and run.scenario == "good" and run.slot is None
    assert run.unit is not None
    assert (run.unit.model, run.unit.serial, run.unit.firmware) == ("PT-300", SERIAL, "2.4.1")
    assert [(s.index, s.name, s.outcome, s.fault) for s in run.steps] == [
        (0, "test_example.py::test_identity", Outcome.PASS, None),
        (1, "test_example.py::test_battery", Outcome.FAIL, "PWR-BATT-LOW"),
    ]
    passed, failed = run.steps
    assert passed.log == [] and passed.measurements == []
    assert failed.message == CHARGE
    assert any("judging the charge now" in line for line in failed.log)
    volts, charge = failed.measurements
    assert (volts.name, volts.value, volts.unit, volts.passed) == ("battery.voltage", 7.6, "V", True)
    assert volts.limit is not None and (volts.limit.min, volts.limit.max) == (6.0, 9.0)
    assert (charge.name, charge.value, charge.unit, charge.passed) == ("battery.charge", 87, "%", False)
    assert charge.limit is not None and charge.limit.min == 95
    assert (charge.fault, charge.message) == ("PWR-BATT-LOW", CHARGE)

    # pytest's own JUnit XML: the failure's message and each measurement as a property
    case = ET.parse(junit).getroot().find(".//testcase[@name='test_battery']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
    assert props == {"bench.battery.voltage": "7.6 V (6 ≤ x ≤ 9 V) pass",
                     "bench.battery.charge": "87 % (≥ 95 %) FAIL"}
    failure = case.find("failure")
    assert failure is not None and CHARGE in (failure.get("message") or "")

    # the same report folder as bench run's, with the fault report of a unit that failed
    [folder] = reports.iterdir()
    assert f"report {folder}" in line
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "rma.json", "rma.md", "run.json"]
    assert json.loads((folder / "run.json").read_text())["run_id"] == run.run_id

    # and the unit's history, as `bench history` shows it
    shown = subprocess.run([sys.executable, "-m", "bench", "history", SERIAL, "--db", db_url, "--json"],
                           capture_output=True, text=True, check=True)
    [summary] = json.loads(shown.stdout)["runs"]
    assert (summary["run_id"], summary["verdict"], summary["faults"]) == (run.run_id, "FAIL", ["PWR-BATT-LOW"])


def test_without_a_bench_bench_tests_are_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")

    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.OK
    reason = "no bench: run pytest with --bench-sim (the simulated bench) or --bench-station FILE"
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] test_example.py:*: {reason}"] * 2)
    assert " bench " not in result.stdout.str()  # no bench section: no bench, no run
    assert "Error" not in result.stdout.str() + result.stderr.str()


def _copy_source(dest: Path) -> Path:
    """The repository's source as a fresh clone has it (no venv, no build leftovers, no caches)."""
    top_level = {".git", ".venv", "build", "dist", "out", "reports", ".make-stamps"}
    anywhere = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache", ".hypothesis")

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(anywhere(folder, names))
        return skipped | (top_level & set(names)) if Path(folder) == ROOT else skipped

    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


ONE_TEST = '''
import bench

def test_battery(unit, measure):
    assert "site-packages" in bench.__file__  # the installed package, not the source tree
    measure("battery.voltage", unit.battery().voltage, min=6.0, unit="V")
'''


@pytest.mark.slow
def test_pip_install_then_pytest_bench_sim_with_no_conftest(tmp_path: Path) -> None:
    src = _copy_source(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(src), "pytest"],
                               capture_output=True, text=True, env=env, timeout=900)
    assert installed.returncode == 0, installed.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_pos.py").write_text(ONE_TEST)

    ran = subprocess.run([str(venv / "bin" / "pytest"), "-p", "no:cacheprovider", "--bench-sim",
                          "--bench-db", f"sqlite:///{tmp_path / 'b.db'}"],
                         cwd=project, capture_output=True, text=True, env=env, timeout=900)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout
    assert f"PT-300 {SERIAL}: PASS (1 step)" in ran.stdout
    [run] = stored_runs(f"sqlite:///{tmp_path / 'b.db'}")
    assert [(s.name, s.outcome) for s in run.steps] == [("test_pos.py::test_battery", Outcome.PASS)]
