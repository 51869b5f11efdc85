"""What the bench says to people, in their language: gettext catalogues (domain ``bench``), chosen per process.

Two ways to mark a text for translation (Babel extracts both: ``make catalogues``):

* ``_("Paper out")`` translates *now*, in the active language. For text made and shown at once:
  the command line's output, a report being rendered. Placeholders are filled after translation,
  always by name: ``_("{count} runs uploaded").format(count=n)``, never an f-string inside ``_()``.
* ``N_("battery at {pct} %", pct=80)`` makes a :class:`Text`: a ``str`` whose value is the English
  text (``"battery at 80 %"``; what ``--json``, JUnit, logs and store rows carry, so machine output
  stays language-neutral), and which remembers its template and parameters, so it can be shown in
  any language later (:func:`tr`), including after a trip through the store (:meth:`Text.to_json`).
  For text made in one place and shown in another: error messages, step messages, fault table
  entries, descriptions. A parameter that is itself a :class:`Text` is translated with it.

:func:`tr` gives any value in the active language: a :class:`Text` translated, an exception's
``message`` translated when it is a :class:`Text`, anything else ``str()`` as it is (device text is
never looked up in a catalogue).

The drivers only mark and translate; which catalogues exist and which language a process speaks is
the harness's (``bench.i18n``), which calls :func:`set_catalogue_dir` and :func:`set_language`.
Without it everything is English, the source language.
"""

from __future__ import annotations

import gettext
import json
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

#: The gettext domain of every catalogue: bench/locale/<lang>/LC_MESSAGES/bench.mo.
DOMAIN = "bench"
#: The language the source texts are written in.
SOURCE_LANGUAGE = "en"

_lock = threading.Lock()
_catalogue_dir: Path | None = None
_prepare: Callable[[str], None] | None = None
_process_language = SOURCE_LANGUAGE
_override: ContextVar[str | None] = ContextVar("bench_language", default=None)
_translations: dict[str, gettext.NullTranslations] = {}


def set_catalogue_dir(path: Path | None, prepare: Callable[[str], None] | None = None) -> None:
    """Where the compiled catalogues live (``<path>/<lang>/LC_MESSAGES/bench.mo``); ``None``: English only.

    ``prepare(language)`` runs before a language's catalogue is first loaded (the harness recompiles a
    ``.mo`` older than its ``.po`` there, or installs one with :func:`install_translation`).
    """
    global _catalogue_dir, _prepare
    with _lock:
        _catalogue_dir = path
        _prepare = prepare
        _translations.clear()


def set_language(language: str) -> None:
    """The language of this process from now on (every thread), e.g. ``"zh_CN"`` or ``"en"``."""
    global _process_language
    _process_language = language


def current_language() -> str:
    """The language texts are translated into here and now."""
    return _override.get() or _process_language


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Translate into ``language`` inside the block (this thread or task only): a report in another language."""
    token = _override.set(language)
    try:
        yield
    finally:
        _override.reset(token)


def install_translation(language: str, catalogue: gettext.NullTranslations) -> None:
    """Use ``catalogue`` for ``language`` (the harness compiled it itself: a catalogue newer than its ``.mo``)."""
    with _lock:
        _translations[language] = catalogue


def translation(language: str | None = None) -> gettext.NullTranslations:
    """The gettext catalogue of ``language`` (default: the current one); English: no catalogue."""
    lang = language or current_language()
    found = _translations.get(lang)
    if found is not None:
        return found
    if _prepare is not None and lang != SOURCE_LANGUAGE:
        _prepare(lang)
        found = _translations.get(lang)
        if found is not None:
            return found
    with _lock:
        if lang == SOURCE_LANGUAGE or _catalogue_dir is None:
            found = gettext.NullTranslations()
        else:
            found = _read_catalogue(lang, _catalogue_dir)
        _translations[lang] = found
    return found


def _read_catalogue(lang: str, folder: Path) -> gettext.NullTranslations:
    # Read the .mo each time a catalogue directory is set: gettext.translation() would cache it for the life of
    # the process, so a catalogue compiled again since (bench.i18n.load) would never be seen.
    path = gettext.find(DOMAIN, str(folder), languages=[lang])
    if path is None:
        return gettext.NullTranslations()
    with open(path, "rb") as handle:
        return gettext.GNUTranslations(handle)


def _(message: str) -> str:
    """``message`` translated now into the current language (itself when the catalogue lacks it)."""
    return translation().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, translated now (Chinese has one form)."""
    return translation().ngettext(singular, plural, n)


