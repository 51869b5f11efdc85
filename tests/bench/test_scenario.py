"""A scenario file: the harness reads it, validates its own half, and hands the device half on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bench.scenario as scenario_mod
from bench.errors import ConfigError, PlanError
from bench.faults import FAULTS
from bench.scenario import load_operator_script, load_scenario
from drivers.sim.scenario import scenario_names

GOOD_DEVICE = "device:\n  unit: {base: good}\n"


def write(tmp_path: Path, text: str) -> str:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    return str(f)


@pytest.mark.parametrize("name", scenario_names())
def test_every_shipped_scenario_is_valid_and_states_its_result(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.description and scenario.expect is not None
    assert set(scenario.expect.faults) <= set(FAULTS)
    assert (scenario.expect.verdict == "PASS") == (not scenario.expect.faults)


def test_a_scenario_has_two_halves(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, (
        "spec: 2\ndescription: d\n"
        "device:\n  unit:\n    base: good\n    battery: {charge_percent: 5}\n"
        "operator:\n  answers: {'*': true, 'Q?': false}\n"
        "expect:\n  verdict: FAIL\n  faults: [PWR-BATT-LOW]\n"
    )))
    assert s.name == "s" and s.description == "d"
    assert s.devices.unit["battery"]["charge_percent"] == 5
    assert s.answers == {"*": True, "Q?": False}
    assert s.expect is not None and (s.expect.verdict, s.expect.faults, s.expect.exit) == ("FAIL", ("PWR-BATT-LOW",), 1)


def test_operator_defaults_to_yes_and_can_be_absent(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, "spec: 2\n")).answers == {"*": True}
    assert load_scenario(write(tmp_path, "spec: 2\noperator: {answers: {}}\n")).answers == {}


def test_each_half_goes_to_its_own_validator_and_only_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def spy(name: str, real: Any) -> Any:
        def wrapper(section: Any, **kw: Any) -> Any:
            seen[name] = section
            return real(section, **kw)
        return wrapper

    monkeypatch.setattr(scenario_mod, "parse_devices", spy("device", scenario_mod.parse_devices))
    monkeypatch.setattr(scenario_mod, "parse_operator", spy("operator", scenario_mod.parse_operator))
    monkeypatch.setattr(scenario_mod, "_expectation", spy("expect", scenario_mod._expectation))
    load_scenario(write(tmp_path, "spec: 2\n" + GOOD_DEVICE + "operator: {answers: {}}\nexpect: {verdict: PASS}\n"))
    assert seen == {"device": {"unit": {"base": "good"}}, "operator": {"answers": {}}, "expect": {"verdict": "PASS"}}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("spec: 2\nexpect:\n  verdict: FAILED\n", 3, "verdict must be one of PASS, FAIL, ERROR, INCOMPLETE, ABORTED, not 'FAILED'"),
        ("spec: 2\nexpect:\n  verdict: FAIL\n  faults:\n    - PRN-COVER\n    - PRN-COVR\n", 6,
         "unknown fault code 'PRN-COVR'"),
        ("spec: 2\nexpect:\n  verdict: FAIL\n  exit: 0\n", 4, "a FAIL run exits 1, not 0 (at expect.exit)"),
        ("spec: 2\nexpect:\n  verdict: PASS\n  sumary: x\n", 4, "unknown field 'sumary'"),
        ("spec: 2\nexpect: {faults: []}\n", 2, "expect needs at least a verdict"),
        ("spec: 2\noperator:\n  answers:\n    'Q?': [1]\n", 4, "the answer to 'Q?' must be yes/no"),
        ("spec: 2\noperator:\n  anwsers: {}\n", 3, "unknown field 'anwsers'; known: answers (at operator.anwsers)"),
        ("spec: 2\nexpct: {verdict: PASS}\n", 2, "unknown field 'expct'"),
        ("spec: 2\nplan: [a]\n", 2, "plan must be the path of a test plan"),
        ("spec: 2\nsoak: {a: 1}\n", 2, "soak must name a soak profile"),
        ("spec: 2\nplan: p.yaml\nsoak: demo\n", 3, "either with a plan or as a soak, not both"),
        ("description: x\nspec: 1\nunit: {base: good}\n", 2,
         "spec must be 2, not 1; spec 1 had unit, cards and printer at the top: move them under device:"),
    ],
)
def test_a_bad_harness_half_names_the_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PlanError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and message in str(err.value)


def test_a_bad_device_half_is_reported_by_the_simulator_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "spec: 2\ndevice:\n  unit:\n    base: good\n    keys: 7\nexpect: {verdict: PASS}\n")
    with pytest.raises(ConfigError, match=rf"^{path}:5: expected a list of key names, got 7 \(at device.unit.keys\)$"):
        load_scenario(path)


def test_an_operator_script_is_an_operator_section(tmp_path: Path) -> None:
    f = tmp_path / "answers.yaml"
    f.write_text("answers:\n  '*': true\n")
    assert load_operator_script(f) == {"*": True}
    f.write_text("{}\n")
    assert load_operator_script(f) == {}  # a script without answers never answers
    f.write_text("answers:\n  '*': {yes: 1}\n")
    with pytest.raises(PlanError, match=rf"^{f}:2: the answer to '\*' must be"):
        load_operator_script(f)
