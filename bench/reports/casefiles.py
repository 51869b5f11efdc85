"""Write a case report's files (``case.html``, ``case.md``, ``case.json``) into its folder, atomically."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.reports.case import render_case_json, render_case_md
from bench.reports.casehtml import render_case_html
from bench.reports.files import write_atomic

#: Format name -> the file it writes in a case's report folder.
CASE_FILES: dict[str, str] = {"html": "case.html", "md": "case.md", "json": "case.json"}
_RENDER = {"html": render_case_html, "md": render_case_md, "json": render_case_json}


def write_case_reports(data: dict[str, Any], folder: Path, formats: Iterable[str] = tuple(CASE_FILES)) -> dict[str, Path]:
    """Write the case report's formats (``html``, ``md``, ``json``) of ``data`` into ``folder``.

    Args:
        data: from :func:`bench.reports.case.build_case_report` (redacted).
        folder: the case's report folder (created when missing).
        formats: which formats, in order.

    Raises:
        UsageError: an unknown format.
    """
    written: dict[str, Path] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in CASE_FILES:
            raise UsageError(f"unknown case report format {fmt!r} (known: {', '.join(CASE_FILES)})")
        path = folder / CASE_FILES[fmt]
        write_atomic(path, _RENDER[fmt](data))
        written[fmt] = path
    return written


__all__ = ["CASE_FILES", "write_case_reports"]
