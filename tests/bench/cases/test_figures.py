"""Repair figures over the store's cases (``bench stats``): by root cause and complaint, repeats, time to repair."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from stored import store_run

from bench.cases.figures import NOT_REPRODUCED, NOT_YET, repair_figures
from bench.cases.store import CaseStore
from bench.record import Verdict
from bench.store.engine import Store
from tests.bench.cases.test_store import run_of
from tests.bench.cli.test_store import T0

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'b.db'}") as s:
        yield s


def test_root_causes_complaints_repeats_and_the_mean_time_to_repair(store: Store) -> None:
    cases = CaseStore(store)
    first = cases.open_case("SN-1", "Battery  dies", now=T0)
    for n, verdict in ((1, Verdict.FAIL), (2, Verdict.PASS)):
        cases.attach_run(first.case_id, store_run(store, run_of(n, "SN-1", verdict)).run_id)
    cases.close(first.case_id, now=T0 + timedelta(hours=4))
    # The same unit back 30 days later: a repeat repair; nothing reproduces the complaint.
    again = cases.open_case("SN-1", "battery dies", now=T0 + timedelta(days=30))
    cases.close(again.case_id, "no fault found", now=T0 + timedelta(days=30, hours=2))
    # Another unit, still open, back after more than 90 days would not be a repeat.
    cases.open_case("SN-2", "printer jams", now=T0 + timedelta(days=1))
    figures = repair_figures(store)
    assert (figures.opened, figures.closed) == (3, 2)
    assert figures.by_result == {"repaired": 1, "unrepaired": 1}
    assert figures.by_complaint == [("battery dies", 2), ("printer jams", 1)]
    # The open SN-2 case was never tested: not counted as "not reproduced".
    assert figures.by_root_cause == [("PWR-BATT-LOW", 1), (NOT_REPRODUCED, 1), (NOT_YET, 1)]
    assert figures.repeat_repairs == ["SN-1"]
    assert figures.mean_time_to_repair_h == 3.0
    assert repair_figures(store, since=T0 + timedelta(days=10)).opened == 1


def test_bench_stats_shows_them_and_json_carries_them(store: Store, tmp_path: Path) -> None:
    cases = CaseStore(store)
    case = cases.open_case("SN-1", "dead battery", now=T0)
    cases.attach_run(case.case_id, store_run(store, run_of(1, "SN-1", Verdict.FAIL)).run_id)
    store.close()
    db = f"sqlite:///{tmp_path / 'b.db'}"
    shown = subprocess.run([sys.executable, "-m", "bench", "stats", "--db", db], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "repair cases: 1 opened, 0 closed" in shown.stdout
    assert "  PWR-BATT-LOW            1" in shown.stdout and "     1  dead battery" in shown.stdout
    as_json = subprocess.run([sys.executable, "-m", "bench", "stats", "--db", db, "--json"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    repairs = json.loads(as_json.stdout)["repairs"]
    assert repairs["by_root_cause"] == [{"fault": "PWR-BATT-LOW", "cases": 1}] and repairs["closed"] == 0
