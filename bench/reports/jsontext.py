"""``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte, at a third of the cost.

The standard library's C encoder cannot indent: with ``indent`` set, ``json`` falls back to
its pure-Python generator encoder, which was most of the time it took to write a run.json.
This writer keeps the C string escaper and builds the same text with one list of parts.
Data it does not know (a type ``json`` would reject) goes to ``json.dumps`` itself, so the
errors are the standard library's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring  # the C escaper when the accelerator is present
from typing import Any

_INF = float("inf")


class _Unknown(Exception):
    """Internal: a value ``json`` would handle differently (or reject): let it."""


def dumps_indented(data: Any, text: Callable[[str], str] | None = None, skip: frozenset[str] = frozenset()) -> str:
    """The text of ``json.dumps(data, indent=2, ensure_ascii=False)``.

    With ``text``, every string value passes through it first, except under the dict keys in
    ``skip``: the text of ``json.dumps(redact_data(data, skip), ...)`` with ``text=redact``,
    without building the redacted copy (keys are not passed through ``text``; neither are
    they by :func:`drivers.codecs.pan.redact_data`).
    """
    out: list[str] = []
    try:
        _encode(data, out, "\n", text, skip)
    except (_Unknown, RecursionError):
        if text is not None:
            data = _apply(data, text, skip)
        return json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(out)


def _apply(value: Any, text: Callable[[str], str], skip: frozenset[str]) -> Any:
    """``value`` with ``text`` applied as :func:`dumps_indented` would (for the standard library's errors)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list | tuple):
        return [_apply(v, text, skip) for v in value]
    if isinstance(value, dict):
        return {k: v if k in skip else _apply(v, text, skip) for k, v in value.items()}
    return value


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float(key)
    raise _Unknown


def _encode(value: Any, out: list[str], newline: str, text: Callable[[str], str] | None,
            skip: frozenset[str]) -> None:
    """Append ``value``'s text to ``out``; ``newline`` is a newline and the current indent."""
    if isinstance(value, str):
        out.append(encode_basestring(value if text is None else text(value)))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        sep = "{" + inner
        for key, item in value.items():
            out.append(sep + encode_basestring(_key(key)) + ": ")
            _encode(item, out, inner, None if key in skip else text, skip)
            sep = "," + inner
        out.append(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        sep = "[" + inner
        for item in value:
            out.append(sep)
            _encode(item, out, inner, text, skip)
            sep = "," + inner
        out.append(newline + "]")
    else:
        raise _Unknown
