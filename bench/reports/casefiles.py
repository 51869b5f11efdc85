"""Write a case report's files (``case.html``, ``case.md``, ``case.json``) into its folder, atomically."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.reports.case import render_case_json, render_case_md
from bench.reports.casehtml import render_case_html
from bench.reports.files import write_atomic
from drivers.i18n import N_, SOURCE_LANGUAGE, using_language

#: Format name -> the file it writes in a case's report folder.
CASE_FILES: dict[str, str] = {"html": "case.html", "md": "case.md", "json": "case.json"}
_PAGES = {"html": render_case_html, "md": render_case_md}


def write_case_reports(data: dict[str, Any], folder: Path, formats: Iterable[str] = tuple(CASE_FILES), *,
                       customer_lang: str | None = None) -> dict[str, Path]:
    """Write the case report's formats (``html``, ``md``, ``json``) of ``data`` into ``folder``.

    The pages are in the current language, the summary for the customer in ``customer_lang`` (default: the
    same); ``case.json`` is English in every language.

    Args:
        data: from :func:`bench.reports.case.build_case_report` (redacted).
        folder: the case's report folder (created when missing).
        formats: which formats, in order.
        customer_lang: the customer's language (``en``, ``zh_CN``), for the summary written for them.

    Raises:
        UsageError: an unknown format.
    """
    written: dict[str, Path] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in CASE_FILES:
            raise UsageError(N_("unknown case report format {format!r} (known: {known})", format=fmt,
                                    known=", ".join(CASE_FILES)))
        path = folder / CASE_FILES[fmt]
        if fmt == "json":
            with using_language(SOURCE_LANGUAGE):
                text = render_case_json(data)
        else:
            text = _PAGES[fmt](data, customer_lang=customer_lang)
        write_atomic(path, text)
        written[fmt] = path
    return written


__all__ = ["CASE_FILES", "write_case_reports"]
