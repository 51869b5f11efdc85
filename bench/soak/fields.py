"""Reading one field of a soak profile: the value, checked, or one PlanError naming file, line and field.

The profile and its limits are parsed with these helpers so every error reads the same way:
``testplans/soak/x.yaml:12: rate[2].at 70m is beyond the duration 60m (at rate[2].at)``.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from bench.errors import PlanError
from drivers.i18n import N_
from drivers.yamlsafe import LineDict, LineList
from drivers.yamlsafe import kind_of as kind
from drivers.yamlsafe import show_value as show

#: Largest number anywhere in a profile (as in plans).
MAX_NUMBER = 1e12
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Where:
    """The file being read, to build errors that name file, line and field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, message: str, node: Any = None, key: str | int | None = None, fld: str | None = None) -> PlanError:
        """A PlanError at ``node[key]`` (or at the node itself when ``key`` is None)."""
        line = None
        if isinstance(node, LineDict):
            line = node.line_of(key) if isinstance(key, str) else node.line
        elif isinstance(node, LineList):
            line = node.item_lines[key] if isinstance(key, int) and key < len(node.item_lines) else node.line
        return PlanError(message, path=self.path, line=line, field=fld)

    def mapping(self, node: LineDict, key: str, fld: str, *, required: bool = False) -> LineDict | None:
        """``node[key]`` as a mapping (None when absent and not required)."""
        value = node.get(key)
        if value is None:
            if required:
                raise self.error(N_("missing required field {key!r}", key=key), node, None, fld)
            return None
        if not isinstance(value, LineDict):
            raise self.error(N_("{field} must be a mapping, not {kind}", field=fld, kind=kind(value)), node, key, fld)
        return value

    def no_unknown(self, node: LineDict, allowed: set[str] | frozenset[str], fld: str) -> None:
        """Refuse a key not in ``allowed``, suggesting the closest one."""
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                where = f"{fld}.{field_name(key)}" if fld else field_name(key)
                if close:
                    raise self.error(N_("unknown field {name}; did you mean {close!r}?", name=show(key), close=close[0]),
                                     node, key, where)
                raise self.error(N_("unknown field {name}; allowed: {allowed}", name=show(key),
                                    allowed=", ".join(sorted(allowed))), node, key, where)

    def number(self, node: LineDict, key: str, fld: str, *, low: float = 0.0, high: float = MAX_NUMBER,
               whole: bool = False, low_open: bool = False) -> float:
        """``node[key]`` as a finite number within ``low``..``high`` (``low`` excluded when ``low_open``)."""
        value = node[key]
        ok_type = isinstance(value, int) or (not whole and isinstance(value, float))
        if isinstance(value, bool) or not ok_type:
            if whole:
                raise self.error(N_("{field} must be a whole number, not {kind} ({value})", field=fld, kind=kind(value),
                                    value=show(value)), node, key, fld)
            raise self.error(N_("{field} must be a number, not {kind} ({value})", field=fld, kind=kind(value),
                                value=show(value)), node, key, fld)
        if not math.isfinite(value):
            raise self.error(N_("{field} must be a finite number, not {value}", field=fld, value=show(value)), node, key, fld)
        below = value <= low if low_open else value < low
        if below or value > high:
            if low_open:
                raise self.error(N_("{field} must be above {low:g} to {high:g}, not {value}", field=fld, low=low,
                                    high=high, value=show(value)), node, key, fld)
            raise self.error(N_("{field} must be from {low:g} to {high:g}, not {value}", field=fld, low=low, high=high,
                                value=show(value)), node, key, fld)
        return float(value) if not whole else int(value)

    def duration(self, node: LineDict, key: str, fld: str, *, low_open: bool = True, high: float) -> float:
        """``node[key]`` as seconds: a number of seconds or text with a unit, ``90s``, ``15m``, ``1.5h``, ``500ms``."""
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(N_("{field} must be a duration like 90s, 15m or 1h, not {kind}", field=fld, kind=kind(value)), node, key, fld)
        if isinstance(value, str):
            m = _DURATION_RE.match(value)
            if m is None:
                raise self.error(N_("{field} must be a duration like 90s, 15m or 1h, not {value}", field=fld, value=show(value)), node, key, fld)
            seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
        else:
            seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0 or (low_open and seconds == 0) or seconds > high:
            if low_open:
                raise self.error(N_("{field} must be above 0 to {duration}, not {value}", field=fld,
                                    duration=fmt_duration(high), value=show(value)), node, key, fld)
            raise self.error(N_("{field} must be from 0 to {duration}, not {value}", field=fld,
                                duration=fmt_duration(high), value=show(value)), node, key, fld)
        return seconds

    def text(self, node: LineDict, key: str, fld: str, *, limit: int = 2000) -> str | None:
        """``node[key]`` as short text without control characters (None when absent)."""
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(N_("{field} must be text, not {kind}", field=fld, kind=kind(value)), node, key, fld)
        text = str(value)
        if len(text) > limit:
            raise self.error(N_("{field} is {count} characters; at most {limit}", field=fld, count=len(text), limit=limit), node, key, fld)
        bad = _TEXT_CONTROL.search(text)
        if bad is not None:
            raise self.error(N_("{field} holds control character U+{code:04X}", field=fld, code=ord(bad.group())), node, key, fld)
        return text


def fmt_duration(seconds: float) -> str:
    """``3600`` -> ``1h``, ``90`` -> ``90s``, ``900`` -> ``15m``: the way a profile writes it."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{seconds:g}s"


def field_name(key: Any) -> str:
    """A key as a part of a field path: as written when it is a plain name, quoted otherwise."""
    return key if isinstance(key, str) and _PLAIN_KEY.match(key) else show(key)


