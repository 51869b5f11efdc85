"""Measurements and their limits.

A check reports values with :meth:`bench.checks.base.StepContext.measure`; the plan (or
the check's default) gives each named measurement a :class:`Limit`. Limits are explicit
fields, checked by one method, so a report can always say "measured X, expected Y".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from drivers.i18n import N_, Text, join_texts


@dataclass(frozen=True)
class Limit:
    """What a measured value must satisfy. Every field set must hold."""

    min: float | None = None
    max: float | None = None
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    regex: str | None = None
    unit: str | None = None
    fault: str | None = None  # fault code when violated; None = the check's default
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.regex is not None and self._pattern is None:
            object.__setattr__(self, "_pattern", re.compile(self.regex))

    def violations(self, value: Any) -> list[Text]:
        """Return what ``value`` breaks, one short phrase per broken condition (empty = within)."""
        broken: list[Text] = []
        if self.min is not None or self.max is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                broken.append(N_("not a number (expected {limit})", limit=self.describe()))
                return broken
            if self.min is not None and value < self.min:
                broken.append(N_("below min {min}", min=_fmt(self.min)))
            if self.max is not None and value > self.max:
                broken.append(N_("above max {max}", max=_fmt(self.max)))
        if self.equals is not None and value != self.equals:
            broken.append(N_("expected {value}", value=repr(self.equals)))
        if self.one_of is not None and value not in self.one_of:
            broken.append(N_("not one of {values}", values=repr(list(self.one_of))))
        if self._pattern is not None and not (isinstance(value, str) and self._pattern.fullmatch(value)):
            broken.append(N_("does not match /{regex}/", regex=self.regex))
        return broken

    def describe(self) -> str:
        """The limit in words, e.g. ``3.6 ≤ x ≤ 4.2 V`` (a :class:`~drivers.i18n.Text`, English as a ``str``)."""
        unit = f" {self.unit}" if self.unit else ""
        parts: list[str] = []
        if self.min is not None and self.max is not None:
            parts.append(f"{_fmt(self.min)} ≤ x ≤ {_fmt(self.max)}{unit}")
        elif self.min is not None:
            parts.append(f"≥ {_fmt(self.min)}{unit}")
        elif self.max is not None:
            parts.append(f"≤ {_fmt(self.max)}{unit}")
        if isinstance(self.equals, bool):
            parts.append(yes_no(self.equals))
        elif self.equals is not None:
            parts.append(f"= {self.equals!r}")
        if self.one_of is not None:
            parts.append(N_("one of {values}", values=repr(list(self.one_of))))
        if self.regex is not None:
            parts.append(N_("matches /{regex}/", regex=self.regex))
        return join_texts(parts) if parts else N_("any")

    def to_dict(self) -> dict[str, Any]:
        """The limit as plain data (only the fields that are set)."""
        out: dict[str, Any] = {}
        for key in ("min", "max", "equals", "regex", "unit", "fault"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        if self.one_of is not None:
            out["one_of"] = list(self.one_of)
        return out


@dataclass(frozen=True)
class Measurement:
    """A measured value, the limit it was judged against, and the verdict."""

    name: str
    value: Any
    unit: str | None = None
    limit: Limit | None = None
    passed: bool = True
    fault: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The measurement as plain JSON-able data."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "limit": self.limit.to_dict() if self.limit else None,
            "passed": self.passed,
            "fault": self.fault,
            "message": self.message,
        }


def judge(
    name: str, value: Any, *, unit: str | None, limit: Limit | None, default_fault: str | None,
    says: str | None = None,
) -> Measurement:
    """Judge ``value`` against ``limit`` and return the :class:`Measurement`.

    A failed measurement's message is what it means for the unit: ``says`` when the check
    gave it; for a yes/no or an exact-value limit, the title of its fault code ("printer
    cover open", not "cover_open = True: expected False"); for a number, the value against
    its limit ("voltage = 3.41 V: below min 7"). The
    name, value and limit stay in the measurement for reports and ``--json``.
    """
    if limit is None:
        return Measurement(name, value, unit)
    unit = unit or limit.unit
    broken = limit.violations(value)
    if not broken:
        return Measurement(name, value, unit, limit, True)
    fault = limit.fault or default_fault
    message = says or _meaning(name, value, unit, limit, fault, broken)
    return Measurement(name, value, unit, limit, False, fault, message)


def _meaning(name: str, value: Any, unit: str | None, limit: Limit, fault: str | None, broken: list[Text]) -> Text:
    from bench.faults import FAULTS

    words = words_of(name)
    title = FAULTS[fault].title if fault in FAULTS else None
    if isinstance(value, bool) or isinstance(limit.equals, bool):
        return title or N_("{what}: {value}, expected {expected}", what=words, value=yes_no(value),
                           expected=yes_no(limit.equals))
    if limit.equals is not None or limit.one_of is not None or limit.regex is not None:
        got = N_("{what}: {value}", what=words, value=_fmt(value))
        return N_("{title} ({got})", title=title, got=got) if title else N_("{got}, {broken}", got=got,
                                                                              broken=join_texts(broken))
    shown = f"{_fmt(value)} {unit}" if unit else _fmt(value)
    return N_("{name} = {value}: {broken}", name=name, value=shown, broken=join_texts(broken))


def words_of(name: str) -> str:
    """A measurement's name in words: ``post.secure_element`` -> ``post secure element``."""
    return name.replace("_", " ").replace(".", " ")


def yes_no(value: Any) -> str:
    """``yes``/``no`` (a :class:`~drivers.i18n.Text`) for a truth value, the value itself otherwise."""
    return (N_("yes") if value else N_("no")) if isinstance(value, bool) else _fmt(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
