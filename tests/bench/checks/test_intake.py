"""Intake: one operator question per step; the answer that shows damage fails with the step's fault code."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench import checks
from bench.checks.base import StepContext
from bench.errors import DeviceError, EquipmentError
from bench.operator import ScriptedOperator
from bench.plan import load_plan

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "Is the screen free of cracks?"


def run_inspect(answers: dict[str, Any], **params: Any) -> tuple[StepContext, str | None]:
    spec = checks.get("intake.inspect")
    full = {k: p.default for k, p in spec.params.items() if not p.required}
    full.update({"question": QUESTION, "fault": "DSP-CRACKED", "damaged_if": "no"}, **params)
    ctx = StepContext(step="screen", spec=spec, params=full, limits=dict(spec.measurements), devices={},
                      operator=ScriptedOperator(answers), deadline=time.monotonic() + 5)
    try:
        spec.func(ctx)
    except DeviceError as exc:
        return ctx, exc.fault_code
    failed = [m for m in ctx.measurements if not m.passed]
    return ctx, failed[0].fault if failed else None


@pytest.mark.parametrize(("answer", "damaged_if", "fault"), [
    (True, "no", None), (False, "no", "DSP-CRACKED"), (True, "yes", "DSP-CRACKED"), (False, "yes", None),
    (False, False, "DSP-CRACKED"), (True, True, "DSP-CRACKED"),  # YAML's bare yes/no arrive as bools
])
def test_the_damaging_answer_fails_with_the_steps_fault(answer: bool, damaged_if: Any, fault: str | None) -> None:
    ctx, got = run_inspect({QUESTION: answer}, damaged_if=damaged_if)
    assert got == fault
    answer_m = next(m for m in ctx.measurements if m.name == "answer")
    assert answer_m.value == ("yes" if answer else "no")
    if fault:
        damaged = next(m for m in ctx.measurements if m.name == "damaged")
        assert damaged.message.startswith("intake: screen cracked")


def test_no_answer_is_no_operator_response() -> None:
    assert run_inspect({})[1] == "OP-NO-RESPONSE"


@pytest.mark.parametrize(("params", "says"), [
    ({"fault": "SCREEN-BAD"}, "not in the fault table"),
    ({"damaged_if": "maybe"}, "damaged_if must be yes or no"),
])
def test_a_bad_step_is_the_benchs_fault(params: dict[str, Any], says: str) -> None:
    with pytest.raises(EquipmentError, match=says) as err:
        run_inspect({"*": True}, **params)
    assert err.value.fault_code == "BENCH-CONFIG"


def test_the_intake_plan_asks_one_question_per_step_each_with_an_intake_fault() -> None:
    plan = load_plan(ROOT / "testplans" / "intake.yaml")
    assert plan.devices == set()
    faults = [s.params["fault"] for s in plan.steps]
    assert faults == ["DSP-CRACKED", "KEY-LOOSE", "CASE-LOOSE", "PORT-DAMAGED", "CASE-LIQUID", "SEC-SEALS"]
    assert len({s.params["question"] for s in plan.steps}) == len(plan.steps)


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_intake_on_the_simulated_bench_with_scenario_answers(tmp_path: Path) -> None:
    scenario = tmp_path / "cracked.yaml"
    scenario.write_text(json.dumps({
        "spec": 2, "description": "cracked screen, seals broken", "device": {"unit": {"base": "good"}},
        "operator": {"answers": {"*": True, QUESTION: False, "Are the tamper-evident seals intact?": False}}}))
    common = ("--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "reports"))
    proc = _bench("run", "intake", "--sim", "--scenario", str(scenario), *common)
    assert proc.returncode == 1, proc.stderr
    assert "screen ..................... FAIL" in proc.stdout and "DSP-CRACKED" in proc.stdout
    assert "SEC-SEALS" in proc.stdout and "keys ....................... PASS" in proc.stdout
    record = json.loads(_bench("run", "intake", "--sim", "--scenario", str(scenario), "--json", *common).stdout)
    assert {f["fault"] for f in record["findings"]} == {"DSP-CRACKED", "SEC-SEALS"}
    good = _bench("run", "intake", "--sim", *common)  # the default scripted operator: yes to everything
    assert good.returncode == 0 and "Verdict: PASS" in good.stdout, good.stdout


@pytest.mark.parametrize(("params", "field", "says"), [
    ('{question: "Is the screen free of cracks?", fault: DSP-CRAKED}', "fault",
     "fault: 'DSP-CRAKED' is not a fault code of the fault table; did you mean 'DSP-CRACKED'?"),
    ('{question: "Is the screen free of cracks?", fault: DSP-CRACKED, damaged_if: perhaps}', "damaged_if",
     "damaged_if: damaged_if must be yes or no, not 'perhaps'"),
    ("{fault: DSP-CRACKED}", "question", "check intake.inspect needs parameter 'question'"),
])
def test_a_bad_intake_step_is_a_plan_error_naming_its_line(params: str, field: str, says: str,
                                                           tmp_path: Path) -> None:
    plan = tmp_path / "intake.yaml"
    plan.write_text(f"plan: mine\nsteps:\n  - name: screen\n    check: intake.inspect\n    params: {params}\n")
    proc = _bench("plan", "check", str(plan))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"bench: error: {plan}:5: {says} (at steps[0].params.{field})"]
