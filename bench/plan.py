"""Test plans: YAML validated into a typed model, with errors that name file, line and field.

A plan looks like::

    plan: pos-quick
    version: "1.2"
    description: Quick check of a unit after repair
    models: [PT-300]              # optional: the unit models it applies to
    defaults: {timeout: 10, retries: 0}
    actions: {PWR-BATT-LOW: "..."}  # optional: override the repair action of a fault code
    steps:
      - name: identify
        check: unit.identify
        params: {min_firmware: "2.0.0"}
        limits:
          firmware: {regex: "2\\..*"}
        timeout: 5
        retries: 1
        requires: [other-step]
        models: [PT-300]
        prompt: "Connect the unit's diagnostic cable"

Plans are data: nothing in them is executed. See docs/plans.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import checks as check_registry
from bench.checks.base import CheckSpec
from bench.errors import BenchError, ConfigError, PlanError, UsageError
from bench.measure import Limit
from drivers.i18n import N_, Text
from drivers.yamlsafe import LineDict, LineList, decode, load_text, read_bytes
from drivers.yamlsafe import kind_of as _kind
from drivers.yamlsafe import show_value as _show

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_FAULT_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_PLAN_KEYS = {"plan", "version", "description", "models", "defaults", "actions", "steps"}
_STEP_KEYS = {"name", "check", "params", "limits", "timeout", "retries", "requires", "models", "prompt", "description"}
_LIMIT_KEYS = {"min", "max", "equals", "one_of", "regex", "unit", "fault"}
_DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 93600.0  # 26 h: a 24-hour soak step with its margin
MAX_RETRIES = 100
#: Bounds on what a plan may hold (docs/plans.md): a name, a text, a number, a list.
MAX_NAME = 64
MAX_TEXT = 2000
MAX_VALUE_TEXT = 1000
MAX_NUMBER = 1e12
MAX_ITEMS = 1000
MAX_STEPS = 5000
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and newline are text


@dataclass(frozen=True)
class Step:
    """One validated step of a plan."""

    name: str
    check: CheckSpec
    params: Mapping[str, Any]
    limits: Mapping[str, Limit | None]
    timeout: float
    retries: int
    requires: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    prompt: str | None = None
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Plan:
    """A validated test plan."""

    name: str
    version: str
    description: str
    steps: tuple[Step, ...]
    models: tuple[str, ...] = ()
    actions: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None
    sha256: str = ""

    @property
    def devices(self) -> set[str]:
        """Device roles the plan's checks need."""
        return {role for step in self.steps for role in step.check.devices}

    def applies_to(self, model: str) -> bool:
        """True when the plan has no model filter or lists ``model``."""
        return not self.models or model in self.models


def with_param(plan: Plan, check: str, key: str, value: Any, *, option: str) -> Plan:
    """``plan`` with parameter ``key`` of every step of ``check`` set to ``value`` (a run option such as
    ``--allow-downgrade``; the plan file is unchanged).

    Raises:
        UsageError: the plan has no step of ``check`` (the option would do nothing).
    """
    import dataclasses

    if not any(step.check.name == check for step in plan.steps):
        raise UsageError(N_("{option}: plan {plan} has no {check} step", option=option, plan=plan.name, check=check))
    steps = tuple(dataclasses.replace(step, params={**step.params, key: value}) if step.check.name == check else step
                  for step in plan.steps)
    return dataclasses.replace(plan, steps=steps)


def load_plan(path: str | Path) -> Plan:
    """Load and validate the plan file at ``path``."""
    p = Path(path)
    try:
        raw = read_bytes(p)
        data = load_text(decode(raw, path=str(p)), path=str(p))
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return _build(data, path=str(p), sha=hashlib.sha256(raw).hexdigest())


def parse_plan(text: str, *, path: str = "<plan>") -> Plan:
    """Validate a plan given as YAML text (used by tests and tools)."""
    try:
        data = load_text(text, path=path)
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return _build(data, path=path, sha=hashlib.sha256(text.encode()).hexdigest())


