"""TOML files a person writes (station files, merchant profiles): read bounded, errors with file and line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bench.errors import ConfigError, PlanError
from drivers.i18n import N_
from drivers.yamlsafe import read_text


def read_toml(path: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """The parsed file and its text; an unreadable or malformed file is a one-line :class:`PlanError`."""
    p = Path(path)
    try:
        text = read_text(p, what=what)  # bounded: a regular file, its size, no control characters
        return tomllib.loads(text), text
    except ConfigError as exc:
        raise PlanError.of(exc) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        message = str(exc)[: at.start()].strip() if at else str(exc)
        raise PlanError(N_("TOML error: {error}", error=message), path=str(p), line=int(at.group(1)) if at else None) from None


def line_of(lines: list[str], where: str) -> int | None:
    """The line that sets ``where`` (``slots.2.unit``, ``devices``, ``name``), or None when not found.

    Best effort, for messages: it follows ``[table]`` headers and ``key =`` lines, the way
    these files are written; a key set some other way (inline tables) has no line.
    """
    parts = where.split(".")
    table: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        header = re.fullmatch(r"\[\s*([^\[\]]+?)\s*\](\s*#.*)?", line)
        if header:
            table = [k.strip().strip("\"'") for k in header.group(1).split(".")]
            if table == parts:
                return number
            continue
        assign = re.match(r"([A-Za-z0-9_.\"' -]+?)\s*=", line)
        if assign:
            key = [k.strip().strip("\"'") for k in assign.group(1).split(".")]
            if table + key == parts or table + key[: len(parts) - len(table)] == parts:
                return number
    return None
