"""The catalogues are complete (what ``make test`` checks), and the check finds what is wrong with one."""

from __future__ import annotations

import io

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bench.i18n import catalogue


def test_every_marked_text_has_a_chinese_translation() -> None:
    found = catalogue.check()
    assert found == {"zh_CN": []}, "\n".join(found["zh_CN"])


def _po(body: str) -> Catalog:
    head = 'msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
    return read_po(io.BytesIO((head + body).encode()), locale="zh_CN")


def test_the_check_names_each_kind_of_problem() -> None:
    cat = _po(
        'msgid "Paper out"\nmsgstr "缺纸"\n\n'
        '#, fuzzy\nmsgid "Printer"\nmsgstr "打印机"\n\n'
        'msgid "Keypad"\nmsgstr ""\n\n'
        'msgid "{count} runs"\nmsgstr "{n} 次测试"\n\n'
        'msgid "Old text"\nmsgstr "旧"\n\n'
        'msgid "{n} unit"\nmsgid_plural "{n} units"\nmsgstr[0] "{n} 台"\n'
    )
    wanted = {"Paper out", "Printer", "Keypad", "{count} runs", "{n} unit", "Card swipe"}
    assert catalogue.problems(cat, wanted) == [
        "fuzzy: 'Printer'",
        "not translated: 'Keypad'",
        "placeholders differ (['n'] for ['count']): '{count} runs'",
        "no code uses it any more: 'Old text'",
        "not in the catalogue: 'Card swipe'",
    ]


def test_the_check_finds_what_pybabel_compile_refuses() -> None:
    cat = _po('#, python-format\nmsgid "50% done"\nmsgstr "完成百分之五十"\n')
    assert catalogue.problems(cat, {"50% done"}) == ["placeholders are incompatible: '50% done'"]


def test_placeholders_read_format_fields() -> None:
    assert catalogue.placeholders("{a} and {b!r} at {c:.2f}, not {{d}}") == {"a", "b", "c"}


def test_the_command_fails_on_a_problem(monkeypatch, capsys) -> None:
    monkeypatch.setattr(catalogue, "check", lambda: {"zh_CN": ["not translated: 'Keypad'"]})
    assert catalogue.main(["check"]) == 1
    assert "bench: catalogue zh_CN: not translated: 'Keypad'" in capsys.readouterr().err
