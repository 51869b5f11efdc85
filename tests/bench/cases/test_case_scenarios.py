"""The case scenarios are an acceptance suite: every file of testplans/cases, replayed through the
real CLI on the simulated bench (``bench case replay FILE --sim``), must come to the judgement, first
action and final state it states; and a bad case file is refused naming its file, line and field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cases.scenario import RepairEvent, RunEvent, case_scenario_names, load_case_scenario
from bench.errors import PlanError

ROOT = Path(__file__).resolve().parents[3]
CASES = sorted((ROOT / "testplans" / "cases").glob("*.yaml"))


def bench(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def test_there_are_case_scenarios_of_every_ending() -> None:
    loaded = [load_case_scenario(p) for p in CASES]
    assert len(loaded) >= 5 and sorted(c.name for c in loaded) == case_scenario_names()
    assert {c.expect.result for c in loaded} == {"repaired", "unrepaired", "returned"}
    assert {"reseat", "update", "return-to-factory", "none"} <= {c.expect.first_action for c in loaded}


@pytest.mark.slow
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_scenario_comes_to_what_it_states(path: Path, tmp_path: Path) -> None:
    scenario = load_case_scenario(path)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    proc = bench("case", "replay", str(path), "--sim", "--db", db, "--report", str(tmp_path / "reports"), "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout)
    assert (proc.returncode, out["mismatches"]) == (0, []), proc.stderr
    assert (out["verdict"], out["first_action"], out["result"]) == (
        scenario.expect.verdict, scenario.expect.first_action, scenario.expect.result)
    # The case as the store holds it, read by another command: every run and repair, and how it closed.
    shown = bench("case", "show", out["case"], "--db", db, "--json")
    case = json.loads(shown.stdout)
    assert case["serial"] == scenario.serial and case["status"] == "closed"
    assert case["result"] == scenario.expect.result
    runs = [e for e in scenario.events if isinstance(e, RunEvent)]
    assert [r["run_id"] for r in case["runs"]] == [s["run_id"] for s in out["steps"] if "run" in s]
    assert len(case["runs"]) == len(runs)
    assert [r["action"] for r in case["repairs"]] == [e.action for e in scenario.events if isinstance(e, RepairEvent)]
    assert all(r["serial"] == scenario.serial for r in case["runs"])
    # Closing wrote the case report beside the runs' reports, and the judgement and plan it shows are the show's.
    report = json.loads((tmp_path / "reports" / "cases" / out["case"] / "case.json").read_text(encoding="utf-8"))
    assert report["result"]["result"] == scenario.expect.result
    assert (report["judgement"], report["plan"]) == (case["judgement"], case["plan"])


@pytest.mark.slow
def test_a_case_that_comes_to_something_else_exits_1_with_one_line_per_mismatch(tmp_path: Path) -> None:
    text = (ROOT / "testplans" / "cases" / "firmware-update.yaml").read_text()
    text = text.replace("first_action: update", "first_action: replace").replace("result: repaired",
                                                                                 "result: unrepaired")
    (tmp_path / "wrong.yaml").write_text(text)
    proc = bench("case", "replay", str(tmp_path / "wrong.yaml"), "--sim", "--db", f"sqlite:///{tmp_path / 'b.db'}",
                 "--report", str(tmp_path / "reports"))
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("wrong: ")]
    assert lines == ["wrong: first_action: expected replace, got update (install the current firmware)",
                     "wrong: result: expected unrepaired, got repaired"]


def test_a_replay_runs_on_the_simulated_bench_only(tmp_path: Path) -> None:
    proc = bench("case", "replay", str(CASES[0]), "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert proc.returncode == 2 and "--sim" in proc.stderr and not (tmp_path / "b.db").exists()


GOOD = """\
spec: 1
serial: SN-1
complaint: chip cards refused
events:
  - run: {plan: pos-quick, scenario: card-reader-no-atr}
  - repair: {action: reseat, note: reseated}
expect: {verdict: hardware, first_action: reseat, result: repaired}
"""


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), [
    ("spec: 1", "spec: 2", 1, "spec", "spec must be 1"),
    ("serial: SN-1\n", "", 1, "serial", "serial is required"),
    ("complaint: chip cards refused", "complaint: [a]", 3, "complaint", "complaint must be text"),
    ("spec: 1\n", "spec: 1\ncustomer: x\n", 2, "customer", "unknown field 'customer'"),
    ("  - repair: {action: reseat, note: reseated}", "  - repair: {action: polish, note: x}", 6,
     "events[1].repair.action", "action must be one of"),
    ("{action: reseat, note: reseated}", "{action: replace, note: new reader}", 6, "events[1].repair.part",
     "part number"),
    ("{action: reseat, note: reseated}", "{action: reseat}", 6, "events[1].repair.note", "note is required"),
    ("scenario: card-reader-no-atr", "scenario: card-reader-on-fire", 5, "events[0].run.scenario",
     "unknown scenario 'card-reader-on-fire'"),
    ("plan: pos-quick", "plan: pos-never", 5, "events[0].run.plan", "no test plan 'pos-never'"),
    ("plan: pos-quick,", "plan: pos-quick, slot: 2,", 5, "events[0].run.slot", "unknown field 'slot'"),
    ("  - repair: {action: reseat, note: reseated}", "  - fix: {action: reseat}", 6, "events[1]",
     "an event is one mapping"),
    ("  - run: {plan: pos-quick, scenario: card-reader-no-atr}\n", "", 4, "events", "at least one run"),
    ("verdict: hardware", "verdict: broken", 7, "expect.verdict", "verdict must be one of"),
    ("first_action: reseat", "first_action: pray", 7, "expect.first_action", "first_action must be one of"),
    ("result: repaired", "result: fixed", 7, "expect.result", "result must be one of"),
    ("result: repaired}", "result: repaired, runs: 2}", 7, "expect.runs", "unknown field 'runs'"),
    ("expect:", "close: {unrepaired: no fault found}\nexpect:", 7, "close", None),
    ("expect:", "close: {returned: yes}\nexpect:", 7, "close", "close must be {unrepaired: REASON}"),
])
def test_a_bad_case_file_names_its_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                                       message: str | None) -> None:
    assert old in GOOD
    path = tmp_path / "case.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    if message is None:  # the control: the change is valid
        assert load_case_scenario(path).unrepaired == "no fault found"
        return
    with pytest.raises(PlanError) as err:
        load_case_scenario(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert message in err.value.message


def test_a_good_case_file_loads_in_order(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD)
    case = load_case_scenario(path)
    assert case.events == (RunEvent("pos-quick", "card-reader-no-atr", 5), RepairEvent("reseat", "reseated", None, 6))
    assert (case.serial, case.complaint, case.unrepaired) == ("SN-1", "chip cards refused", None)


def test_the_cli_refuses_a_bad_case_file_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD.replace("result: repaired", "result: fixed"))
    proc = bench("case", "replay", str(path), "--sim", "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and f"{path}:7" in proc.stderr
