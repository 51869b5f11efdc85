"""What ``bench run`` leaves in a run's report folder: the fault report comes with every failing run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(tmp_path: Path, scenario: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "pos-quick", "--sim", "--scenario", scenario,
         "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    (folder,) = (tmp_path / "reports").iterdir()
    return proc, folder


def test_a_failing_run_writes_its_fault_report_beside_the_html(tmp_path: Path) -> None:
    proc, folder = run(tmp_path, "battery-low")
    assert proc.returncode == 1
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "rma.json", "rma.md", "run.json"]
    assert proc.stdout.rstrip().endswith("(also run.json, junit.xml, fault report rma.md)")
    rma = json.loads((folder / "rma.json").read_text())
    assert rma["schema"] == "bench.rma/1" and "PWR-BATT-LOW" in (folder / "rma.md").read_text()


def test_a_passing_run_has_no_fault_report(tmp_path: Path) -> None:
    proc, folder = run(tmp_path, "good")
    assert proc.returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "run.json"]
