"""A git merge driver for ``.po`` files: the union of both sides' translations, sorted.

Two branches that each add translations touch the same sorted file; a line merge conflicts where
a union is what everybody wants. Configured once per clone::

    git config merge.pounion.driver ".venv/bin/python bench/i18n/pomerge.py %O %A %B"

with ``*.po merge=pounion`` in ``.gitattributes``. Usage: ``pomerge.py BASE OURS THEIRS`` (the result
replaces OURS). Where both sides translated a text differently, ours is kept and the text is marked
fuzzy, so the catalogue check fails until a person chooses. Needs only Babel.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def _read(path: str) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle)


def merge(base: Catalog, ours: Catalog, theirs: Catalog) -> Catalog:
    """``ours`` plus what ``theirs`` added or changed since ``base``."""
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id)
        old = base.get(message.id)
        if mine is None:
            if old is None or old.string != message.string:  # theirs added it (or changed it); we did not remove it
                ours[message.id] = message
            continue
        if mine.string == message.string or not message.string or (old is not None and old.string == message.string):
            continue
        if not mine.string or (old is not None and old.string == mine.string):
            mine.string = message.string  # only theirs changed it
            mine.flags.discard("fuzzy")
        else:
            mine.flags.add("fuzzy")  # both changed it differently: a person decides
    return ours


def main(argv: list[str]) -> int:
    """Merge ``THEIRS`` into ``OURS`` (written in place); exit 0."""
    base_path, ours_path, theirs_path = argv
    result = merge(_read(base_path), _read(ours_path), _read(theirs_path))
    with open(ours_path, "wb") as handle:
        write_po(handle, result, width=0, no_location=True, sort_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