class _Ctx:
    """Where we are in the file, for error messages."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, message: str, node: Any = None, key: str | None = None, fld: str | None = None) -> PlanError:
        line = None
        if isinstance(node, LineDict):
            line = node.line_of(key) if key is not None else node.line
        elif isinstance(node, LineList):
            line = node.line
        return PlanError(message, path=self.path, line=line, field=fld)


def _build(data: Any, *, path: str, sha: str) -> Plan:
    cx = _Ctx(path)
    if not isinstance(data, LineDict):
        raise PlanError(N_("a plan must be a YAML mapping with 'plan' and 'steps'"), path=path)
    _no_unknown(cx, data, _PLAN_KEYS, "")
    name = _required_str(cx, data, "plan", "plan")
    _check_name(cx, name, N_("plan name"), data, "plan", "plan")
    version = _str(cx, data, "version", "version", limit=MAX_NAME) or "0"
    description = _readable(_str(cx, data, "description", "description")) or ""
    models = _str_list(cx, data, "models", "models")
    defaults = data.get("defaults", LineDict())
    if not isinstance(defaults, LineDict):
        raise cx.error(N_("defaults must be a mapping"), data, "defaults", "defaults")
    _no_unknown(cx, defaults, {"timeout", "retries"}, "defaults")
    d_timeout = _timeout(cx, defaults, "timeout", "defaults.timeout", _DEFAULT_TIMEOUT)
    d_retries = _retries(cx, defaults, "retries", "defaults.retries", 0)
    actions = _actions(cx, data)
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, LineList) or not steps_raw:
        raise cx.error(N_("a plan needs a non-empty list of steps"), data, "steps", "steps")
    if len(steps_raw) > MAX_STEPS:
        raise cx.error(N_("a plan has at most {most} steps, not {count}", most=MAX_STEPS, count=len(steps_raw)), data, "steps", "steps")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, raw in enumerate(steps_raw):
        fld = f"steps[{i}]"
        if not isinstance(raw, LineDict):
            raise PlanError(N_("each step must be a mapping"), path=path, line=steps_raw.item_lines[i], field=fld)
        step = _step(cx, raw, fld, d_timeout, d_retries)
        if step.name in seen:
            raise cx.error(N_("duplicate step name {name!r}", name=step.name), raw, "name", f"{fld}.name")
        for req in step.requires:
            if req not in seen:
                raise cx.error(
                    N_("step {name!r} requires {req!r}, which is not an earlier step", name=step.name, req=req), raw,
                    "requires", f"{fld}.requires"
                )
        seen.add(step.name)
        steps.append(step)
    return Plan(name, version, description, tuple(steps), tuple(models), actions, path, sha)


def _step(cx: _Ctx, raw: LineDict, fld: str, d_timeout: float, d_retries: int) -> Step:
    _no_unknown(cx, raw, _STEP_KEYS, fld)
    check_name = _required_str(cx, raw, "check", f"{fld}.check")
    try:
        spec = check_registry.get(check_name)
    except PlanError as exc:
        raise cx.error(exc.message, raw, "check", f"{fld}.check") from None
    name = _str(cx, raw, "name", f"{fld}.name") or check_name
    _check_name(cx, name, N_("step name"), raw, "name", f"{fld}.name")
    params = _params(cx, raw, spec, fld)
    limits = _limits(cx, raw, spec, fld)
    return Step(
        name=name,
        check=spec,
        params=params,
        limits=limits,
        timeout=_timeout(cx, raw, "timeout", f"{fld}.timeout", d_timeout),
        retries=_retries(cx, raw, "retries", f"{fld}.retries", d_retries),
        requires=tuple(_str_list(cx, raw, "requires", f"{fld}.requires")),
        models=tuple(_str_list(cx, raw, "models", f"{fld}.models")),
        prompt=_readable(_str(cx, raw, "prompt", f"{fld}.prompt", limit=MAX_VALUE_TEXT)),
        description=_readable(_str(cx, raw, "description", f"{fld}.description")) or spec.summary,
        line=raw.line,
    )


def _readable(text: str | None) -> str | None:
    """A text of the plan a person reads (a prompt, a description) as a :class:`Text` of itself: shown in the
    reader's language when the catalogue has it (a stock plan's), as written when not; its value is unchanged,
    so a scripted operator's answer keyed by the prompt still matches."""
    return None if text is None else Text(text)


