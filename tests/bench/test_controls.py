"""The one definition of a control character for people's eyes: complete, exact, reversible for JSON."""

from __future__ import annotations

import json
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bench.controls import escape_controls, escape_controls_json

ESCAPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_every_control_and_format_character_is_escaped_and_nothing_else() -> None:
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        category = unicodedata.category(c)
        out = escape_controls(c)
        if category in ESCAPED:
            assert out != c and out.isascii() and out.isprintable(), hex(cp)
        elif category != "Cn":  # unassigned here may be a format character in a newer Unicode
            assert out == c, hex(cp)


def test_visible_escapes() -> None:
    assert escape_controls("1\x1b]0;pwned\x07") == "1\\x1b]0;pwned\\x07"
    assert escape_controls("a\u202eb\x9bc\U000e0041") == "a\\u202eb\\x9bc\\U000e0041"
    assert escape_controls("line\nnext\ttab", keep="\n") == "line\nnext\\x09tab"
    assert escape_controls("plain ≤ 8.6 V, Ünïcode") == "plain ≤ 8.6 V, Ünïcode"


@given(st.dictionaries(st.text(), st.text() | st.integers() | st.lists(st.text())))
def test_json_escapes_keep_the_data(doc: dict[str, object]) -> None:
    text = escape_controls_json(json.dumps(doc, indent=2, ensure_ascii=False))
    assert json.loads(text) == doc
    assert all(unicodedata.category(c) not in ESCAPED or c == "\n" for c in text)



def test_json_escaping_keeps_newline_tab_and_return_and_escapes_every_other_control() -> None:
    from bench.controls import _CONTROLS, _json, escape_controls_json

    every = "".join(chr(cp) for cp in range(0x110000) if _CONTROLS.fullmatch(chr(cp)))
    text = '{\n  "a": "' + every + 'x"\n}'
    out = escape_controls_json(text)
    assert out == _CONTROLS.sub(lambda m: m.group(0) if m.group(0) in "\n\r\t" else _json(m), text)
    assert out.count("\n") == 2 + 1 and "\t" in out and "\r" in out and "\\u001b" in out
