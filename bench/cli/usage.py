"""Click's usage errors as one line: ``bench: error: --lot-size: 0 is not in the range x>=2``.

Click prints a usage block of four lines for a bad option value; a technician needs the option
and what is wrong with it. Errors about the command line's shape (a missing argument, an
unknown option or command) add where to look: ``(see: bench run --help)``.
"""

from __future__ import annotations

import click

from drivers.i18n import _, tr


def _hint(param: click.Parameter | None, given: object) -> str:
    if isinstance(given, str):
        return given.strip("'\"")
    if isinstance(given, list | tuple):
        return " / ".join(str(g).strip("'\"") for g in given)
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    if param is not None:
        return param.human_readable_name
    return ""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _context(exc: click.UsageError) -> click.Context | None:
    """The command's context: Click's parser leaves it off some errors (``--report`` without a value)."""
    if exc.ctx is not None:
        return exc.ctx
    found = None
    tb = exc.__traceback__
    while tb is not None:
        ctx = tb.tb_frame.f_locals.get("ctx")
        if isinstance(ctx, click.Context):
            found = ctx
        tb = tb.tb_next
    return found


def usage_line(exc: click.UsageError) -> str:
    """The one line (without ``bench: error: ``) that says what is wrong with the command line."""
    ctx = _context(exc)
    see = _(" (see: {command} --help)").format(command=ctx.command_path) if ctx is not None else ""
    if isinstance(exc, click.MissingParameter):
        what = _hint(exc.param, exc.param_hint)
        return (_("missing {what}").format(what=what) if what else _("missing a value")) + see
    if isinstance(exc, click.BadParameter):
        what = _hint(exc.param, exc.param_hint)
        message = tr(exc.message).rstrip(".。")
        return _("{what}: {message}").format(what=what, message=message) if what else _lower_first(message)
    if isinstance(exc, click.NoSuchOption):
        text = _("no such option: {option}").format(option=exc.option_name)
        if exc.possibilities:
            text += _("; did you mean {options}?").format(options=_(" or ").join(sorted(exc.possibilities)))
        return text + see
    if isinstance(exc, click.BadOptionUsage) and _needs_value(exc):
        return _("{option} needs a value").format(option=exc.option_name) + see
    message = " ".join(tr(exc.format_message()).split()).rstrip(".。")
    return _lower_first(message) + see


def _needs_value(exc: click.BadOptionUsage) -> bool:
    """Click's "Option '--x' requires an argument." in English or as the catalogue says it."""
    said = tr(exc.message)
    mine = _("Option {name!r} requires an argument.").format(name=exc.option_name)
    return said.endswith("requires an argument.") or said == mine


__all__ = ["usage_line"]
