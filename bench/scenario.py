"""Fault scenarios as acceptance tests: a simulated bench, a scripted operator, a stated result.

``drivers/sim/scenarios/NAME.yaml`` (or any file given to ``--scenario``)::

    spec: 2
    description: battery too low to pass
    device:                   # the simulated bench: read and validated by drivers/sim/scenario.py
      unit:
        base: good
        battery: {charge_percent: 8, voltage: 3.41}
    operator:                 # the scripted operator's answers (question text -> answer; "*" default)
      answers: {"*": true}
    expect:                   # what a run on this bench must end with
      verdict: FAIL
      faults: [PWR-BATT-LOW]
      exit: 1

The file has two halves with one owner each. This module reads the file, checks its
top-level fields, and validates the harness's half: ``operator`` (default: answer yes to
everything), ``plan`` (the plan the acceptance suite runs; default ``testplans/pos-full.yaml``),
``soak`` (instead of a plan: the soak profile ``bench soak`` runs, for the soak scenarios)
and ``expect``. It hands the ``device:`` section, unread, to
:func:`drivers.sim.scenario.parse_devices`. The scenario library is an acceptance suite:
``tests/drivers/sim/test_scenarios.py`` runs every scenario and compares the run with ``expect``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import ConfigError, PlanError
from bench.faults import FAULTS
from bench.record import Verdict
from drivers.i18n import N_, Text
from drivers.sim.scenario import SimDevices, parse_devices, scenario_path
from drivers.yamlsafe import LineDict, LineList, load_file

SPEC_VERSION = 2
_KEYS = ("spec", "description", "device", "operator", "plan", "soak", "expect")
_EXPECT_KEYS = ("verdict", "faults", "exit", "summary")
_VERDICTS = tuple(v.value for v in Verdict if v is not Verdict.RUNNING)
_DEFAULT_ANSWERS: dict[str, Any] = {"*": True}
#: Bounds on the harness's half (docs/plans.md); the loader bounds the file itself.
MAX_TEXT = 2000
MAX_ANSWERS = 1000
MAX_NUMBER = 1e12
_NOT_A_SCRIPT = N_("an operator script is a mapping with an 'answers' mapping")


@dataclass(frozen=True)
class Expectation:
    """What a run on this scenario must end with."""

    verdict: str
    faults: tuple[str, ...] = ()
    exit: int = 0
    summary: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the simulator's half as :class:`SimDevices`, and the harness's half."""

    name: str
    description: str
    devices: SimDevices
    answers: dict[str, Any] = field(default_factory=lambda: dict(_DEFAULT_ANSWERS))
    plan: str | None = None
    soak: str | None = None
    expect: Expectation | None = None
    path: str | None = None


def load_scenario(name_or_path: str) -> Scenario:
    """Load and validate a shipped scenario by name, or a scenario file by path.

    Raises:
        PlanError: unreadable file, bad YAML, or a bad field in the harness's half.
        ConfigError: unknown name, or a bad field in the device half (from the simulator).
        Either names the file, the line and the field.
    """
    p = scenario_path(name_or_path)
    path = str(p)
    data = _read(p)
    if not isinstance(data, LineDict):
        raise PlanError(N_("a scenario must be a mapping"), path=path)
    _check_spec(data, path)
    for key in data:
        if key not in _KEYS:
            raise PlanError(N_("unknown field {key!r}; known: {known}", key=key, known=", ".join(_KEYS)), path=path,
                            line=data.line_of(key), field=key)
    plan = data.get("plan")
    if plan is not None and (not isinstance(plan, str) or len(plan) > MAX_TEXT):
        raise PlanError(N_("plan must be the path of a test plan"), path=path, line=data.line_of("plan"), field="plan")
    soak = data.get("soak")
    if soak is not None and (not isinstance(soak, str) or len(soak) > MAX_TEXT):
        raise PlanError(N_("soak must name a soak profile (testplans/soak/NAME.yaml) or be its path"), path=path,
                        line=data.line_of("soak"), field="soak")
    if soak is not None and plan is not None:
        raise PlanError(N_("a scenario is run either with a plan or as a soak, not both"), path=path,
                        line=data.line_of("soak"), field="soak")
    description = data.get("description", "")
    if not isinstance(description, str | int | float) or len(str(description)) > MAX_TEXT:
        raise PlanError(N_("description must be text of at most {most} characters", most=MAX_TEXT), path=path,
                        line=data.line_of("description"), field="description")
    return Scenario(
        name=p.stem,
        description=str(description),
        devices=parse_devices(data.get("device"), path=path),
        answers=parse_operator(data.get("operator"), path=path, line=data.line_of("operator")),
        plan=plan,
        soak=soak,
        expect=_expectation(data.get("expect"), path=path, line=data.line_of("expect")),
        path=path,
    )


def load_operator_script(path: Path) -> dict[str, Any]:
    """The answers of an ``--operator-script`` file (the same shape as a scenario's ``operator:``)."""
    data = _read(path)
    if not isinstance(data, LineDict):
        raise PlanError(_NOT_A_SCRIPT, path=str(path))
    return parse_operator(data, path=str(path), line=data.line, name="", default={})


