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


# --------------------------------------------------------------------------- hostile plans
def test_a_yaml_merge_key_with_an_override_is_not_a_duplicate() -> None:
    plan = parse_plan("plan: t\nsteps:\n  - &first\n    name: a\n    check: power.battery\n    timeout: 3\n"
                      "  - <<: *first\n    name: b\n    timeout: 4\n")
    a, b = plan.steps
    assert (a.name, a.timeout) == ("a", 3.0)
    assert (b.name, b.check.name, b.timeout) == ("b", "power.battery", 4.0)
    assert "duplicate key 'name'" in str(_error(
        "plan: t\nsteps:\n  - &first {name: a, check: power.battery}\n  - <<: *first\n    name: b\n    name: c\n"))


@pytest.mark.parametrize(("limit", "message"), [
    ("{min: .nan}", ".nan is not a finite number"),
    ("{max: .inf}", ".inf is not a finite number"),
    ("{min: -.inf}", "-.inf is not a finite number"),
    ("{min: 1.0e+400}", "1.0e+400 is not a finite number"),
    ("{min: " + "9" * 400 + "}", "is too long"),
    ("{min: 1.0e+13}", "min must be a finite number within +-1e+12"),
    ("{min: 50, unit: " + "V" * 100 + "}", "unit is 100 characters; at most 64"),
])
def test_every_limit_is_a_finite_sane_number(limit: str, message: str) -> None:
    err = _error(GOOD.replace("{min: 50}", limit))
    assert err.line == 13 and message in str(err), err


@pytest.mark.parametrize(("old", "new", "message"), [
    ('version: "2"', "version: {a: [1, 2]}", "version must be text, not a mapping"),
    ('version: "2"', "version: " + "1" * 100, "is too long"),
    ('version: "2"', "version: v" + "1" * 100, "version is 101 characters; at most 64"),
    ("plan: t", "plan: " + "t" * 65, "plan is 65 characters; at most 64"),
    ("timeout: 3", "timeout: " + "9" * 5000, "is too long"),
    ("retries: 2", "retries: .nan", ".nan is not a finite number"),
    ('{min_firmware: "2.0.0"}', '{min_firmware: "2.0.0\\e[2J"}', "holds control character U+001B"),
    ("requires: [id]", "requires: [" + "i" * 100 + "]", "at most 64"),
])
def test_every_number_and_text_in_a_plan_is_bounded(old: str, new: str, message: str) -> None:
    assert old in GOOD
    err = _error(GOOD.replace(old, new))
    assert message in str(err) and err.line is not None and "\n" not in str(err), err


def _render(value: object) -> str:
    """Flow-style YAML-ish text: scalars go in raw, so a generated one may also break the syntax."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


_SCALARS = st.one_of(
    st.sampled_from([".nan", ".NaN", ".inf", "-.inf", "1.0e+400", "-1.0e+400", "9" * 400, "9" * 5000, "0x" + "f" * 60,
                     "0b101", "0o17", "017", "1:30:00", "190:20:30.15", "~", "null", "yes", "no", "on", "1_000",
                     '"\\0"', '"\\e]0;x\\a"', '"\\x85"', "'q''q'", "*a", "&a x", "&a [1, 2]", "!!binary AAAA",
                     "!!python/object/apply:os.system [id]", "!!set {a, b}", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
                     "<<", "=", "-", "?", "|", ">", "%", "@", "`", "#", "\t", "2.0.0", "PWR-BATT-LOW", "'x' * 70"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(repr),
    st.text(max_size=12),
)
_CHECKS = st.sampled_from(["power.battery", "unit.identify", "printer.throughput", "card.atr", "msr.swipe", "nope"])
_LIMIT = st.dictionaries(st.sampled_from(["min", "max", "equals", "one_of", "regex", "unit", "fault", "<<", "x"]),
                         _SCALARS | st.lists(_SCALARS, max_size=3), max_size=4)
_STEP = st.fixed_dictionaries(
    {"check": _CHECKS},
    optional={"name": _SCALARS, "timeout": _SCALARS, "retries": _SCALARS, "prompt": _SCALARS,
              "requires": st.lists(_SCALARS, max_size=2), "models": _SCALARS,
              "params": st.dictionaries(st.sampled_from(["lines", "min_firmware", "card", "swipes", "timeout", "x"]),
                                        _SCALARS, max_size=2),
              "limits": st.dictionaries(st.sampled_from(["charge_percent", "voltage", "model", "firmware", "x"]),
                                        _LIMIT, max_size=2)},
)
_PLAN = st.fixed_dictionaries(
    {"plan": _SCALARS, "steps": st.lists(_STEP, max_size=3)},
    optional={"version": _SCALARS | st.dictionaries(_SCALARS, _SCALARS, max_size=2), "description": _SCALARS,
              "defaults": st.dictionaries(st.sampled_from(["timeout", "retries", "x"]), _SCALARS, max_size=2),
              "actions": st.dictionaries(st.sampled_from(["PWR-BATT-LOW", "bad", "<<"]), _SCALARS, max_size=2)},
)


@settings(max_examples=400, deadline=None)
@given(_PLAN, st.booleans())
def test_generated_yaml_gives_a_plan_or_one_plan_error(plan: dict[str, object], block: bool) -> None:
    """Never another exception: no RecursionError, ValueError, OverflowError, TypeError, nor a hang."""
    if block:
        steps = "".join(f"  - {_render(step)}\n" for step in plan["steps"]) or "  []\n"  # type: ignore[attr-defined]
        text = "".join(f"{k}: {_render(v)}\n" for k, v in plan.items() if k != "steps") + "steps:\n" + steps
    else:
        text = _render(plan)
    try:
        result = parse_plan(text, path="gen.yaml")
    except PlanError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("gen.yaml"), str(exc)
        assert len(str(exc)) < 1000, str(exc)  # the longest names every known check
    else:
        assert result.steps
        for step in result.steps:
            for limit in step.limits.values():
                for bound in (limit.min, limit.max) if limit is not None else ():
                    assert bound is None or abs(bound) <= 1e12
