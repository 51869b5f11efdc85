"""Real run records for the case tests: `bench run PLAN --sim --scenario S --json`, once per process each."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.record import RunRecord

ROOT = Path(__file__).resolve().parents[1]
_CACHE: dict[tuple[str, str], dict[str, Any]] = {}


@functools.cache
def _work() -> Path:
    """A scratch folder for the runs' store and reports, made on first use and removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="bench-caseruns-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def intake_scenario(name: str, damaged: list[str], *, present: bool = True) -> Path:
    """A scenario file whose operator answers "no" (damage) to the intake ``damaged`` questions
    (``present=False``: an operator who answers nothing)."""
    answers = {"*": True, **{q: False for q in damaged}} if present else {}
    path = _work() / f"{name}.yaml"
    path.write_text(json.dumps({"spec": 2, "description": name, "device": {"unit": {"base": "good"}},
                                "operator": {"answers": answers}}))
    return path


def sim_run(plan: str, scenario: str | Path = "good") -> RunRecord:
    """The record of a real simulated run of ``plan`` on ``scenario`` (exit 0 or 1 expected)."""
    key = (plan, str(scenario))
    if key not in _CACHE:
        proc = subprocess.run(
            [sys.executable, "-m", "bench", "run", plan, "--sim", "--scenario", str(scenario), "--json",
             "--db", f"sqlite:///{_work() / 'bench.db'}", "--report", str(_work() / "reports")],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr
        _CACHE[key] = json.loads(proc.stdout)
    return RunRecord.from_dict(_CACHE[key])
