"""Every text a person reads is marked for the catalogue: no message, help text or output line in plain English.

The catalogue check (``python -m bench.i18n.catalogue check``) finds marked texts without a translation;
this test finds texts that were never marked. It reads the source (AST) of each area in :data:`AREAS`:

* one of our exceptions made with a literal or an f-string as its message (``raise PlanError("...")``,
  ``return CardError(f"...")``; Python's own, e.g. ``ValueError``, are programming errors and exempt);
* a Click ``help=`` given as a literal;
* in ``bench/cli``, a literal or f-string given to ``echo``/``_say``/``style``.

Everywhere in ``bench/`` and ``drivers/``, ``_()``, ``N_()`` and ``ngettext()`` take literals only (an
f-string or a variable would never reach the catalogue), and are never called inside an f-string's
braces (Babel does not look there: ``f"<h2>{_('Diagnosis')}</h2>"`` is translated by nobody).
In ``bench/reports`` (pages put together in f-strings), an HTML element or a Markdown heading whose
text is English words written in the f-string is a text never marked (``f"<h2>Diagnosis</h2>"``). A line may opt out with ``# i18n: <why>``
(e.g. a protocol token, a developer-only message).
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[3]

#: Folders or files whose user-facing texts are all marked. Each area is added when it is done.
AREAS = [
    "bench/cli",
    "bench/i18n",
    "bench/reports",
    "bench/web",
    "drivers",
    "bench/store/buffered.py",
    "bench/store/lotplaces.py",
    "bench/store/outbox.py",
    "bench/store/sync.py",
    "bench/__init__.py",
    "bench/__main__.py",
    "bench/controls.py",
    "bench/devices.py",
    "bench/errors.py",
    "bench/interrupts.py",
    "bench/multirun.py",
    "bench/operator.py",
    "bench/plan.py",
    "bench/planfind.py",
    "bench/record.py",
    "bench/run.py",
    "bench/runner.py",
    "bench/scenario.py",
    "bench/slotdevices.py",
    "bench/slotoperator.py",
    "bench/station.py",
    "bench/stationcheck.py",
    "bench/supervisor.py",
    "bench/tomlfile.py",
    "bench/version.py",
    "bench/cases",
    "bench/lots",
    "bench/soak",
    "bench/unitconfig",
    "bench/store",
    "bench/pytestplugin",
    "bench/faults.py",
    "bench/diagnosis.py",
    "bench/measure.py",
    "bench/checks",
]

_MARKERS = {"_", "N_", "ngettext"}
_OUR_ERRORS = {"LinkTimeout", "UnitErrorAnswer"}
_PYTHON_ERRORS = {name for name in dir(builtins) if name.endswith("Error")} | {"USBError", "USBTimeoutError"}
_OUTPUT = {"echo", "_say", "style"}
_LETTER = re.compile(r"[A-Za-z]{2}")
# Words written into HTML (between tags) or a Markdown heading/bold text in a report's f-string or literal.
_MARKUP_WORDS = re.compile(r">[^<>{}]*[A-Za-z]{2}[^<>{}]*(?:<|$)|^#+ +[A-Za-z]{2}|\*\*[A-Za-z]{2}[^*{}]*\*\*")


def _python_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = TOP / root
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_our_error(name: str) -> bool:
    """An exception a person reads: ours (``...Error``, ``LinkTimeout``), not Python's (a programming error)."""
    return (name.endswith("Error") or name in _OUR_ERRORS) and name not in _PYTHON_ERRORS


def _is_text(node: ast.expr) -> bool:
    """A literal with words in it, an f-string, or a literal's ``.format()`` / ``%``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_LETTER.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_text(node.func.value)
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return False


def _opted_out(lines: list[str], node: ast.AST) -> bool:
    first = getattr(node, "lineno", 0)
    last = getattr(node, "end_lineno", first) or first
    return any("# i18n:" in lines[i - 1] for i in range(first, last + 1) if 0 < i <= len(lines))


def _shown(path: Path) -> Path:
    return path.relative_to(TOP) if path.is_relative_to(TOP) else path


def unmarked(path: Path, *, cli: bool, pages: bool = False) -> list[str]:
    """The unmarked texts of one file, as ``path:line: what``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    rel = _shown(path)
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if _is_our_error(name) and node.args and _is_text(node.args[0]) and not _opted_out(lines, node):
            found.append(f"{rel}:{node.lineno}: exception message not marked")
        for kw in node.keywords:
            if kw.arg == "help" and _is_text(kw.value) and not _opted_out(lines, kw.value):
                found.append(f"{rel}:{kw.value.lineno}: help text not marked")
        if cli and name in _OUTPUT and any(_is_text(a) for a in node.args) and not _opted_out(lines, node):
            found.append(f"{rel}:{node.lineno}: output not marked")
    if pages:
        found += _page_words(source, lines, rel)
    return found


