"""The CLI's contract without a bench: exit codes, one-line errors, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def bench(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_version_and_help() -> None:
    assert bench("--version").stdout.startswith("bench, version ")
    out = bench("--help").stdout
    for cmd in ("run", "plan", "list"):
        assert cmd in out


def test_plan_check_ok_and_json() -> None:
    proc = bench("plan", "check", "testplans/pos-quick.yaml")
    assert proc.returncode == 0 and "OK  plan pos-quick" in proc.stdout
    data = json.loads(bench("plan", "check", "--json", "testplans/pos-full.yaml").stdout)
    assert data[0]["plan"] == "pos-full" and data[0]["ok"] and "unit" in data[0]["devices"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plan: x\nsteps:\n  - check: [oops\n", "YAML error"),
        ("plan: x\nsteps:\n  - check: unit.identfy\n", "unknown check 'unit.identfy'; did you mean unit.identify?"),
        ("plan: x\nsteps:\n  - check: power.battery\n    limits:\n      voltage: {min: low}\n",
         "min must be a number, not str"),
    ],
)
def test_bad_plans_exit_2_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(text)
    proc = bench("plan", "check", str(f))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert line.startswith(f"bench: error: {f}:") and expected in line


def test_run_with_bad_plan_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("plan: x\nsteps: []\n")
    proc = bench("run", str(f), "--sim")
    assert proc.returncode == 2
    assert "needs a non-empty list of steps" in one_line_error(proc)


def test_run_needs_station_or_sim() -> None:
    proc = bench("run", "testplans/pos-quick.yaml")
    assert proc.returncode == 2
    assert "either --station FILE" in one_line_error(proc)


def test_missing_station_file_exits_2() -> None:
    proc = bench("run", "testplans/pos-quick.yaml", "--station", "stations/nope.toml")
    assert proc.returncode == 2
    assert one_line_error(proc) == "bench: error: stations/nope.toml: no such station file"


def test_unknown_scenario_exits_2() -> None:
    proc = bench("run", "testplans/pos-quick.yaml", "--sim", "--scenario", "no-such")
    assert proc.returncode == 2
    assert "unknown scenario 'no-such'; known:" in one_line_error(proc)


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("spec: 2\ndevice:\n  printer:\n    faults: {cover_open: 1}\nexpect: {verdict: FAIL}\n", 4,
         "printer fault cover_open must be true/false, not 1 (at device.printer.faults.cover_open)"),
        ("spec: 2\ndevice:\n  unit: {base: good}\nexpect:\n  verdict: FAIL\n  exit: 3\n", 6,
         "a FAIL run exits 1, not 3 (at expect.exit)"),
    ],
)
@pytest.mark.parametrize("command", [("run", "testplans/pos-quick.yaml", "--sim"), ("sim",)])
def test_bad_scenario_halves_exit_2_with_file_and_line(tmp_path: Path, text: str, line: int, expected: str,
                                                        command: tuple[str, ...]) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    proc = bench(*command, "--scenario", str(f))
    assert proc.returncode == 2
    assert one_line_error(proc) == f"bench: error: {f}:{line}: {expected}"


def test_debug_shows_traceback() -> None:
    proc = bench("--debug", "run", "testplans/pos-quick.yaml", "--station", "stations/nope.toml")
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_list_json() -> None:
    data = json.loads(bench("list", "--json").stdout)
    names = {c["name"] for c in data["checks"]}
    assert {"unit.identify", "unit.self_test", "power.battery", "unit.tamper", "unit.event_log",
            "comms.selftest"} <= names
    assert {p["name"] for p in data["plans"]} >= {"pos-quick", "pos-full"}
    assert "good" in data["scenarios"]


@pytest.mark.parametrize(("option", "where", "why"), [
    ("--junit", "/proc/no-such/junit.xml", "cannot create its folder /proc/no-such"),
    ("--junit", "{tmp}/a-file/junit.xml", "a file is in the way"),
    ("--junit", "{tmp}/a-folder", "is a folder, not a file"),
    ("--junit", "/dev/null", "is not a regular file"),
    ("--report", "{tmp}/a-file", "a file is in the way"),
    ("--report", "/proc/no-such", "cannot create this folder"),
])
def test_report_destinations_that_cannot_be_written_are_refused_before_anything_runs(
        tmp_path: Path, option: str, where: str, why: str) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    path = where.format(tmp=tmp_path)
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    proc = bench("run", "testplans/pos-quick.yaml", "--sim", "--db", db, option, path)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert f"{option} {path}" in line and why in line, line
    assert proc.stdout == ""  # no step ran
    assert not (tmp_path / "bench.db").exists()  # nothing was opened either
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.parametrize("args", [("run", "testplans/pos-quick.yaml", "--sim"), ("history", "PT3-000123"),
                                  ("stats",), ("report", "latest"), ("runs", "open")])
def test_a_store_in_a_missing_directory_is_a_usage_error_naming_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    extra = ("--report", str(tmp_path / "r")) if args[0] == "run" else ()
    proc = bench(*args, "--db", f"sqlite:///{missing / 'x.db'}", *extra)
    assert proc.returncode == 2, proc.stderr
    assert f"directory {missing} does not exist" in one_line_error(proc)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("args", [("list",), ("--help",)])
def test_a_reader_that_went_away_interrupts_the_command(args: tuple[str, ...]) -> None:
    """``bench list | head -1``: the output is closed before the command writes (exit 130, not 1 or 120)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
