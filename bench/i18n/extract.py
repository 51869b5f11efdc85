"""Babel's extraction for the bench's Python: the marked texts, and the docstrings Click shows as help.

A Click command's docstring is its ``--help`` text; :mod:`bench.cli.clicktr` looks it up in the
catalogue when the help is shown, by its cleaned text (``inspect.cleandoc``, as Click cleans it).
This extractor yields the texts Babel's Python extractor finds, plus the docstring of every function
decorated with a ``...command(...)`` or ``...group(...)`` decorator (``bench/locale/babel.cfg``).
"""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python


def _is_command(decorator: ast.expr) -> bool:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("command", "group")


def command_docstrings(source: str) -> Iterator[tuple[int, str]]:
    """``(line, cleaned docstring)`` of each Click command or group defined in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(map(_is_command, node.decorator_list)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.body[0].lineno, doc


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any] | Collection[str], comment_tags: Collection[str],
            options: dict[str, Any]) -> Iterator[Any]:
    """Babel's extraction method: the marked texts of a Python file, then its commands' docstrings."""
    data = fileobj.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)  # type: ignore[arg-type]
    for line, doc in command_docstrings(data.decode(options.get("encoding", "utf-8"))):
        yield line, "", doc, []


__all__ = ["command_docstrings", "extract"]