class Text(str):
    """A text to show people later: its value is the English text, and it translates itself (:func:`tr`).

    Made by :func:`N_`. Operations of ``str`` (concatenation, ``%``, f-strings) give a plain ``str``
    in English: compose translated texts by passing a :class:`Text` as a parameter of another.
    """

    __slots__ = ("params", "template")
    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Text:
        """The English text of ``template`` with ``params`` filled in by name."""
        obj = super().__new__(cls, template.format(**params) if params else template)
        obj.template = template
        obj.params = params
        return obj

    def translated(self, language: str | None = None) -> str:
        """This text in ``language`` (default: the current one)."""
        cat = translation(language)
        template = cat.gettext(self.template)
        if not self.params:
            return template
        values = {k: v.translated(language) if isinstance(v, Text) else v for k, v in self.params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):  # a catalogue entry that lost a placeholder: say it in English
            return str(self)

    def to_json(self) -> str:
        """Template and parameters as JSON, for a store row; :meth:`from_json` brings it back."""
        return json.dumps(_plain(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Text:
        """The :class:`Text` :meth:`to_json` wrote.

        Raises:
            ValueError: ``text`` is not what :meth:`to_json` writes.
        """
        return _revive(json.loads(text))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.template, dict(self.params)))

    def __repr__(self) -> str:
        return f"N_({self.template!r}{''.join(f', {k}={v!r}' for k, v in self.params.items())})"


def _rebuild(template: str, params: dict[str, Any]) -> Text:
    return Text(template, **params)


def _plain(text: Text) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in text.params.items():
        if isinstance(value, Text):
            params[key] = {"text": _plain(value)}
        elif isinstance(value, bool | int | float) or value is None:
            params[key] = value
        else:
            params[key] = str(value)
    return {"t": text.template, "p": params}


def _revive(data: Any) -> Text:
    if not isinstance(data, dict) or not isinstance(data.get("t"), str) or not isinstance(data.get("p"), dict):
        raise ValueError("not a stored text")
    params = {k: _revive(v["text"]) if isinstance(v, dict) else v for k, v in data["p"].items()}
    return Text(data["t"], **params)


def N_(template: str, /, **params: Any) -> Text:
    """Mark ``template`` for the catalogue and make a :class:`Text` of it, translated when shown."""
    return Text(template, **params)


def join_texts(items: Sequence[str], /, separator: str = ",") -> str:
    """``items`` as one text for people: ``"a, b, c"`` (``separator=";"``: ``"a; b; c"``; ``"a、b、c"`` in
    Chinese). Several items give a :class:`Text` whose items and separators translate when shown; one item
    is given back as it is, none as ``""``."""
    if not items:
        return ""
    out = items[-1]
    for first in reversed(items[:-1]):
        out = (N_("{first}; {rest}", first=first, rest=out) if separator == ";"
               else N_("{first}, {rest}", first=first, rest=out))
    return out


def is_wide(ch: str) -> bool:
    """True for a character that takes two cells (East Asian wide or full-width): a Chinese character."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def tr(value: object) -> str:
    """``value`` as the person reading should see it, in the current language.

    A :class:`Text` is translated; an exception whose ``message`` is a :class:`Text` gives that,
    translated; anything else is ``str(value)`` unchanged.
    """
    if isinstance(value, Text):
        return value.translated()
    if isinstance(value, BaseException):
        message = getattr(value, "message", None)
        if isinstance(message, Text) and str(value) == str(message):
            return message.translated()
    return str(value)


__all__ = [
    "DOMAIN",
    "N_",
    "SOURCE_LANGUAGE",
    "Text",
    "_",
    "current_language",
    "install_translation",
    "is_wide",
    "join_texts",
    "ngettext",
    "set_catalogue_dir",
    "set_language",
    "tr",
    "translation",
    "using_language",
]
