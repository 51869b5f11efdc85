"""Fault scenarios: a simulated bench with faults, and the result the harness must reach.

``drivers/sim/scenarios/NAME.yaml``::

    spec: 1
    description: battery too low to pass
    unit:                     # overrides merged over the unit profile named by `base`
      base: good
      battery: {charge_percent: 8, voltage: 3.41}
    cards:                    # the simulated card reader
      substitute: {emv-visa-contact: mute}   # the reader turns the good test card into this one
                                             # (none: the reader never sees the card at all)
      inserted: emv-visa-contact             # a card already in the reader at the start
    printer:                  # the simulated USB printer (drivers/sim/printer.py)
      faults: {cover_open: true}
    operator:                 # the scripted operator's answers (question text -> answer; "*" default)
      answers: {"*": true}
    expect:
      verdict: FAIL
      faults: [PWR-BATT-LOW]
      exit: 1

The scenario library is an acceptance suite: the test suite runs every scenario and
compares the run with ``expect``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError
from drivers.yamlsafe import LineDict, load_file

SCENARIO_DIR = Path(__file__).with_name("scenarios")
SPEC_VERSION = 1
_KEYS = {"spec", "description", "unit", "cards", "printer", "operator", "plan", "expect"}
_EXPECT_KEYS = {"verdict", "faults", "exit", "summary"}


@dataclass(frozen=True)
class Expectation:
    """What a run on this scenario must end with."""

    verdict: str
    faults: tuple[str, ...] = ()
    exit: int = 0
    summary: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario."""

    name: str
    description: str
    unit: dict[str, Any]
    cards: dict[str, Any] = field(default_factory=dict)
    printer: dict[str, Any] = field(default_factory=dict)
    operator: dict[str, Any] = field(default_factory=dict)
    plan: str | None = None
    expect: Expectation | None = None
    path: str | None = None


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with bench."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str) -> Scenario:
    """Load a shipped scenario by name, or a scenario file by path."""
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        p = SCENARIO_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            raise ConfigError(f"unknown scenario {name_or_path!r}; known: {', '.join(scenario_names())}")
    data = load_file(p)
    path = str(p)
    if not isinstance(data, LineDict):
        raise ConfigError("a scenario must be a mapping", path=path)
    for key in data:
        if key not in _KEYS:
            raise ConfigError(f"unknown field {key!r}", path=path, line=data.line_of(key), field=key)
    if data.get("spec") != SPEC_VERSION:
        raise ConfigError(f"spec must be {SPEC_VERSION}, not {data.get('spec')!r}", path=path, line=data.line_of("spec"))
    expect = None
    raw = data.get("expect")
    if raw is not None:
        if not isinstance(raw, LineDict) or "verdict" not in raw:
            raise ConfigError("expect needs at least a verdict", path=path, line=data.line_of("expect"), field="expect")
        for key in raw:
            if key not in _EXPECT_KEYS:
                raise ConfigError(f"unknown field {key!r}", path=path, line=raw.line_of(key), field=f"expect.{key}")
        expect = Expectation(
            verdict=str(raw["verdict"]),
            faults=tuple(str(f) for f in raw.get("faults", []) or []),
            exit=int(raw.get("exit", 0)),
            summary=raw.get("summary"),
        )
    return Scenario(
        name=p.stem,
        description=str(data.get("description", "")),
        unit=_plain(data.get("unit") or {}),
        cards=_plain(data.get("cards") or {}),
        printer=_plain(data.get("printer") or {}),
        operator=_plain(data.get("operator") or {}),
        plan=data.get("plan"),
        expect=expect,
        path=path,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