def load_slot_operator_script(path: Path) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """An ``--operator-script`` for a multi-up run: the answers for every slot, and each slot's own.

    ::

        answers: {"*": true}          # every slot
        slots:
          3: {answers: {"*": false}}  # slot 3 answers no (merged over the answers above)

    Raises:
        PlanError: naming the file, the line and the field.
    """
    data = _read(path)
    if not isinstance(data, LineDict):
        raise PlanError(_NOT_A_SCRIPT, path=str(path))
    raw = data.pop("slots", None)
    common = parse_operator(data, path=str(path), line=data.line, name="", default={})
    per_slot: dict[int, dict[str, Any]] = {}
    if raw is None:
        return common, per_slot
    if not isinstance(raw, LineDict):
        raise PlanError(N_("slots must map a slot number to that slot's answers"), path=str(path),
                        line=data.line_of("slots"), field="slots")
    for key, section in raw.items():
        text = str(key) if isinstance(key, str | int) and not isinstance(key, bool) else ""
        slot = int(text) if text.isdecimal() and len(text) < 3 else None
        if slot is None or not 1 <= slot <= 64:
            raise PlanError(N_("a slot is a number from 1 to 64, not {value}", value=_short(key)), path=str(path),
                            line=raw.line_of(key), field="slots")
        per_slot[slot] = {**common, **parse_operator(section, path=str(path), line=raw.line_of(key),
                                                     name=f"slots.{slot}", default={})}
    return common, per_slot


def parse_operator(section: Any, *, path: str, line: int | None = None, name: str = "operator",
                   default: Mapping[str, Any] = _DEFAULT_ANSWERS) -> dict[str, Any]:
    """Validate an ``operator:`` section (``answers: {question: answer}``) into the answers.

    Without ``answers`` the operator gives ``default`` (in a scenario: yes to everything);
    ``answers: {}`` is an operator who never answers.
    """
    def where(key: str) -> str:
        return f"{name}.{key}" if name else key

    if section is None:
        return dict(default)
    if not isinstance(section, Mapping):
        raise PlanError(N_("operator must be a mapping with an 'answers' mapping"), path=path, line=line,
                        field=name or None)
    at = section.line_of if isinstance(section, LineDict) else (lambda _key: line)
    for key in section:
        if key != "answers":
            raise PlanError(N_("unknown field {key!r}; known: {known}", key=key, known="answers"), path=path, line=at(key),
                            field=where(key))
    answers = section.get("answers", dict(default))
    if not isinstance(answers, Mapping):
        raise PlanError(N_("answers must map a question to its answer"), path=path, line=at("answers"),
                        field=where("answers"))
    if len(answers) > MAX_ANSWERS:
        raise PlanError(N_("at most {most} answers, not {count}", most=MAX_ANSWERS, count=len(answers)), path=path, line=at("answers"),
                        field=where("answers"))
    for question, answer in answers.items():
        at_line = answers.line_of(question) if isinstance(answers, LineDict) else line
        if isinstance(answer, Mapping | list) or answer is None:
            raise PlanError(N_("the answer to {question} must be yes/no, a number or text, not {answer}",
                               question=_short(question), answer=_short(answer)),
                            path=path, line=at_line, field=where("answers"))
        for text in (question, answer):
            if isinstance(text, str) and len(text) > MAX_TEXT:
                raise PlanError(N_("a question or answer has at most {most} characters, not {length}", most=MAX_TEXT,
                                   length=len(text)),
                                path=path, line=at_line, field=where("answers"))
        if isinstance(answer, int | float) and not isinstance(answer, bool) and abs(answer) > MAX_NUMBER:
            raise PlanError(N_("the answer to {question} is out of range (+-{most:g})", question=_short(question),
                               most=MAX_NUMBER), path=path,
                            line=at_line, field=where("answers"))
    return dict(answers)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _read(path: Path) -> Any:
    try:
        return load_file(path)
    except ConfigError as exc:  # unreadable file or bad YAML: the harness's file, a plan error
        raise PlanError.of(exc) from exc


def _check_spec(data: LineDict, path: str) -> None:
    spec = data.get("spec")
    if spec == SPEC_VERSION:
        return
    if spec == 1:
        message = N_("spec must be {spec}, not {given!r}; spec 1 had unit, cards and printer at the top: move them "
                     "under device:", spec=SPEC_VERSION, given=spec)
    else:
        message = N_("spec must be {spec}, not {given!r}", spec=SPEC_VERSION, given=spec)
    raise PlanError(message, path=path, line=data.line_of("spec"), field="spec")


def _expectation(raw: Any, *, path: str, line: int) -> Expectation | None:
    if raw is None:
        return None
    if not isinstance(raw, LineDict) or "verdict" not in raw:
        raise PlanError(N_("expect needs at least a verdict"), path=path, line=line, field="expect")

    def fail(message: Text, key: str) -> PlanError:
        return PlanError(message, path=path, line=raw.line_of(key), field=f"expect.{key}")

    for key in raw:
        if key not in _EXPECT_KEYS:
            raise fail(N_("unknown field {key!r}; known: {known}", key=key, known=", ".join(_EXPECT_KEYS)), key)
    verdict = raw["verdict"]
    if verdict not in _VERDICTS:
        raise fail(N_("verdict must be one of {known}, not {given!r}", known=", ".join(_VERDICTS), given=verdict), "verdict")
    faults = raw.get("faults") or []
    if not isinstance(faults, list):
        raise fail(N_("faults must be a list of fault codes"), "faults")
    for i, code in enumerate(faults):
        if code not in FAULTS:
            line = faults.item_lines[i] if isinstance(faults, LineList) else raw.line_of("faults")
            raise PlanError(N_("unknown fault code {code!r} (bench/faults.py lists them)", code=code), path=path, line=line,
                            field=f"expect.faults[{i}]")
    exit_code = Verdict(verdict).exit_code
    if raw.get("exit", exit_code) != exit_code:
        raise fail(N_("a {verdict} run exits {code}, not {given!r}", verdict=verdict, code=exit_code, given=raw["exit"]), "exit")
    summary = raw.get("summary")
    if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_TEXT):
        raise fail(N_("summary must be the run's summary text"), "summary")
    return Expectation(verdict=verdict, faults=tuple(faults), exit=exit_code, summary=summary)