def _params(cx: _Ctx, raw: LineDict, spec: CheckSpec, fld: str) -> dict[str, Any]:
    given = raw.get("params", LineDict())
    if given is None:
        given = LineDict()
    if not isinstance(given, LineDict):
        raise cx.error(N_("params must be a mapping"), raw, "params", f"{fld}.params")
    out: dict[str, Any] = {}
    for key, value in given.items():
        p = spec.params.get(key)
        if p is None:
            known = ", ".join(sorted(spec.params)) or N_("none")
            raise cx.error(N_("check {check} has no parameter {name} (known: {known})", check=spec.name, name=_show(key),
                              known=known), given, key,
                           f"{fld}.params.{key}")
        out[key] = _coerce(cx, given, key, value, p.type, f"{fld}.params.{key}")
        _sane(cx, out[key], given, key, f"{fld}.params.{key}")
        low, high = p.bounds or (-MAX_NUMBER, MAX_NUMBER)
        if isinstance(out[key], int | float) and not low <= out[key] <= high:
            raise cx.error(N_("{key} must be from {low:g} to {high:g}, not {value}", key=key, low=low, high=high,
                              value=_show(out[key])), given, key,
                           f"{fld}.params.{key}")
        if p.validate is not None:
            try:
                p.validate(out[key])
            except BenchError as exc:
                if isinstance(exc, PlanError) and getattr(exc, "path", None):
                    raise  # it names its own file and line (a soak profile's, say)
                raise cx.error(N_("{key}: {message}", key=key, message=exc.message), given, key, f"{fld}.params.{key}") from exc
    for key, p in spec.params.items():
        if key not in out:
            if p.required:
                raise cx.error(N_("check {check} needs parameter {key!r}", check=spec.name, key=key), raw, "params", f"{fld}.params.{key}")
            out[key] = p.default
    wrong = spec.check_params(out) if spec.check_params is not None else None
    if wrong:
        raise cx.error(wrong, raw, "params" if "params" in raw else "check", f"{fld}.params")
    return out


