"""Control characters out of text a person reads: the one definition, for the terminal and the reports.

Text from a device (a firmware version, a serial, a message) may carry ANSI escape sequences,
bells, C1 controls or bidi overrides that would rewrite the technician's terminal or make a
report say something else than it holds. :func:`escape_controls` writes each of them as a
visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``); :func:`escape_controls_json` writes them as
JSON escapes (``\\u001b``), so JSON stays JSON. Escaped are the Unicode categories Cc (C0,
DEL, C1), Cf (format characters: bidi embeddings, overrides and isolates, zero-width
characters, ...), Cs (lone surrogates), Zl and Zp (line and paragraph separators).
The terminal side is :mod:`bench.cli.safe`; reports call this module directly.
This module imports only :mod:`re`: the CLI imports it before every command.
"""

from __future__ import annotations

import re

# Generated from unicodedata 14.0 (Python 3.11) for the categories above, plus the Egyptian
# hieroglyph format controls of Unicode 15; tests/bench/test_controls.py checks it against the
# running Python.
_CONTROLS = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u180e"
    "\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ud800-\\udfff\\ufeff\\ufff9-\\ufffb"
    "\\U000110bd\\U000110cd\\U00013430-\\U0001343f\\U0001bca0-\\U0001bca3\\U0001d173-\\U0001d17a"
    "\\U000e0001\\U000e0020-\\U000e007f]"
)
# Most text holds nothing to escape: one search decides, the substitution runs only when needed.
#: The same without the whitespace JSON text keeps raw (newline, carriage return, tab): indented
#: JSON has a newline on every line, and a substitution callback for each was most of its cost.
_CONTROLS_JSON = re.compile(_CONTROLS.pattern.replace("\\x00-\\x1f", "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f", 1))


def _visible(m: re.Match[str]) -> str:
    cp = ord(m.group(0))
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _json(m: re.Match[str]) -> str:
    cp = ord(m.group(0))
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    cp -= 0x10000
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``, e.g. ``"\\n"``) as a visible escape."""
    if _CONTROLS.search(text) is None:
        return text
    if not keep:
        return _CONTROLS.sub(_visible, text)
    return _CONTROLS.sub(lambda m: m.group(0) if m.group(0) in keep else _visible(m), text)


def escape_controls_json(text: str) -> str:
    """JSON text (from :func:`json.dumps`) with every control character left raw written as ``\\uXXXX``.

    Outside strings JSON holds only ASCII structure and whitespace (kept); inside strings a
    ``\\uXXXX`` escape means the same character, so the document's data does not change.
    """
    if _CONTROLS_JSON.search(text) is None:
        return text
    return _CONTROLS_JSON.sub(_json, text)


__all__ = ["escape_controls", "escape_controls_json"]
