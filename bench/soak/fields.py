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
                raise self.error(f"missing required field {key!r}", node, None, fld)
            return None
        if not isinstance(value, LineDict):
            raise self.error(f"{fld} must be a mapping, not {kind(value)}", node, key, fld)
        return value

    def no_unknown(self, node: LineDict, allowed: set[str] | frozenset[str], fld: str) -> None:
        """Refuse a key not in ``allowed``, suggesting the closest one."""
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(sorted(allowed))}"
                where = f"{fld}.{field_name(key)}" if fld else field_name(key)
                raise self.error(f"unknown field {show(key)}{hint}", node, key, where)

    def number(self, node: LineDict, key: str, fld: str, *, low: float = 0.0, high: float = MAX_NUMBER,
               whole: bool = False, low_open: bool = False) -> float:
        """``node[key]`` as a finite number within ``low``..``high`` (``low`` excluded when ``low_open``)."""
        value = node[key]
        ok_type = isinstance(value, int) or (not whole and isinstance(value, float))
        if isinstance(value, bool) or not ok_type:
            what = "a whole number" if whole else "a number"
            raise self.error(f"{fld} must be {what}, not {kind(value)} ({show(value)})", node, key, fld)
        if not math.isfinite(value):
            raise self.error(f"{fld} must be a finite number, not {show(value)}", node, key, fld)
        below = value <= low if low_open else value < low
        if below or value > high:
            lo = f"above {low:g}" if low_open else f"from {low:g}"
            raise self.error(f"{fld} must be {lo} to {high:g}, not {show(value)}", node, key, fld)
        return float(value) if not whole else int(value)

    def duration(self, node: LineDict, key: str, fld: str, *, low_open: bool = True, high: float) -> float:
        """``node[key]`` as seconds: a number of seconds or text with a unit, ``90s``, ``15m``, ``1.5h``, ``500ms``."""
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(f"{fld} must be a duration like 90s, 15m or 1h, not {kind(value)}", node, key, fld)
        if isinstance(value, str):
            m = _DURATION_RE.match(value)
            if m is None:
                raise self.error(f"{fld} must be a duration like 90s, 15m or 1h, not {show(value)}", node, key, fld)
            seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
        else:
            seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0 or (low_open and seconds == 0) or seconds > high:
            lo = "above 0" if low_open else "from 0"
            raise self.error(f"{fld} must be {lo} to {fmt_duration(high)}, not {show(value)}", node, key, fld)
        return seconds

    def text(self, node: LineDict, key: str, fld: str, *, limit: int = 2000) -> str | None:
        """``node[key]`` as short text without control characters (None when absent)."""
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"{fld} must be text, not {kind(value)}", node, key, fld)
        text = str(value)
        if len(text) > limit:
            raise self.error(f"{fld} is {len(text)} characters; at most {limit}", node, key, fld)
        bad = _TEXT_CONTROL.search(text)
        if bad is not None:
            raise self.error(f"{fld} holds control character U+{ord(bad.group()):04X}", node, key, fld)
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


