"""The one way the command line writes to a terminal: nothing a device said arrives as a control character.

Every line the CLI prints goes through :func:`echo`, which writes control characters (C0 but
the newline, DEL, C1, bidi overrides and other format characters; see :mod:`bench.controls`)
as visible escapes such as ``\\x1b``. Colour is the CLI's own: :func:`style` escapes its text
first and marks the result, and :func:`echo` passes marked parts through as they are. JSON
goes through :func:`echo_json`, which escapes the same characters the JSON way (``\\u001b``).
Log records reach stderr through :class:`SafeFormatter`, Click's usage errors through :func:`stream`.
The multi-up console (:mod:`bench.cli.multiconsole`) draws with rich: device text goes through
:func:`one_line` into rich ``Text`` objects, on a console with markup off. A test checks that no
other module of ``bench.cli`` calls ``click.echo``, ``print`` or writes to ``sys.stdout``/``sys.stderr`` itself.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any, cast

import click

from bench.controls import escape_controls, escape_controls_json
from drivers.i18n import tr


class Styled(str):
    """Text already escaped and styled by :func:`style`: :func:`echo` writes it as it is."""

    __slots__ = ()


def clean(text: object, *, keep: str = "\n") -> str:
    """``str(text)`` with its control characters (but ``keep``) as visible escapes."""
    return escape_controls(str(text), keep)


def one_line(text: object) -> str:
    """``str(text)`` on one line: newlines (and tabs) escaped too, for a value inside a line."""
    return escape_controls(str(text))


def style(text: object, **styles: Any) -> Styled:
    """``click.style(text, **styles)`` with ``text`` escaped first (its newlines too)."""
    return Styled(click.style(one_line(text), **styles))


def echo(*parts: object, err: bool = False, nl: bool = True, file: IO[str] | None = None) -> None:
    """Write ``parts`` joined, each in the reader's language (:func:`drivers.i18n.tr`) and escaped unless it came
    from :func:`style` (to ``file`` if given)."""
    click.echo("".join(p if isinstance(p, Styled) else clean(tr(p)) for p in parts), file=file, err=err, nl=nl)


def echo_json(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Write JSON text (from :func:`json.dumps`) with control characters as ``\\uXXXX`` escapes."""
    click.echo(escape_controls_json(text), err=err, nl=nl)


def bench_line(message: object) -> str:
    """``bench: MESSAGE``, the message in the reader's language; the prefix is the same in every language."""
    return f"bench: {tr(message)}"


def error_line(message: object) -> str:
    """``bench: error: MESSAGE``: the prefix scripts look for stays English in every language."""
    return f"bench: error: {tr(message)}"


class _Stream:
    def __init__(self, err: bool) -> None:
        self._err = err

    def write(self, text: str) -> int:
        return (sys.stderr if self._err else sys.stdout).write(clean(text))

    def flush(self) -> None:
        (sys.stderr if self._err else sys.stdout).flush()


def stream(*, err: bool = False) -> IO[str]:
    """A text stream for code that writes to a file itself (Click's usage errors): escapes what it is given."""
    return cast(IO[str], _Stream(err))


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines carry no control characters (tracebacks keep their newlines)."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, escaped."""
        return clean(super().format(record))


__all__ = ["SafeFormatter", "Styled", "bench_line", "clean", "echo", "echo_json", "error_line", "one_line", "stream", "style"]
