"""Bad options and arguments: one line on stderr naming the option and what is wrong, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def bench(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("inspect", "demo", "--lot-size", "0"), "bench: error: --lot-size: 0 is not in the range x>=2"),
        (("inspect", "demo", "--lot-size", "abc"), "bench: error: --lot-size: 'abc' is not a valid integer"),
        (("inspect", "plan", "--lot-size", "10", "--aql", "x"), "bench: error: --aql: 'x' is not a number"),
        (("inspect", "demo", "--defect-rate", "2"), "bench: error: --defect-rate: 2.0 is not in the range 0<=x<=1"),
        (("inspect", "plan", "--lot-size", "10", "--aql", "1", "--level", "IV"), "bench: error: --level: 'IV' is not one of"),
        (("sim", "--device", "toaster"), "bench: error: --device: 'toaster' is not one of"),
        (("run", "--sim"), "bench: error: missing PLAN (see: bench run --help)"),
        (("run", "pos-quick", "--report"), "bench: error: --report needs a value (see: bench run --help)"),
        (("run", "pos-quick", "--sim", "--frobnicate"), "bench: error: no such option: --frobnicate (see: bench run --help)"),
        (("inspect", "plan", "--aql", "1"), "bench: error: missing --lot-size (see: bench inspect plan --help)"),
        (("nosuch",), "bench: error: no such command 'nosuch' (see: bench --help)"),
        (("stats", "--since", "yesterday-ish"), "bench: error: --since: 'yesterday-ish': expected YYYY-MM-DD"),
    ],
)
def test_bad_option_is_one_line_exit_2(args: tuple[str, ...], expected: str) -> None:
    proc = bench(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "Usage:" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "pos-quick", "--scenario", "battery-low"), "bench: error: --scenario needs --sim"),
        (("run", "pos-quick", "--station", "stations/example.toml", "--scenario", "battery-low"),
         "bench: error: --scenario needs --sim"),
        (("inspect", "start", "--supplier", "S", "--part", "P", "--lot", "L", "--lot-size", "50", "--aql", "1",
          "--plan", "pos-quick", "--severity", "tightened", "--approve-reduced"),
         "bench: error: --approve-reduced has no effect with --severity tightened: give one or the other"),
        (("run", "pos-quick", "--sim", "--station", "stations/example.toml"),
         "bench: error: give either --station FILE (real bench) or --sim (simulated bench)"),
        (("history", "X1", "--limit", "-3"),
         "bench: error: --limit: -3 is not in the range x>=1"),
    ],
)
def test_options_that_make_no_sense_together(args: tuple[str, ...], expected: str) -> None:
    proc = bench(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
