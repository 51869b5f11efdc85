"""The scenario library is the acceptance suite: every scenario, run through the real CLI
on the simulated bench, must reach the verdict, fault codes and exit code it states."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bench.scenario import load_scenario
from drivers.sim.scenario import scenario_names

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "docs" / "run-record.schema.json").read_text())


def fault_codes(record: dict) -> set[str]:
    return {f["fault"] for f in record["findings"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", scenario_names())
def test_scenario_reaches_its_stated_result(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    assert scenario.expect is not None, f"scenario {name} states no expected result"
    if scenario.soak is not None:  # a soak scenario: the soak's one-step run
        command = ["soak", scenario.soak]
    else:
        command = ["run", scenario.plan or "testplans/pos-full.yaml"]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *command, "--sim", "--scenario", name, "--json",
         "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    record = json.loads(proc.stdout)
    jsonschema.validate(record, SCHEMA)
    assert record["verdict"] == scenario.expect.verdict, record["summary"]
    assert proc.returncode == scenario.expect.exit
    assert fault_codes(record) == set(scenario.expect.faults), record["summary"]
    if scenario.expect.summary:
        assert record["summary"] == scenario.expect.summary
    stored = json.loads((Path(record["report"]) / "run.json").read_text())
    assert stored["run_id"] == record["run_id"] and stored["verdict"] == record["verdict"]