def _coerce(cx: _Ctx, node: LineDict, key: str, value: Any, kind: type | tuple[type, ...], fld: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        pass  # a bool is an int to Python; never accept it where a number is meant
    elif float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    elif isinstance(value, kinds):
        return _plain(value)
    names = " or ".join(k.__name__ for k in kinds)
    raise cx.error(N_("{key} must be {names}, not {kind} ({value})", key=key, names=names, kind=type(value).__name__,
                      value=_show(value)), node, key, fld)


def _plain(value: Any) -> Any:
    if isinstance(value, LineList):
        return [_plain(v) for v in value]
    if isinstance(value, LineDict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _limits(cx: _Ctx, raw: LineDict, spec: CheckSpec, fld: str) -> dict[str, Limit | None]:
    limits: dict[str, Limit | None] = dict(spec.measurements)
    given = raw.get("limits")
    if given is None:
        return limits
    if not isinstance(given, LineDict):
        raise cx.error(N_("limits must be a mapping of measurement name to limit"), raw, "limits", f"{fld}.limits")
    for mname, lraw in given.items():
        lfld = f"{fld}.limits.{mname}"
        if mname not in spec.measurements:
            known = ", ".join(sorted(spec.measurements)) or N_("none")
            raise cx.error(N_("check {check} has no measurement {name} (known: {known})", check=spec.name,
                              name=_show(mname), known=known), given, mname, lfld)
        if not isinstance(lraw, LineDict):
            raise cx.error(N_("a limit must be a mapping (min, max, equals, one_of, regex, unit, fault)"), given, mname, lfld)
        _no_unknown(cx, lraw, _LIMIT_KEYS, lfld)
        base = spec.measurements[mname]
        kw: dict[str, Any] = {}
        for key in ("min", "max"):
            if key in lraw:
                v = lraw[key]
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise cx.error(N_("{key} must be a number, not {kind} ({value})", key=key, kind=type(v).__name__,
                                      value=_show(v)), lraw, key,
                                   f"{lfld}.{key}")
                _sane(cx, v, lraw, key, f"{lfld}.{key}")
                kw[key] = float(v)
        if "min" in kw and "max" in kw and kw["min"] > kw["max"]:
            raise cx.error(N_("min {min:g} is above max {max:g}", min=kw["min"], max=kw["max"]), lraw, "min", f"{lfld}.min")
        if "equals" in lraw:
            _sane(cx, lraw["equals"], lraw, "equals", f"{lfld}.equals")
            kw["equals"] = _plain(lraw["equals"])
        if "one_of" in lraw:
            if not isinstance(lraw["one_of"], LineList) or not lraw["one_of"]:
                raise cx.error(N_("one_of must be a non-empty list"), lraw, "one_of", f"{lfld}.one_of")
            _sane(cx, lraw["one_of"], lraw, "one_of", f"{lfld}.one_of")
            kw["one_of"] = tuple(_plain(lraw["one_of"]))
        for key, limit in (("regex", MAX_VALUE_TEXT), ("unit", MAX_NAME), ("fault", MAX_NAME)):
            if key in lraw:
                v = lraw[key]
                if not isinstance(v, str):
                    raise cx.error(N_("{key} must be a string", key=key), lraw, key, f"{lfld}.{key}")
                _sane(cx, v, lraw, key, f"{lfld}.{key}", limit=limit)
                kw[key] = v
        if "regex" in kw:
            try:
                re.compile(kw["regex"])
            except re.error as exc:
                raise cx.error(N_("bad regex: {error}", error=str(exc)), lraw, "regex", f"{lfld}.regex") from None
        if "fault" in kw and not _FAULT_RE.match(kw["fault"]):
            raise cx.error(N_("fault code {code} must look like AREA-WHAT", code=_show(kw["fault"])), lraw, "fault", f"{lfld}.fault")
        if base is not None:
            kw.setdefault("unit", base.unit)
            kw.setdefault("fault", base.fault)
        limits[mname] = Limit(**kw)
    return limits


def _actions(cx: _Ctx, data: LineDict) -> dict[str, str]:
    raw = data.get("actions")
    if raw is None:
        return {}
    if not isinstance(raw, LineDict):
        raise cx.error(N_("actions must map fault codes to repair actions"), data, "actions", "actions")
    out: dict[str, str] = {}
    for code, text in raw.items():
        if len(code) > MAX_NAME or not _FAULT_RE.match(code):
            raise cx.error(N_("fault code {code} must look like AREA-WHAT", code=_show(code)), raw, code, f"actions.{_show(code)}")
        if not isinstance(text, str):
            raise cx.error(N_("a repair action must be text"), raw, code, f"actions.{code}")
        _sane(cx, text, raw, code, f"actions.{code}", limit=MAX_TEXT)
        out[code] = text
    return out


def _no_unknown(cx: _Ctx, node: LineDict, allowed: set[str], fld: str) -> None:
    for key in node:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1)
            where = f"{fld}.{_show(key)}" if fld else _show(key)
            if close:
                raise cx.error(N_("unknown field {name}; did you mean {close!r}?", name=_show(key), close=close[0]),
                               node, key, where)
            raise cx.error(N_("unknown field {name}; allowed: {allowed}", name=_show(key),
                              allowed=", ".join(sorted(allowed))), node, key, where)


def _required_str(cx: _Ctx, node: LineDict, key: str, fld: str) -> str:
    value = _str(cx, node, key, fld, limit=MAX_NAME)
    if value is None:
        raise cx.error(N_("missing required field {key!r}", key=key), node, None, fld)
    return value


def _str(cx: _Ctx, node: LineDict, key: str, fld: str, limit: int = MAX_TEXT) -> str | None:
    if key not in node or node[key] is None:
        return None
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise cx.error(N_("{key} must be text, not {kind}", key=key, kind=_kind(value)), node, key, fld)
    _sane(cx, value, node, key, fld, limit=limit)
    return str(value)


def _str_list(cx: _Ctx, node: LineDict, key: str, fld: str) -> list[str]:
    value = node.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, LineList) or not all(isinstance(v, str | int) for v in value):
        raise cx.error(N_("{key} must be a list of names", key=key), node, key, fld)
    names = [str(v) for v in value]
    for name in names:
        _check_name(cx, name, N_("a name"), node, key, fld, pattern=None)
    if len(names) > MAX_ITEMS:
        raise cx.error(N_("{key} lists at most {most} names, not {count}", key=key, most=MAX_ITEMS, count=len(names)), node, key, fld)
    return names


