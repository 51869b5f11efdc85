"""The check registry: a plan imports only the check modules it uses; bench list and entry points see all."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from bench import checks
from bench.checks.base import CheckSpec
from bench.errors import PlanError

ROOT = Path(__file__).resolve().parents[3]


def test_a_plan_imports_only_the_check_modules_its_steps_use() -> None:
    probe = ("import sys\nfrom bench.plan import load_plan\n"
             "plan = load_plan('testplans/pos-quick.yaml')\n"
             "print(sorted(m for m in sys.modules if m.startswith('bench.checks.')))\n"
             "print(sorted(plan.steps[1].params))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    modules, params = out.stdout.splitlines()
    # power.* lists the instrument checks of bench.checks.supply beside the battery's; unit.* checks live in
    # bench.checks.unit and its firmware half, bench.checks.unitfirmware
    assert modules == ("['bench.checks.base', 'bench.checks.power', 'bench.checks.supply', 'bench.checks.unit', "
                       "'bench.checks.unitfirmware']")
    assert params == "['min_firmware']"  # validated against the check's declared parameters


def test_every_builtin_check_lives_in_the_module_its_name_starts_with() -> None:
    for name, spec in checks.registry().items():
        module = spec.func.__module__
        if module in checks.BUILTIN_MODULES:
            assert module == f"bench.checks.{name.split('.')[0]}", name


def _third_party(monkeypatch: pytest.MonkeyPatch, specs: tuple[CheckSpec, ...]) -> None:
    module = types.ModuleType("thirdparty_checks")
    module.CHECKS = specs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "thirdparty_checks", module)
    entry = types.SimpleNamespace(value="thirdparty_checks")

    def entry_points(group: str) -> list[Any]:
        return [entry] if group == "bench.checks" else []

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    monkeypatch.setattr(checks, "_registry", None)
    monkeypatch.setattr(checks, "_builtin", {})
    monkeypatch.setattr(checks, "_builtin_loaded", set())


def test_entry_point_checks_are_found_by_name_and_listed(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    drawer = CheckSpec("unit.drawer", lambda ctx: None, "cash drawer")
    impostor = CheckSpec("unit.identify", lambda ctx: None, "not the built-in one")
    _third_party(monkeypatch, (drawer, impostor))
    assert checks.get("unit.drawer") is drawer  # same prefix as a built-in module, found in the entry points
    assert checks.get("unit.identify") is not impostor
    listed = checks.registry()
    assert listed["unit.drawer"] is drawer and listed["unit.identify"] is checks.get("unit.identify")
    assert "power.battery" in listed
    assert "unit.identify from thirdparty_checks ignored" in caplog.text


def test_an_unknown_check_names_close_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    _third_party(monkeypatch, ())
    with pytest.raises(PlanError, match=r"did you mean unit\.identify"):
        checks.get("unit.identfy")
