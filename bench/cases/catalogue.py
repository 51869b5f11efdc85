"""The parts catalogue: spare parts and labour-only actions a repair plan is made of.

``testplans/parts/catalogue.yaml`` (a station's own ``./testplans/parts/catalogue.yaml`` first)::

    catalogue: pos-parts
    version: "2026.12"
    currency: EUR
    labour_rate: 48.0              # per hour of bench time
    models: [PT-300, PT-500]
    parts:
      - {number: PT3-ICC-03, name: contact card reader module, models: [PT-300], price: 38.50,
         labour_minutes: 25, repairs: [ICC-NO-ATR, ICC-ERROR]}
    actions:                       # work without a part
      - {id: clean-card-contacts, kind: clean, name: clean the card reader contacts, minutes: 5,
         repairs: [ICC-NO-ATR]}

``repairs`` names fault codes or suspected parts of the fault table (:mod:`bench.faults`).
The file is data, validated whole like a plan: every problem is one :class:`PlanError`
naming the file, the line and the field.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import ConfigError, PlanError
from bench.faults import FAULTS
from drivers.i18n import N_
from drivers.yamlsafe import LineDict, LineList, decode, load_text, read_bytes

_LOG = logging.getLogger(__name__)

#: Kinds of labour-only action (a part's fitting is ``replace``); the case store's repair actions.
LABOUR_KINDS = ("reseat", "clean", "adjust", "update", "reflash", "return-to-factory", "other")
_TOP_KEYS = {"catalogue", "version", "currency", "labour_rate", "models", "parts", "actions"}
_PART_KEYS = {"number", "name", "models", "price", "labour_minutes", "repairs"}
_ACTION_KEYS = {"id", "kind", "name", "minutes", "repairs", "models"}
_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9._\-]{0,39}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9\-]{0,39}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_MAX_MINUTES = 10_000
_MAX_PRICE = 1e6
_MAX_TEXT = 200
#: Where a catalogue lives, relative to a plan folder.
CATALOGUE_FILE = Path("parts") / "catalogue.yaml"


@dataclass(frozen=True)
class Part:
    """A spare part: what it is, which models it fits, its price and the time to fit it."""

    number: str
    name: str
    models: tuple[str, ...]
    price: float
    labour_minutes: int
    repairs: tuple[str, ...]
    line: int = 0

    def fits(self, model: str) -> bool:
        """True when the part fits ``model``."""
        return model in self.models


@dataclass(frozen=True)
class LabourAction:
    """Work without a part (reseat, clean, reflash...), for every model unless ``models`` says which."""

    id: str
    kind: str
    name: str
    minutes: int
    repairs: tuple[str, ...]
    models: tuple[str, ...] = ()
    line: int = 0

    def fits(self, model: str) -> bool:
        """True when the action applies to ``model``."""
        return not self.models or model in self.models


@dataclass(frozen=True)
class Catalogue:
    """A validated parts catalogue."""

    name: str
    version: str
    currency: str
    labour_rate: float
    models: tuple[str, ...]
    parts: tuple[Part, ...]
    actions: tuple[LabourAction, ...]
    path: str = ""

    def part(self, number: str) -> Part | None:
        """The part with this number, or None."""
        return next((p for p in self.parts if p.number == number), None)

    def parts_for(self, fault: str, part_name: str, model: str) -> list[Part]:
        """Parts for ``model`` that repair ``fault``: those naming the code first, then the part, cheapest first."""
        by_code = sorted((p for p in self.parts if p.fits(model) and fault in p.repairs), key=lambda p: p.price)
        by_part = sorted((p for p in self.parts if p.fits(model) and fault not in p.repairs
                          and part_name in p.repairs), key=lambda p: p.price)
        return by_code + by_part

    def actions_for(self, fault: str, part_name: str, model: str) -> list[LabourAction]:
        """Labour-only actions for ``model`` that repair ``fault`` (or its suspected part), in file order."""
        return [a for a in self.actions if a.fits(model) and (fault in a.repairs or part_name in a.repairs)]

    def covers(self, fault: str, model: str) -> bool:
        """True when the catalogue has at least one action or part for ``fault`` on ``model``."""
        part_name = FAULTS[fault].part if fault in FAULTS else ""
        return bool(self.actions_for(fault, part_name, model) or self.parts_for(fault, part_name, model))


def find_catalogue() -> Path | None:
    """The catalogue file: ``./testplans/parts/catalogue.yaml``, else the stock one shipped with bench."""
    from bench.planfind import LOCAL_DIR, stock_dir

    local = LOCAL_DIR / CATALOGUE_FILE
    if local.is_file():
        return local
    stock = stock_dir()
    if stock is not None and (stock / CATALOGUE_FILE).is_file():
        return stock / CATALOGUE_FILE
    return None


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue at ``path`` (default: :func:`find_catalogue`)."""
    p = Path(path) if path is not None else find_catalogue()
    if p is None:
        raise PlanError(N_("no parts catalogue found (looked for testplans/parts/catalogue.yaml)"))
    try:
        data = load_text(decode(read_bytes(p), path=str(p)), path=str(p))
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return _build(data, str(p))


