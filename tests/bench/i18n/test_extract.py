"""Babel's extraction takes the marked texts and the docstrings Click shows as a command's help."""

from __future__ import annotations

import io

from bench.i18n.extract import command_docstrings, extract

SOURCE = '''
import click
from drivers.i18n import N_, _

@click.group()
def top() -> None:
    """Repair cases: open one
    when a unit arrives."""

@top.command("open")
@click.option("--x", help=N_("Explain x."))
def open_cmd(x: str) -> None:
    """Open a case."""
    print(_("case opened"))

def helper() -> None:
    """Not a command: not shown to anyone."""
'''


def test_command_docstrings_are_extracted_cleaned_as_click_shows_them() -> None:
    assert list(command_docstrings(SOURCE)) == [(7, "Repair cases: open one\nwhen a unit arrives."), (13, "Open a case.")]


def test_the_extractor_yields_marked_texts_and_docstrings() -> None:
    found = [m[2] for m in extract(io.BytesIO(SOURCE.encode()), ["_", "N_"], [], {})]
    assert found == ["Explain x.", "case opened", "Repair cases: open one\nwhen a unit arrives.", "Open a case."]
