from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.errors import BenchError, PlanError
from bench.plan import load_plan, parse_plan

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
plan: t
version: "2"
steps:
  - name: id
    check: unit.identify
    params: {min_firmware: "2.0.0"}
    timeout: 3
  - name: bat
    check: power.battery
    requires: [id]
    retries: 2
    limits:
      charge_percent: {min: 50}
"""


def test_shipped_plans_are_valid() -> None:
    for f in sorted((ROOT / "testplans").glob("*.yaml")):
        plan = load_plan(f)
        assert plan.steps, f


def test_good_plan_model() -> None:
    plan = parse_plan(GOOD)
    assert [s.name for s in plan.steps] == ["id", "bat"]
    ident, bat = plan.steps
    assert ident.params == {"min_firmware": "2.0.0"}
    assert ident.timeout == 3.0
    assert bat.requires == ("id",) and bat.retries == 2
    lim = bat.limits["charge_percent"]
    assert lim is not None and lim.min == 50 and lim.fault == "PWR-BATT-LOW" and lim.unit == "%"
    assert plan.devices == {"unit"}


def _error(text: str) -> PlanError:
    with pytest.raises(PlanError) as info:
        parse_plan(text, path="p.yaml")
    return info.value


def test_yaml_syntax_error_names_line() -> None:
    err = _error("plan: t\nsteps:\n  - check: [unclosed\n")
    assert err.line is not None and str(err).startswith("p.yaml:")
    assert "YAML error" in str(err)


def test_unknown_check_names_line_and_suggests() -> None:
    err = _error(GOOD.replace("power.battery", "power.batery"))
    assert err.line == 9
    assert "unknown check 'power.batery'" in str(err) and "power.battery" in str(err)
    assert err.field == "steps[1].check"


def test_limit_of_wrong_type() -> None:
    err = _error(GOOD.replace("{min: 50}", "{min: fifty}"))
    assert err.line == 13 and "min must be a number" in str(err)
    assert err.field == "steps[1].limits.charge_percent.min"


def test_unknown_measurement_in_limits() -> None:
    err = _error(GOOD.replace("charge_percent:", "charge_pct:"))
    assert "has no measurement 'charge_pct'" in str(err)


def test_unknown_param_and_wrong_param_type() -> None:
    assert "has no parameter 'min_fw'" in str(_error(GOOD.replace("min_firmware", "min_fw")))
    assert "min_firmware must be str" in str(_error(GOOD.replace('"2.0.0"', "[2]")))


def test_requires_must_be_earlier_step() -> None:
    assert "not an earlier step" in str(_error(GOOD.replace("requires: [id]", "requires: [nope]")))


def test_duplicate_keys_and_names_rejected() -> None:
    assert "duplicate key 'timeout'" in str(_error(GOOD.replace("timeout: 3", "timeout: 3\n    timeout: 4")))
    assert "duplicate step name" in str(_error(GOOD.replace("name: bat", "name: id")))


def test_unknown_field_suggests() -> None:
    err = _error(GOOD.replace("retries: 2", "retry: 2"))
    assert "unknown field 'retry'" in str(err) and "retries" in str(err)


def test_bad_timeout() -> None:
    assert "timeout must be a number of seconds" in str(_error(GOOD.replace("timeout: 3", "timeout: -1")))


def test_yaml_is_safe_loaded() -> None:
    err = _error("plan: !!python/object/apply:os.system ['echo owned']\nsteps: []\n")
    assert "YAML error" in str(err)


def test_missing_file() -> None:
    with pytest.raises(PlanError, match="no such file"):
        load_plan("/nonexistent/plan.yaml")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_only_raises_plan_errors(text: str) -> None:
    with contextlib.suppress(BenchError):
        parse_plan(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_mutated_plan_only_raises_plan_errors(noise: bytes) -> None:
    data = bytearray(GOOD.encode())
    for i, b in enumerate(noise[::2]):
        data[(i * 37 + b) % len(data)] = noise[min(len(noise) - 1, 2 * i + 1)] if len(noise) > 1 else b
    with contextlib.suppress(BenchError):
        parse_plan(data.decode("utf-8", errors="replace"))
