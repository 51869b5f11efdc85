"""Texts of the stock YAML files in the catalogue: the Babel extractor, and their lookup when shown.

The stock plans (``testplans/``) and the simulator's scenarios (``drivers/sim/scenarios/``) hold texts
people read: a plan's or scenario's ``description`` (``bench list``), a step's ``description`` and
``prompt``, an intake step's ``params.question``. :func:`extract` is a Babel extraction method
(``bench/locale/babel.cfg``: ``[bench.i18n.yamltexts:extract: ...]``) that puts them in the catalogue,
so ``make catalogues-update`` and the catalogue check see them like the texts marked in the code.

Where such a text is shown, :func:`catalogued` makes it a :class:`~drivers.i18n.Text` (the file's text
as its English value): translated when the catalogue has it, shown as written when it does not (a plan
a user wrote).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from drivers.i18n import Text

#: The texts of a plan's or scenario's top level, and of each of its steps, that people read.
TOP_KEYS = ("description",)
STEP_KEYS = ("description", "prompt")
#: Step parameters that are questions or instructions for the operator.
PARAM_KEYS = ("question",)


def catalogued(text: str) -> Text:
    """``text`` from a YAML file, shown in the reader's language when the catalogue has it, else as written."""
    return text if isinstance(text, Text) else Text(text)


def scenario_descriptions() -> list[tuple[str, Text]]:
    """Each shipped scenario's name and description (``bench list``), the description translatable."""
    from drivers.errors import ConfigError
    from drivers.sim.scenario import scenario_names, scenario_path
    from drivers.yamlsafe import load_file

    out: list[tuple[str, Text]] = []
    for name in scenario_names():
        try:
            data = load_file(scenario_path(name), what="scenario")
        except ConfigError:  # `bench plan check` and the run report a broken scenario, with its line
            data = None
        described = data.get("description") if isinstance(data, Mapping) else None
        out.append((name, catalogued(described if isinstance(described, str) else "")))
    return out


def texts(data: Any) -> Iterator[tuple[int, str]]:
    """The readable texts of one loaded YAML document, with their lines (``0`` when unknown)."""
    if not isinstance(data, Mapping):
        return
    yield from _keyed(data, TOP_KEYS)
    steps = data.get("steps")
    if isinstance(steps, list):
        for step in steps:
            if isinstance(step, Mapping):
                yield from _keyed(step, STEP_KEYS)
                params = step.get("params")
                if isinstance(params, Mapping):
                    yield from _keyed(params, PARAM_KEYS)


def _keyed(mapping: Mapping[str, Any], keys: Collection[str]) -> Iterator[tuple[int, str]]:
    line_of = getattr(mapping, "line_of", None)
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            yield (line_of(key) if line_of is not None else 0), value


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: Mapping[str, Any]) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method for a stock YAML file: its readable texts (see :func:`texts`).

    A file that is not valid YAML gives nothing here: the plan check reports it, with its line.
    """
    from drivers.errors import ConfigError
    from drivers.yamlsafe import decode, load_text

    name = getattr(fileobj, "name", None)
    try:
        data = load_text(decode(fileobj.read(), path=name), path=name)
    except ConfigError:
        return
    for line, text in texts(data):
        yield line, None, text, []


__all__ = ["PARAM_KEYS", "STEP_KEYS", "TOP_KEYS", "catalogued", "extract", "scenario_descriptions", "texts"]