def _check_name(cx: _Ctx, name: str, what: Text, node: LineDict, key: str, fld: str,
                pattern: re.Pattern[str] | None = _NAME_RE) -> None:
    if len(name) > MAX_NAME:
        raise cx.error(N_("{what} {name} is {length} characters; at most {most}", what=what, name=_show(name),
                          length=len(name), most=MAX_NAME), node, key, fld)
    if pattern is not None and not pattern.match(name):
        raise cx.error(N_("{what} {name} must be letters, digits, '.', '_' or '-'", what=what, name=_show(name)), node, key, fld)
    if pattern is None:
        _sane(cx, name, node, key, fld, limit=MAX_NAME)


def _sane(cx: _Ctx, value: Any, node: LineDict, key: str, fld: str, limit: int = MAX_VALUE_TEXT) -> None:
    """Every number in ``value`` finite and within +-MAX_NUMBER; every text short and free of control characters."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            if not (math.isfinite(v) and abs(v) <= MAX_NUMBER):
                raise cx.error(N_("{key} must be a finite number within +-{most:g}, not {value}", key=key, most=MAX_NUMBER,
                                  value=_show(v)), node, key, fld)
        elif isinstance(v, str):
            if len(v) > limit:
                raise cx.error(N_("{key} is {length} characters; at most {most}", key=key, length=len(v), most=limit), node, key, fld)
            bad = _TEXT_CONTROL.search(v)
            if bad is not None:
                raise cx.error(N_("{key} holds control character U+{code:04X}", key=key, code=ord(bad.group())), node, key, fld)
        elif isinstance(v, list | tuple):
            if len(v) > MAX_ITEMS:
                raise cx.error(N_("{key} holds {count} items; at most {most}", key=key, count=len(v), most=MAX_ITEMS), node, key, fld)
            todo.extend(v)
        elif isinstance(v, dict):
            if len(v) > MAX_ITEMS:
                raise cx.error(N_("{key} holds {count} items; at most {most}", key=key, count=len(v), most=MAX_ITEMS), node, key, fld)
            todo.extend(v.keys())
            todo.extend(v.values())


def _timeout(cx: _Ctx, node: LineDict, key: str, fld: str, default: float) -> float:
    if key not in node:
        return default
    v = node[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= MAX_TIMEOUT:
        raise cx.error(N_("{key} must be a number of seconds between 0 and {most:g}, not {value}", key=key,
                          most=MAX_TIMEOUT, value=_show(v)), node, key, fld)
    return float(v)


def _retries(cx: _Ctx, node: LineDict, key: str, fld: str, default: int) -> int:
    if key not in node:
        return default
    v = node[key]
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_RETRIES:
        raise cx.error(N_("{key} must be a whole number from 0 to {most}, not {value}", key=key, most=MAX_RETRIES,
                          value=_show(v)), node, key, fld)
    return v
