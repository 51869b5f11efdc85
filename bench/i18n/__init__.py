"""Which language the bench speaks, and dates, numbers and column widths in it.

The catalogues are gettext files managed with Babel (``bench/locale/``; ``make catalogues`` extracts,
updates and compiles; ``docs/languages.md``). The marking functions live in :mod:`drivers.i18n`
(``_`` translates now, ``N_`` makes a :class:`~drivers.i18n.Text` translated when shown, :func:`tr`
shows any value); this package adds what only the harness knows:

* :func:`choose_language`: ``--lang``, then ``BENCH_LANG``, then the station file's ``lang``, then the
  locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), then English; :func:`activate` makes it the process's;
* :func:`format_datetime`, :func:`format_date`, :func:`format_number`: for the current language (Babel);
* :mod:`bench.i18n.layout`: display width of text with wide (East Asian) characters, for columns.

Machine output (``--json``, JUnit, store rows, fault codes) is never translated: it carries the English
text of a :class:`~drivers.i18n.Text` (its ``str`` value).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from drivers.i18n import N_, SOURCE_LANGUAGE, current_language, install_translation, set_catalogue_dir, set_language
from drivers.i18n import _ as _
from drivers.i18n import ngettext as ngettext
from drivers.i18n import tr as tr
from drivers.i18n import using_language as using_language

#: Where the catalogues live: ``<here>/<lang>/LC_MESSAGES/bench.po`` (and its compiled ``.mo``).
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "locale"

#: The languages the bench speaks, by the code ``--lang`` takes, with their own names.
LANGUAGES: Mapping[str, str] = {"en": "English", "zh_CN": "简体中文"}

# What people and locales write for the languages above (lower case, '-' as '_', no encoding).
_ALIASES = {
    "en": "en", "c": "en", "posix": "en",
    "zh": "zh_CN", "zh_cn": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN", "zh_sg": "zh_CN",
}

set_catalogue_dir(CATALOGUE_DIR, prepare=lambda language: load(language))


def normalise(tag: str) -> str | None:
    """The language code of ``tag`` (``zh-CN``, ``zh_CN.UTF-8``, ``en_US``, ``C``...), ``None`` if unknown."""
    base = tag.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_").lower()
    if not base:
        return None
    if base in _ALIASES:
        return _ALIASES[base]
    if base.startswith("en_"):
        return "en"
    return None


def choose_language(option: str | None = None, *, station: str | None = None,
                    environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: ``option`` (``--lang``), ``BENCH_LANG``, ``station`` (its ``lang``), the locale, English.

    Raises:
        UsageError: ``--lang``, ``BENCH_LANG`` or the station file names a language the bench does not speak.
    """
    from bench.errors import UsageError

    env = os.environ if environ is None else environ
    for given, source in ((option, "--lang"), (env.get("BENCH_LANG"), "BENCH_LANG"), (station, N_("the station file's lang"))):
        if given:
            lang = normalise(given)
            if lang is None:
                raise UsageError(N_("{source}: unknown language {given!r} (the bench speaks: {known})",
                                    source=source, given=given, known=", ".join(LANGUAGES)))
            return lang
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:  # the first one set decides, as for every program (an unknown locale means English)
            return normalise(value) or SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def activate(language: str) -> None:
    """Make ``language`` the language of this process (every thread); its catalogue is made current (:func:`load`)
    before its first use."""
    set_language(language)


def load(language: str) -> None:
    """Make sure the catalogue of ``language`` is current: a ``.mo`` older than its ``.po`` (a catalogue
    edited since ``make``) is compiled again, in place when the folder is writable, else in memory."""
    if language == SOURCE_LANGUAGE:
        return
    po = CATALOGUE_DIR / language / "LC_MESSAGES" / "bench.po"
    mo = po.with_suffix(".mo")
    try:
        if not po.is_file() or (mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime):
            return
    except OSError:
        return
    import gettext
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as handle:
        catalog = read_po(handle, locale=language)
    data = io.BytesIO()
    write_mo(data, catalog)
    try:
        tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")  # several processes may compile at once
        tmp.write_bytes(data.getvalue())
        tmp.replace(mo)
    except OSError:
        data.seek(0)
        install_translation(language, gettext.GNUTranslations(data))


def babel_locale(language: str | None = None) -> str:
    """The Babel locale name of ``language`` (default: the current one)."""
    return language or current_language()


def format_datetime(value: datetime, *, language: str | None = None, seconds: bool = True) -> str:
    """A date and time for people in the language (``2026-12-07 08:15:02`` / ``2026年12月7日 08:15:02``), as given (no zone change)."""
    lang = babel_locale(language)
    if lang == SOURCE_LANGUAGE:  # without Babel: an English run never loads its locale data (benchmark 4)
        return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    from babel.dates import format_datetime as babel_format

    return babel_format(value, "yyyy年M月d日 HH:mm:ss" if seconds else "yyyy年M月d日 HH:mm", locale=lang,
                        tzinfo=value.tzinfo)


def format_date(value: date, *, language: str | None = None) -> str:
    """A date for people in the language (``2026-12-07`` / ``2026年12月7日``)."""
    lang = babel_locale(language)
    if lang == SOURCE_LANGUAGE:
        return value.isoformat()
    from babel.dates import format_date as babel_format

    return babel_format(value, "yyyy年M月d日", locale=lang)


def format_number(value: float, *, decimals: int | None = None, language: str | None = None) -> str:
    """A number with the language's separators (``1,234.5``), to ``decimals`` places when given (else at most 3)."""
    lang = babel_locale(language)
    if lang == SOURCE_LANGUAGE:  # Babel's English pattern, without loading Babel
        from decimal import ROUND_HALF_EVEN, Decimal  # only here: bench.i18n loads with every command

        places = 3 if decimals is None else max(decimals, 0)
        rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        text = f"{rounded:,.{places}f}"
        return text.rstrip("0").rstrip(".") if decimals is None and "." in text else text
    from babel.numbers import format_decimal

    if decimals is None:
        return format_decimal(value, locale=lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=lang)


__all__ = [
    "CATALOGUE_DIR",
    "LANGUAGES",
    "N_",
    "_",
    "activate",
    "choose_language",
    "current_language",
    "format_date",
    "format_datetime",
    "format_number",
    "load",
    "ngettext",
    "normalise",
    "tr",
    "using_language",
]
