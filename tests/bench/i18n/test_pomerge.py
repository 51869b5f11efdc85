"""The .po merge driver: two branches that each add translations merge into their union."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bench.i18n import pomerge

_HEAD = 'msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\n'


def _write(path: Path, entries: dict[str, str]) -> str:
    path.write_text(_HEAD + "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items()), encoding="utf-8")
    return str(path)


def test_both_sides_additions_are_kept_and_a_clash_is_left_fuzzy(tmp_path: Path) -> None:
    base = _write(tmp_path / "base.po", {"Printer": "打印机", "Keypad": "键盘"})
    ours = _write(tmp_path / "ours.po", {"Printer": "打印机", "Keypad": "按键", "Paper out": "缺纸"})
    theirs = _write(tmp_path / "theirs.po", {"Printer": "打印模块", "Keypad": "键盘板", "Card swipe": "刷卡"})
    done = subprocess.run([sys.executable, pomerge.__file__, base, ours, theirs], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(ours, "rb") as handle:
        merged = {m.id: (m.string, m.fuzzy) for m in read_po(handle) if m.id}
    assert merged == {
        "Card swipe": ("刷卡", False),  # theirs added it
        "Paper out": ("缺纸", False),  # ours added it
        "Printer": ("打印模块", False),  # only theirs changed it
        "Keypad": ("按键", True),  # both changed it: a person chooses
    }