def parse_catalogue(text: str, *, path: str = "<catalogue>") -> Catalogue:
    """Validate a catalogue given as YAML text."""
    try:
        data = load_text(text, path=path)
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    return _build(data, path)


# --------------------------------------------------------------------------- validation


class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, message: str, node: Any, key: str | None, fld: str) -> PlanError:
        line = None
        if isinstance(node, LineDict):
            line = node.line_of(key) if key is not None else node.line
        elif isinstance(node, LineList):
            line = node.line
        return PlanError(message, path=self.path, line=line, field=fld)


_KNOWN_PARTS = frozenset(f.part for f in FAULTS.values())


def _build(data: Any, path: str) -> Catalogue:
    cx = _Ctx(path)
    if not isinstance(data, LineDict):
        raise PlanError(N_("a catalogue must be a YAML mapping with 'catalogue', 'parts' and 'actions'"), path=path)
    _no_unknown(cx, data, _TOP_KEYS, "")
    name = _text(cx, data, "catalogue", "catalogue", required=True)
    version = _text(cx, data, "version", "version") or "0"
    currency = _text(cx, data, "currency", "currency") or "EUR"
    if not _CURRENCY_RE.match(currency):
        raise cx.error(N_("currency must be a 3-letter code like EUR, not {currency!r}", currency=currency), data, "currency", "currency")
    rate = _number(cx, data, "labour_rate", "labour_rate", high=_MAX_PRICE, required=True)
    models = _names(cx, data, "models", "models", required=True)
    parts: list[Part] = []
    numbers: set[str] = set()
    for i, raw in _items(cx, data, "parts"):
        fld = f"parts[{i}]"
        _no_unknown(cx, raw, _PART_KEYS, fld)
        number = _text(cx, raw, "number", f"{fld}.number", required=True)
        if not _NUMBER_RE.match(number):
            raise cx.error(N_("part number {number!r} must be capitals, digits, '.', '_' or '-' (at most 40)", number=number), raw,
                           "number", f"{fld}.number")
        if number in numbers:
            raise cx.error(N_("duplicate part number {number!r}", number=number), raw, "number", f"{fld}.number")
        numbers.add(number)
        parts.append(Part(
            number=number,
            name=_text(cx, raw, "name", f"{fld}.name", required=True),
            models=_models(cx, raw, f"{fld}.models", models, required=True),
            price=round(_number(cx, raw, "price", f"{fld}.price", high=_MAX_PRICE, required=True), 2),
            labour_minutes=int(_number(cx, raw, "labour_minutes", f"{fld}.labour_minutes", high=_MAX_MINUTES,
                                       whole=True, required=True)),
            repairs=_repairs(cx, raw, f"{fld}.repairs"),
            line=raw.line,
        ))
    actions: list[LabourAction] = []
    ids: set[str] = set()
    for i, raw in _items(cx, data, "actions"):
        fld = f"actions[{i}]"
        _no_unknown(cx, raw, _ACTION_KEYS, fld)
        ident = _text(cx, raw, "id", f"{fld}.id", required=True)
        if not _ID_RE.match(ident):
            raise cx.error(N_("action id {ident!r} must be lower-case letters, digits or '-' (at most 40)", ident=ident), raw, "id",
                           f"{fld}.id")
        if ident in ids:
            raise cx.error(N_("duplicate action id {ident!r}", ident=ident), raw, "id", f"{fld}.id")
        ids.add(ident)
        kind = _text(cx, raw, "kind", f"{fld}.kind", required=True)
        if kind not in LABOUR_KINDS:
            raise cx.error(N_("kind must be one of {known}, not {kind!r} (a part is a replacement)", known=', '.join(LABOUR_KINDS), kind=kind),
                           raw, "kind", f"{fld}.kind")
        actions.append(LabourAction(
            id=ident,
            kind=kind,
            name=_text(cx, raw, "name", f"{fld}.name", required=True),
            minutes=int(_number(cx, raw, "minutes", f"{fld}.minutes", high=_MAX_MINUTES, whole=True, required=True)),
            repairs=_repairs(cx, raw, f"{fld}.repairs"),
            models=_models(cx, raw, f"{fld}.models", models, required=False),
            line=raw.line,
        ))
    return Catalogue(name, version, currency, rate, models, tuple(parts), tuple(actions), path)


