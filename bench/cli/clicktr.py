"""Click in the bench's language: help texts translated when shown, Click's own words from our catalogue.

Help texts are written at import, before the language is known, so they stay English there and are
looked up in the catalogue when the help is shown: an option's ``help=N_("...")`` and a command's
docstring (extracted by :mod:`bench.i18n.extract`) through :class:`Command` and :class:`Group`, which
every command of the CLI is (:func:`command`, :func:`group`; a group's subcommands by default).
Click's own texts ("Usage:", "Show this message and exit.", "Missing argument"...) go through
gettext's default domain; :func:`speak_click` points Click's modules at the bench's catalogue instead
(the texts are marked in :mod:`bench.cli.clickwords`). Help is wrapped by display width: a Chinese
character takes two columns and a Chinese sentence has no spaces to break at.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import click.formatting

from bench.i18n.layout import display_width, truncate
from drivers.i18n import _, translation

_WIDE = re.compile(r"[^\x00-\u10ff]")
_TOKEN = re.compile(r"\[[^\]\n]{1,30}\]|[ \t]+|[\x21-\u10ff]+|\S")  # Click's "[默认：good]" stays whole
_NO_LINE_START = set("，。；：、）」』！？…,.;:!?)")
_click_wrap = click.formatting.wrap_text


def lookup(text: str | None) -> str:
    """A help text (English, as written) in the current language, cleaned as Click cleans it."""
    if not text:
        return text or ""
    clean = inspect.cleandoc(text)
    return translation().gettext(clean)


def short_help(text: str, limit: int) -> str:
    """The first sentence of a translated help text, cut to ``limit`` terminal columns."""
    first = text.partition("\n\n")[0].replace("\n", " ")
    if not _WIDE.search(first):
        return click.utils._make_default_short_help(first, limit)
    first = re.split("[。；]", first, maxsplit=1)[0]
    return truncate(first, max(limit, 4), "...")


class _Translated(click.Command):
    """What :class:`Command` and :class:`Group` add to Click's: help and option texts looked up when shown."""

    def get_short_help_str(self, limit: int = 45) -> str:
        """The command's one-line help in the command list, in the current language."""
        if self.short_help:
            return lookup(self.short_help).strip()
        return short_help(lookup(self.help), limit).strip() if self.help else ""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command's help (its docstring), translated."""
        with _swapped(self, "help", lookup(self.help) if self.help else None):
            super().format_help_text(ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options and their help, translated."""
        params = [p for p in self.get_params(ctx) if isinstance(p, click.Option) and p.help]
        saved = [(p, p.help) for p in params]
        try:
            for p, text in saved:
                p.help = lookup(text)
            super().format_options(ctx, formatter)
        finally:
            for p, text in saved:
                p.help = text


class Command(_Translated):
    """A Click command whose help is shown in the reader's language."""


class Group(_Translated, click.Group):
    """A Click group whose help (and its subcommands') is shown in the reader's language."""

    command_class = Command


Group.group_class = Group  # a subgroup is a Group too (not the root's own class)


def command(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], Command]:
    """``click.command`` making a :class:`Command`."""
    return click.command(name, cls=Command, **attrs)


def group(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], Group]:
    """``click.group`` making a :class:`Group` (``cls=`` a subclass of it is kept)."""
    attrs.setdefault("cls", Group)
    return click.group(name, **attrs)


@contextmanager
def _swapped(obj: object, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def wrap_text(text: str, width: int = 78, initial_indent: str = "", subsequent_indent: str = "",
              preserve_paragraphs: bool = False) -> str:
    """Click's ``wrap_text``, by display width when the text has wide characters (Chinese)."""
    if not _WIDE.search(text):
        return _click_wrap(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
    paragraphs = text.split("\n\n") if preserve_paragraphs else [text]
    out = []
    for i, para in enumerate(paragraphs):
        first = initial_indent if i == 0 else subsequent_indent
        out.append(_wrap_wide(" ".join(para.split("\n")).strip(), width, first, subsequent_indent))
    return "\n\n".join(out)


def _wrap_wide(text: str, width: int, first: str, rest: str) -> str:
    """Greedy wrapping by display width; a line never starts with closing punctuation (its word goes along)."""
    lines: list[str] = []
    words: list[str] = []  # the current line's tokens, a space token kept where the text had one
    indent = first

    def used() -> int:
        return display_width(indent + "".join(words))

    for token in _TOKEN.findall(text):
        if token.isspace():
            if words and words[-1] != " ":
                words.append(" ")
            continue
        if words and used() + display_width(token) > width:
            carry: list[str] = []
            if token[0] in _NO_LINE_START and len(words) > 1:
                carry = [words.pop()]  # the last word goes down with the punctuation
            lines.append((indent + "".join(words)).rstrip())
            indent, words = rest, [w for w in carry if w != " "]
        words.append(token)
    lines.append((indent + "".join(words)).rstrip())
    return "\n".join(lines)


def click_ngettext(singular: str, plural: str, n: int) -> str:
    """Click's plural texts: each form is an entry of its own in the catalogue (:mod:`bench.cli.clickwords`)."""
    return translation().gettext(singular if n == 1 else plural)


class HelpFormatter(click.HelpFormatter):
    """Click's help formatter with the language's colon after a heading and after "Usage" (``选项：``)."""

    def write_heading(self, heading: str) -> None:
        """A heading (``Options:`` / ``选项：``)."""
        colon = "：" if _WIDE.search(heading) else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line; a full-width colon needs no space after it (``用法：bench ...``)."""
        if prefix is None:
            word = _("Usage:")
            prefix = word if word.endswith("：") else f"{word} "
        super().write_usage(prog, args, prefix)


class _TypeName(str):
    """A Click type's name (``integer range``): English as a str (the help's metavar ``INTEGER RANGE``),
    in the reader's language where a message formats it ("'x' 不是有效的整数范围")."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return format(translation().gettext(str(self)), spec)


_CLICK_MODULES = ("core", "exceptions", "formatting", "parser", "types", "termui", "utils")


def speak_click() -> None:
    """Make Click's own texts come from the bench's catalogue, in the current language, and wrap help by width.

    Click's decorators keep gettext's default (they run at import; their texts are looked up when
    shown, like ours).
    """
    import importlib

    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = click_ngettext  # type: ignore[attr-defined]
    click.formatting.wrap_text = wrap_text
    click.Context.formatter_class = HelpFormatter
    for kind in (click.types.IntParamType, click.types.FloatParamType, click.types.IntRange, click.types.FloatRange):
        kind.name = _TypeName(kind.name)


speak_click()

__all__ = ["Command", "Group", "HelpFormatter", "click_ngettext", "command", "group", "lookup", "short_help", "speak_click", "wrap_text"]
