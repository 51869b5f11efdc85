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

    def violations(self, value: Any) -> list[str]:
        """Return what ``value`` breaks, one short phrase per broken condition (empty = within)."""
        broken: list[str] = []
        if self.min is not None or self.max is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                broken.append(f"not a number (expected {self.describe()})")
                return broken
            if self.min is not None and value < self.min:
                broken.append(f"below min {_fmt(self.min)}")
            if self.max is not None and value > self.max:
                broken.append(f"above max {_fmt(self.max)}")
        if self.equals is not None and value != self.equals:
            broken.append(f"expected {self.equals!r}")
        if self.one_of is not None and value not in self.one_of:
            broken.append(f"not one of {list(self.one_of)!r}")
        if self._pattern is not None and not (isinstance(value, str) and self._pattern.fullmatch(value)):
            broken.append(f"does not match /{self.regex}/")
        return broken

    def describe(self) -> str:
        """The limit in words, e.g. ``3.6 ≤ x ≤ 4.2 V``."""
        unit = f" {self.unit}" if self.unit else ""
        parts: list[str] = []
        if self.min is not None and self.max is not None:
            parts.append(f"{_fmt(self.min)} ≤ x ≤ {_fmt(self.max)}{unit}")
        elif self.min is not None:
            parts.append(f"≥ {_fmt(self.min)}{unit}")
        elif self.max is not None:
            parts.append(f"≤ {_fmt(self.max)}{unit}")
        if self.equals is not None:
            parts.append(f"= {self.equals!r}")
        if self.one_of is not None:
            parts.append(f"one of {list(self.one_of)!r}")
        if self.regex is not None:
            parts.append(f"matches /{self.regex}/")
        return ", ".join(parts) or "any"

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
    name: str, value: Any, *, unit: str | None, limit: Limit | None, default_fault: str | None
) -> Measurement:
    """Judge ``value`` against ``limit`` and return the :class:`Measurement`."""
    if limit is None:
        return Measurement(name, value, unit)
    unit = unit or limit.unit
    broken = limit.violations(value)
    if not broken:
        return Measurement(name, value, unit, limit, True)
    shown = f"{_fmt(value)} {unit}" if unit else _fmt(value)
    message = f"{name} = {shown}: {', '.join(broken)}"
    return Measurement(name, value, unit, limit, False, limit.fault or default_fault, message)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
