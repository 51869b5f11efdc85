"""Columns that line up when text holds wide characters: a Chinese character takes two terminal cells."""

from __future__ import annotations

import unicodedata

from drivers.i18n import is_wide


def display_width(text: str) -> int:
    """How many terminal cells ``text`` takes: wide and fullwidth (East Asian) characters two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if is_wide(ch) else 1
    return width


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` cells (``<`` left, ``>`` right, ``^`` centre); never cut."""
    gap = max(0, width - display_width(text))
    if align == ">":
        return " " * gap + text
    if align == "^":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def truncate(text: str, width: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``width`` cells, ending in ``ellipsis`` when cut."""
    if display_width(text) <= width:
        return text
    room = width - display_width(ellipsis)
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


__all__ = ["display_width", "pad", "truncate"]
