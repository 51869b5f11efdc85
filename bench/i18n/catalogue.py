"""The catalogue check ``make test`` runs: every marked text translated, no fuzzy or empty entry.

``python -m bench.i18n.catalogue check`` extracts the marked texts of ``bench/`` and ``drivers/`` (and the
readable texts of the stock YAML files, :mod:`bench.i18n.yamltexts`) with
Babel (the map in ``bench/locale/babel.cfg``, as ``make catalogues`` does) and compares them with each
language's ``bench.po``. A problem is: a text with no entry, an entry that is fuzzy or empty, an entry
no code uses any more, or a translation whose ``{placeholders}`` differ from its source (it would fail
when filled in). Exit 1 and one line per problem; 0 when the catalogues are complete.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bench.i18n import CATALOGUE_DIR, LANGUAGES

#: The repository's top (where babel.cfg's paths start).
TOP = CATALOGUE_DIR.parent.parent
#: The folders whose marked texts the catalogues hold (as ``make catalogues-update`` extracts them): the
#: code of ``bench/`` and ``drivers/`` (with the simulator's scenarios), and the stock plans of ``testplans/``.
SOURCES = ("bench", "drivers", "testplans")
_FIELD = re.compile(r"(?<!\{)\{([^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def extracted(top: Path = TOP) -> dict[str, set[str]]:
    """Every marked text (and plural) under ``top``, by msgid, with the files that use it."""
    with open(CATALOGUE_DIR / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, set[str]] = {}
    for folder in SOURCES:
        for path, _lineno, message, _comments, _context in extract_from_dir(
            str(top / folder), method_map, options_map, keywords=DEFAULT_KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, set()).add(f"{folder}/{path}")
    return found


def placeholders(text: str) -> set[str]:
    """The names of the ``{fields}`` of a brace-format text."""
    return {m.group(1) for m in _FIELD.finditer(text)}


def problems(catalog: Catalog, wanted: Iterable[str]) -> list[str]:
    """What is wrong with ``catalog`` for the texts ``wanted``, one line each."""
    wanted = set(wanted)
    out: list[str] = []
    seen: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        msgid = _texts(message.id)[0]
        seen.add(msgid)
        out.extend(_entry_problems(message, msgid, msgid in wanted))
    out.extend(f"not in the catalogue: {msgid!r}" for msgid in sorted(wanted - seen))
    for message, errors in catalog.check():  # what `pybabel compile` refuses (e.g. a stray %-format)
        out.extend(f"{error}: {_texts(message.id)[0]!r}" for error in errors)
    return out


def _texts(value: object) -> list[str]:
    """A message's id or string as a list of texts (plural entries have several)."""
    if isinstance(value, tuple | list):
        return [str(v or "") for v in value]
    return [str(value or "")]


def _entry_problems(message: Message, msgid: str, used: bool) -> list[str]:
    if not used:
        return [f"no code uses it any more: {msgid!r}"]
    if message.fuzzy:
        return [f"fuzzy: {msgid!r}"]
    strings = _texts(message.string)
    if not all(strings):
        return [f"not translated: {msgid!r}"]
    want = set().union(*(placeholders(i) for i in _texts(message.id)))
    for string in strings:
        if placeholders(string) != want:
            return [f"placeholders differ ({sorted(placeholders(string))} for {sorted(want)}): {msgid!r}"]
    return []


def check(languages: Sequence[str] | None = None, top: Path = TOP) -> dict[str, list[str]]:
    """The problems of each language's catalogue (English is the source and has none)."""
    wanted = extracted(top)
    result: dict[str, list[str]] = {}
    for lang in languages or [code for code in LANGUAGES if code != "en"]:
        path = CATALOGUE_DIR / lang / "LC_MESSAGES" / "bench.po"
        with open(path, "rb") as handle:
            catalog = read_po(handle, locale=lang)
        result[lang] = problems(catalog, wanted)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``check``: print the problems, exit 1 when there are any."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["check"]:
        sys.stderr.write("usage: python -m bench.i18n.catalogue check\n")
        return 2
    bad = 0
    for lang, found in check().items():
        for line in found:
            sys.stderr.write(f"bench: catalogue {lang}: {line}\n")
        bad += len(found)
    if bad:
        sys.stderr.write(f"bench: {bad} catalogue problems (make catalogues-update, then translate)\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
