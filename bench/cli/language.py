"""Which language the command line speaks: ``bench --lang``, ``BENCH_LANG``, the station file's ``lang``, the locale.

:func:`speak` decides before Click parses anything (``bench --lang zh_CN run --help`` is Chinese from
its first word); a command that loads a station file calls :func:`speak_station`, whose ``lang`` counts
when neither ``--lang`` nor ``BENCH_LANG`` chose (``docs/languages.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class _Chosen:
    option: str | None = None  # the --lang given to this command line


def lang_option(args: Sequence[str]) -> str | None:
    """The value of ``--lang`` among the options before the command's name (``bench --lang zh_CN run ...``)."""
    items = iter(args)
    for arg in items:
        if arg == "--lang":
            return next(items, None)
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-") or arg == "--":
            return None
    return None


def speak(args: Sequence[str]) -> str:
    """Choose the language from ``--lang`` in ``args``, ``BENCH_LANG`` and the locale, and speak it.

    Raises:
        UsageError: ``--lang`` or ``BENCH_LANG`` names a language the bench does not speak.
    """
    import contextlib

    from bench import i18n
    from bench.errors import UsageError

    _Chosen.option = lang_option(args)
    try:
        language = i18n.choose_language(_Chosen.option)
    except UsageError:
        with contextlib.suppress(UsageError):  # the error in the language the bench speaks without the bad --lang
            i18n.activate(i18n.choose_language(None))
        raise
    i18n.activate(language)
    return language


def speak_station(station: Any) -> None:
    """A station file was loaded: its ``lang`` is spoken unless ``--lang`` or ``BENCH_LANG`` chose."""
    lang = getattr(station, "lang", None)
    if lang:
        from bench import i18n

        i18n.activate(i18n.choose_language(_Chosen.option, station=lang))


__all__ = ["lang_option", "speak", "speak_station"]