def _items(cx: _Ctx, data: LineDict, key: str) -> list[tuple[int, LineDict]]:
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        raise cx.error(N_("{key} must be a list", key=key), data, key, key)
    out: list[tuple[int, LineDict]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, LineDict):
            raise PlanError(N_("each of {key} must be a mapping", key=key), path=cx.path, line=raw.item_lines[i],
                            field=f"{key}[{i}]")
        out.append((i, item))
    return out


def _no_unknown(cx: _Ctx, node: LineDict, allowed: set[str], fld: str) -> None:
    for key in node:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(str(key), allowed, n=1)
            where = f"{fld}.{key}" if fld else str(key)
            if close:
                raise cx.error(N_("unknown field {key!r}; did you mean {close!r}?", key=str(key)[:60], close=close[0]),
                               node, key, where)
            raise cx.error(N_("unknown field {key!r}; allowed: {allowed}", key=str(key)[:60],
                              allowed=", ".join(sorted(allowed))), node, key, where)


def _text(cx: _Ctx, node: LineDict, key: str, fld: str, *, required: bool = False) -> str:
    value = node.get(key)
    if value is None:
        if required:
            raise cx.error(N_("missing required field {key!r}", key=key), node, None, fld)
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise cx.error(N_("{key} must be text", key=key), node, key, fld)
    text = str(value).strip()
    if not text or len(text) > _MAX_TEXT or any(ord(c) < 32 for c in text):
        raise cx.error(N_("{key} must be one line of 1 to {most} characters", key=key, most=_MAX_TEXT), node, key, fld)
    return text


def _number(cx: _Ctx, node: LineDict, key: str, fld: str, *, high: float, whole: bool = False,
            required: bool = False) -> float:
    value = node.get(key)
    if value is None:
        if required:
            raise cx.error(N_("missing required field {key!r}", key=key), node, None, fld)
        return 0.0
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= high
    if ok and whole and not (isinstance(value, int) or float(value).is_integer()):
        ok = False
    if not ok:
        if whole:
            raise cx.error(N_("{key} must be a whole number from 0 to {high:g}, not {value!r}", key=key, high=high,
                              value=str(value)[:40]), node, key, fld)
        raise cx.error(N_("{key} must be a number from 0 to {high:g}, not {value!r}", key=key, high=high,
                          value=str(value)[:40]), node, key, fld)
    return float(value)


def _names(cx: _Ctx, node: LineDict, key: str, fld: str, *, required: bool) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        if required:
            raise cx.error(N_("missing required field {key!r}", key=key), node, None, fld)
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise cx.error(N_("{key} must be a non-empty list of names", key=key), node, key, fld)
    return tuple(v.strip() for v in value)


def _models(cx: _Ctx, node: LineDict, fld: str, known: tuple[str, ...], *, required: bool) -> tuple[str, ...]:
    models = _names(cx, node, "models", fld, required=required)
    for m in models:
        if m not in known:
            raise cx.error(N_("model {model!r} is not one of the catalogue's models ({known})", model=m, known=', '.join(known)), node, "models",
                           fld)
    return models


def _repairs(cx: _Ctx, node: LineDict, fld: str) -> tuple[str, ...]:
    repairs = _names(cx, node, "repairs", fld, required=True)
    for r in repairs:
        if r not in FAULTS and r not in _KNOWN_PARTS:
            import difflib

            close = difflib.get_close_matches(r, list(FAULTS), n=1)
            if close:
                raise cx.error(N_("{name!r} is neither a fault code nor a suspected part of the fault table; did you mean "
                                  "{close!r}?", name=r, close=close[0]), node, "repairs", fld)
            raise cx.error(N_("{name!r} is neither a fault code nor a suspected part of the fault table", name=r), node,
                           "repairs", fld)
    return repairs
