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
