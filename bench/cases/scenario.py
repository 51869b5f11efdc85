"""Case scenarios: a repair case from intake to sign-off, replayed on the simulated bench.

``testplans/cases/NAME.yaml`` (``bench case replay FILE --sim`` replays one)::

    spec: 1
    description: a card reader reseated, still failing, then replaced
    serial: SN-CASE-ICC
    complaint: chip cards are refused
    events:                                     # in order
      - run: {plan: pos-full, scenario: card-reader-no-atr}
      - repair: {action: reseat, note: reseated the flex connector}
      - run: {plan: pos-full, scenario: card-reader-no-atr}
      - repair: {action: replace, part: PT3-ICC-03, note: new reader module}
      - run: {plan: pos-full, scenario: good}
    close: {unrepaired: REASON}                 # optional: close unrepaired with this reason
    expect:
      verdict: hardware       # the judgement after the failing runs (bench.cases.judgement.VERDICTS)
      first_action: reseat    # the repair plan's first action kind, or none
      result: repaired        # the case's final state: repaired | unrepaired | returned

Each ``run`` is a ``bench run PLAN --sim --scenario SCENARIO --case C<id>`` (``plan`` defaults to
``pos-full``; a plan that tests the unit itself, not a part on a fixture, so the run identifies the unit; ``scenario`` is a fault scenario of ``drivers/sim/scenarios`` or a path), each
``repair`` a ``bench case repair``. The file is validated whole before anything runs: every
problem is a :class:`PlanError` naming the file, the line and the field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cases.judgement import VERDICTS
from bench.cases.model import ACTIONS, RESULTS
from bench.cases.plan import KIND_ORDER
from bench.errors import ConfigError, PlanError
from bench.planfind import find_plan, is_name, plan_dirs
from drivers.i18n import N_
from drivers.sim.scenario import scenario_path
from drivers.yamlsafe import LineDict, LineList, load_file

_LOG = logging.getLogger(__name__)

SPEC_VERSION = 1
DEFAULT_PLAN = "pos-full"
#: ``expect.first_action`` when the plan has nothing to do.
NO_ACTION = "none"
FIRST_ACTIONS = (*KIND_ORDER, NO_ACTION)
MAX_TEXT = 2000
MAX_EVENTS = 100
_KEYS = ("spec", "description", "serial", "model", "complaint", "events", "close", "expect")
_EXPECT_KEYS = ("verdict", "first_action", "result")
_RUN_KEYS = ("plan", "scenario")
_REPAIR_KEYS = ("action", "part", "note")


@dataclass(frozen=True)
class RunEvent:
    """A test run of the case's unit on a simulated bench in ``scenario``'s state."""

    plan: str
    scenario: str
    line: int | None = None


@dataclass(frozen=True)
class RepairEvent:
    """A repair the technician records."""

    action: str
    note: str
    part: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class CaseExpect:
    """What the case must come to."""

    verdict: str
    first_action: str
    result: str


@dataclass(frozen=True)
class CaseScenario:
    """A validated case scenario."""

    name: str
    description: str
    serial: str
    complaint: str
    events: tuple[RunEvent | RepairEvent, ...]
    expect: CaseExpect
    model: str | None = None
    unrepaired: str | None = None
    path: str = ""


def case_dirs() -> list[Path]:
    """Where case scenarios are found by name: ``cases/`` in each plan folder."""
    return [d / "cases" for d in plan_dirs()]


def case_scenario_path(ref: str) -> Path:
    """The file ``ref`` means: itself when it is a file or has a folder in it, else ``NAME.yaml`` in :func:`case_dirs`.

    Raises:
        PlanError: a name found nowhere.
    """
    path = Path(ref)
    if path.is_file() or not is_name(ref):
        return path
    file_name = ref if ref.endswith((".yaml", ".yml")) else f"{ref}.yaml"
    for folder in case_dirs():
        if (folder / file_name).is_file():
            return folder / file_name
    raise PlanError(N_("no case scenario {ref!r} in {known}", ref=ref, known=', '.join(str(d) for d in case_dirs())))


def case_scenario_names() -> list[str]:
    """Names of the case scenarios found (the first folder wins)."""
    return sorted({p.stem for d in case_dirs() for p in d.glob("*.yaml")})


def load_case_scenario(ref: str | Path) -> CaseScenario:
    """Load and validate a case scenario by path or name.

    Raises:
        PlanError: unreadable file, bad YAML or a bad field (file, line and field named).
    """
    p = case_scenario_path(str(ref))
    path = str(p)
    try:
        data = load_file(p)
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    if not isinstance(data, LineDict):
        raise PlanError(N_("a case scenario must be a mapping"), path=path)
    for key in data:
        if key not in _KEYS:
            raise PlanError(N_("unknown field {key!r}; known: {known}", key=key, known=', '.join(_KEYS)), path=path, line=data.line_of(key),
                            field=key)
    if data.get("spec") != SPEC_VERSION:
        raise PlanError(N_("spec must be {spec}, not {given!r}", spec=SPEC_VERSION, given=data.get('spec')), path=path,
                        line=data.line_of("spec"), field="spec")
    serial = _text(data, "serial", path, required=True)
    model = _text(data, "model", path)
    if "expect" not in data:
        raise PlanError(N_("a case scenario needs expect: verdict, first_action, result"), path=path,
                        line=data.line, field="expect")
    return CaseScenario(
        name=p.stem,
        description=_text(data, "description", path) or "",
        serial=serial or "",
        complaint=_text(data, "complaint", path, required=True) or "",
        events=_events(data, path),
        expect=_expect(data["expect"], path, data.line_of("expect")),
        model=model,
        unrepaired=_close(data.get("close"), path, data.line_of("close")),
        path=path,
    )


def _text(data: LineDict, key: str, path: str, *, required: bool = False, where: str | None = None) -> str | None:
    value = data.get(key)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise PlanError(N_("{name} is required", name=name), path=path, line=data.line, field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip() \
            or len(str(value)) > MAX_TEXT:
        raise PlanError(N_("{name} must be text of 1 to {most} characters, not {value}", name=name, most=MAX_TEXT, value=_short(value)), path=path,
                        line=data.line_of(key), field=name)
    return str(value).strip()


def _events(data: LineDict, path: str) -> tuple[RunEvent | RepairEvent, ...]:
    raw = data.get("events")
    line = data.line_of("events")
    if not isinstance(raw, LineList) or not raw:
        raise PlanError(N_("events must be a list of run: and repair: entries"), path=path, line=line, field="events")
    if len(raw) > MAX_EVENTS:
        raise PlanError(N_("at most {most} events, not {count}", most=MAX_EVENTS, count=len(raw)), path=path, line=line, field="events")
    events: list[RunEvent | RepairEvent] = []
    for i, item in enumerate(raw):
        where, at = f"events[{i}]", raw.item_lines[i]
        if not isinstance(item, LineDict) or len(item) != 1 or next(iter(item)) not in ("run", "repair"):
            raise PlanError(N_("an event is one mapping, {run} or {repair}", run="run: {plan, scenario}", repair="repair: {action, part, note}"),
                            path=path, line=at, field=where)
        kind = next(iter(item))
        body = item[kind]
        where = f"{where}.{kind}"
        if not isinstance(body, LineDict):
            raise PlanError(N_("{kind} must be a mapping", kind=kind), path=path, line=at, field=where)
        keys = _RUN_KEYS if kind == "run" else _REPAIR_KEYS
        for key in body:
            if key not in keys:
                raise PlanError(N_("unknown field {key!r}; known: {known}", key=key, known=', '.join(keys)), path=path,
                                line=body.line_of(key), field=f"{where}.{key}")
        events.append(_run(body, path, where) if kind == "run" else _repair(body, path, where))
    if not any(isinstance(e, RunEvent) for e in events):
        raise PlanError(N_("a case needs at least one run"), path=path, line=line, field="events")
    return tuple(events)


def _run(body: LineDict, path: str, where: str) -> RunEvent:
    plan = _text(body, "plan", path, where=where) or DEFAULT_PLAN
    if find_plan(plan) is None:
        raise PlanError(N_("no test plan {plan!r} in {known}", plan=plan, known=', '.join(str(d) for d in plan_dirs())), path=path,
                        line=body.line_of("plan"), field=f"{where}.plan")
    scenario = _text(body, "scenario", path, required=True, where=where) or ""
    try:
        scenario_path(scenario)
    except ConfigError as exc:
        raise PlanError(exc.message, path=path, line=body.line_of("scenario"), field=f"{where}.scenario") from exc
    return RunEvent(plan, scenario, body.line)


def _repair(body: LineDict, path: str, where: str) -> RepairEvent:
    action = body.get("action")
    if action not in ACTIONS:
        raise PlanError(N_("action must be one of {known}, not {action}", known=', '.join(ACTIONS), action=_short(action)), path=path,
                        line=body.line_of("action"), field=f"{where}.action")
    part = _text(body, "part", path, where=where)
    if action == "replace" and part is None:
        raise PlanError(N_("a replace needs the part number (part:)"), path=path, line=body.line, field=f"{where}.part")
    note = _text(body, "note", path, required=True, where=where) or ""
    return RepairEvent(str(action), note, part, body.line)


def _close(raw: Any, path: str, line: int) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, LineDict) or list(raw) != ["unrepaired"]:
        raise PlanError(N_("close must be {form}", form="{unrepaired: REASON}"), path=path, line=line, field="close")
    return _text(raw, "unrepaired", path, required=True, where="close")


def _expect(raw: Any, path: str, line: int) -> CaseExpect:
    if not isinstance(raw, LineDict):
        raise PlanError(N_("expect must be a mapping: verdict, first_action, result"), path=path, line=line,
                        field="expect")
    for key in raw:
        if key not in _EXPECT_KEYS:
            raise PlanError(N_("unknown field {key!r}; known: {known}", key=key, known=', '.join(_EXPECT_KEYS)), path=path,
                            line=raw.line_of(key), field=f"expect.{key}")
    for key, allowed in (("verdict", VERDICTS), ("first_action", FIRST_ACTIONS), ("result", RESULTS)):
        if raw.get(key) not in allowed:
            raise PlanError(N_("{key} must be one of {known}, not {raw}", key=key, known=', '.join(allowed), raw=_short(raw.get(key))), path=path,
                            line=raw.line_of(key), field=f"expect.{key}")
    return CaseExpect(raw["verdict"], raw["first_action"], raw["result"])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