def _page_words(source: str, lines: list[str], rel: Path) -> list[str]:
    """English words written into a report page's markup (a heading, a table header, a paragraph)."""
    found: list[str] = []
    tree = ast.parse(source)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            pieces = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            pieces = [node.value]
        else:
            continue
        if any(_MARKUP_WORDS.search(p) for p in pieces) and not _opted_out(lines, node):
            found.append(f"{rel}:{node.lineno}: words in the page not marked")
    return sorted(set(found), key=lambda line: int(line.rsplit(":", 2)[-2]))


def misused_markers(path: Path) -> list[str]:
    """Calls of ``_``/``N_``/``ngettext`` whose text is not a literal, or inside an f-string's braces (either
    way it would never reach the catalogue)."""
    rel = _shown(path)
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for inner in (n for v in node.values if isinstance(v, ast.FormattedValue) for n in ast.walk(v.value)):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in _MARKERS:
                    found.append(f"{rel}:{inner.lineno}: {inner.func.id}() inside an f-string is never extracted")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in _MARKERS and isinstance(node.func, ast.Name):
            count = 2 if node.func.id == "ngettext" else 1
            texts = node.args[:count]
            if len(texts) < count or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts):
                found.append(f"{rel}:{node.lineno}: {node.func.id}() needs a literal text")
    return found


@pytest.mark.parametrize("area", AREAS)
def test_every_text_of_the_area_is_marked(area: str) -> None:
    found = [line for path in _python_files(area)
             for line in unmarked(path, cli=area.startswith("bench/cli"), pages=area.startswith("bench/reports"))]
    assert not found, "texts a person reads, not marked for translation:\n" + "\n".join(found)


def test_markers_take_literal_texts_only() -> None:
    found = [line for path in _python_files("bench", "drivers") for line in misused_markers(path)]
    assert not found, "\n".join(found)


def test_the_lint_finds_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'raise PlanError("no such plan")\n'
        'raise PlanError(f"no plan {name}")\n'
        'raise PlanError(N_("no plan {name}", name=name))\n'
        'raise PlanError("bad token")  # i18n: a protocol token\n'
        'raise ValueError("a programming error")\n'
        '@click.option("--x", help="Explain x.")\n'
        'def f(): pass\n'
        'echo(f"Stored {n} runs")\n'
        'echo(_("Stored {n} runs").format(n=n))\n'
        'x = _(f"Stored {n}")\n'
        'y = N_(text)\n'
        'z = f"<h2>{_(\'Diagnosis\')}</h2>"\n',
        encoding="utf-8",
    )
    got = [g.removeprefix(f"{sample}:") for g in unmarked(sample, cli=True)]
    assert got == ["1: exception message not marked", "2: exception message not marked", "6: help text not marked",
                   "8: output not marked"]
    assert [g.removeprefix(f"{sample}:") for g in misused_markers(sample)] == [
        "12: _() inside an f-string is never extracted", "10: _() needs a literal text",
        "11: N_() needs a literal text"]


def test_the_lint_finds_english_words_in_a_report_page(tmp_path: Path) -> None:
    sample = tmp_path / "page.py"
    sample.write_text(
        'a = f"<section><h2>Diagnosis</h2>{body}</section>"\n'
        'b = "<th>Step</th><th>Check</th>"\n'
        'c = f"<h2>{_e(heading)}</h2>"\n'
        'd = "## " + _("Symptoms")\n'
        'e = f"## Unit {name}"\n'
        'f = f\'<span class="tag {whose}">{_e(text)}</span>\'\n'
        'g = f"**{verdict}**"\n'
        'h = "<p>sample</p>"  # i18n: a test page\n',
        encoding="utf-8",
    )
    got = [g.removeprefix(f"{sample}:") for g in unmarked(sample, cli=False, pages=True)]
    assert got == ["1: words in the page not marked", "2: words in the page not marked", "5: words in the page not marked"]
