"""Write a run's reports: which formats exist, which file each writes, and the dispatch to them.

:func:`write_reports` is what ``bench run`` and ``bench report`` call: it writes the
formats asked for into a run's report folder, atomically. A report for people (HTML, the fault
report) is in the run's language (``rec.lang``) unless another is asked for; the machine formats
(JSON, JUnit, ``rma.json``) are the same bytes in every language. The renderers themselves are
:mod:`.html`, :mod:`.junit` and :mod:`.rma`; what they share is in :mod:`.format`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.controls import escape_controls_json
from bench.errors import UsageError
from bench.i18n import LANGUAGES
from bench.record import RunRecord
from bench.reports.files import write_atomic
from bench.reports.format import redacted, redacted_json
from bench.reports.html import render_html
from bench.reports.junit import render_junit
from bench.reports.rma import build_rma, render_rma_json, render_rma_md
from drivers.i18n import N_, SOURCE_LANGUAGE, using_language

if TYPE_CHECKING:
    from bench.store.history import RunHistory

#: Format name -> the file it writes in a report folder.
FILES: dict[str, str] = {
    "json": "run.json",
    "html": "report.html",
    "junit": "junit.xml",
    "rma": "rma.md",
    "rma-json": "rma.json",
}
#: What ``bench run`` writes when not told otherwise.
DEFAULT_FORMATS: tuple[str, ...] = ("json", "html", "junit")
#: ``rma`` stands for both fault-report files.
_ALIASES: dict[str, tuple[str, ...]] = {"rma": ("rma", "rma-json"), "all": tuple(FILES)}



def expand_formats(formats: Iterable[str]) -> list[str]:
    """Resolve aliases (``rma`` = rma.md + rma.json, ``all``) and check names, keeping order.

    Raises:
        UsageError: an unknown format name.
    """
    out: list[str] = []
    for fmt in formats:
        names = _ALIASES.get(fmt, (fmt,))
        for name in names:
            if name not in FILES:
                known = ", ".join([*FILES, "all"])
                raise UsageError(N_("unknown report format {format!r} (known: {known})", format=fmt, known=known))
            if name not in out:
                out.append(name)
    return out


def write_reports(
    rec: RunRecord, folder: Path, formats: Iterable[str] = DEFAULT_FORMATS, history: RunHistory | None = None,
    *, lang: str | None = None,
) -> dict[str, Path]:
    """Write the reports of ``rec`` into ``folder``; return format name -> file written.

    Args:
        rec: the finished run.
        folder: the run's report folder (created when missing).
        formats: any of ``json`` (run.json), ``html`` (report.html), ``junit`` (junit.xml),
            ``rma`` (rma.md and rma.json), ``rma-json``, ``all``.
        history: the unit's past (read-only), for its trends (HTML) and when it last passed (RMA);
            ``None`` renders without history.
        lang: the language of the reports for people (``en``, ``zh_CN``); default: the run's.

    Raises:
        UsageError: an unknown format name.
    """
    names = expand_formats(formats)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in names:
        path = folder / FILES[name]
        write_atomic(path, render(rec, name, history, lang=lang))
        written[name] = path
    return written


def write_attachments(rec: RunRecord, folder: Path) -> list[Path]:
    """Write each step's attachments (the receipt image, ...) as files under ``folder/attachments``.

    A technician holds the printed receipt against ``attachments/<step>-receipt.png``.
    """
    out: list[Path] = []
    for step in redacted(rec).steps:
        for a in step.attachments:
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{step.name}-{a.name}")
            path = folder / "attachments" / safe
            write_atomic(path, a.data)
            out.append(path)
    return out


def render(rec: RunRecord, fmt: str, history: RunHistory | None = None, *, lang: str | None = None) -> str:
    """One report of ``rec`` as text: ``json``, ``html``, ``junit``, ``rma`` (Markdown) or ``rma-json``.

    ``html`` and ``rma`` are in ``lang`` (default: the run's language, ``rec.lang``); the others are
    machine formats, in English whatever the language.

    Raises:
        UsageError: an unknown format name.
    """
    language = lang or rec.lang
    if fmt in ("json", "junit", "rma-json") or language not in LANGUAGES:
        language = SOURCE_LANGUAGE
    with using_language(language):
        return _render(rec, fmt, history)


def _render(rec: RunRecord, fmt: str, history: RunHistory | None) -> str:
    if fmt == "json":
        return escape_controls_json(redacted_json(rec)) + "\n"
    if fmt == "html":
        return render_html(rec, history)
    if fmt == "junit":
        return render_junit(rec)
    if fmt in ("rma", "rma-json"):
        data = build_rma(rec, history)
        return render_rma_md(data) if fmt == "rma" else render_rma_json(data)
    raise UsageError(N_("unknown report format {format!r} (known: {known})", format=fmt, known=", ".join(FILES)))


# --------------------------------------------------------------------------- redaction


__all__ = ["DEFAULT_FORMATS", "FILES", "expand_formats", "render", "write_attachments", "write_reports"]
