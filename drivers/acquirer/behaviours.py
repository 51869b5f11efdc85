"""How the bench host answers each transaction: the behaviour file and its rules.

A behaviour file (YAML, read through :mod:`drivers.yamlsafe`)::

    default: approve                 # or a mapping: {answer: decline, code: "05"}
    rules:                           # the first rule that matches wins
      - card: "541333"               # PAN prefix (BIN), or a list of them
        answer: decline
        code: "51"                   # response code (field 39)
      - amount: 1313                 # field 4, minor units; also amount_min / amount_max
        answer: never
      - nth: [3, 7]                  # the 3rd and 7th message of this type since the host started
        answer: late
        delay: 5                     # seconds before the answer (then code, default 00)
      - aid: A000000333              # AID in the ICC data (field 55), or a list
        answer: close
      - mti: "0800"                  # rules match authorisations (0100) unless they name mti
        answer: garbage

Answers: ``approve`` (39=00), ``decline`` (39=code, default 05), ``late`` (answer with code
after ``delay`` seconds), ``never`` (no answer, the connection stays open), ``close`` (close the
connection without answering), ``garbage`` (a well-framed body that is not ISO 8583).
An authorisation answered late, never, by a close or by garbage expects a reversal
(``expect_reversal: false`` on the rule says otherwise). Every problem in the file is one
:class:`~drivers.errors.ConfigError` naming the file, the line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.yamlsafe import LineDict, LineList, load_file, load_text

ANSWERS = ("approve", "decline", "late", "never", "close", "garbage")
_NO_VALID_ANSWER = frozenset({"late", "never", "close", "garbage"})
_MATCH_KEYS = ("mti", "card", "aid", "amount", "amount_min", "amount_max", "nth")
_ACTION_KEYS = ("answer", "code", "delay", "expect_reversal")
_RULE_KEYS = ("name", *_MATCH_KEYS, *_ACTION_KEYS)
_CODE = re.compile(r"^[0-9A-Z]{2}$")
_MTIS = ("0100", "0400", "0401", "0800")
MAX_DELAY = 600.0


@dataclass(frozen=True)
class Behaviour:
    """What the host does with one request."""

    answer: str = "approve"
    code: str = "00"
    delay: float = 0.0
    expect_reversal: bool = False

    def describe(self) -> str:
        """``approve``, ``decline 51``, ``late 5s 00``, ``never``..."""
        if self.answer == "decline":
            return f"decline {self.code}"
        if self.answer == "late":
            return f"late {self.delay:g}s {self.code}"
        return self.answer


APPROVE = Behaviour()


@dataclass(frozen=True)
class Rule:
    """One rule: every match key given must hold."""

    behaviour: Behaviour
    mtis: tuple[str, ...] = ("0100",)
    cards: tuple[str, ...] = ()
    aids: tuple[str, ...] = ()
    amount: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    nths: tuple[int, ...] = ()
    name: str = ""

    def matches(self, mti: str, pan: str, aid: str, amount: int | None, nth: int) -> bool:
        """True when the request meets every condition of the rule."""
        if mti not in self.mtis:
            return False
        if self.cards and not any(pan.startswith(c) for c in self.cards):
            return False
        if self.aids and not any(aid.startswith(a) for a in self.aids):
            return False
        if self.nths and nth not in self.nths:
            return False
        if self.amount is not None or self.amount_min is not None or self.amount_max is not None:
            if amount is None:
                return False
            if self.amount is not None and amount != self.amount:
                return False
            if self.amount_min is not None and amount < self.amount_min:
                return False
            if self.amount_max is not None and amount > self.amount_max:
                return False
        return True


@dataclass(frozen=True)
class Behaviours:
    """The rules, first match wins, and the behaviour for the rest (approve unless said)."""

    rules: tuple[Rule, ...] = ()
    default: Behaviour = APPROVE

    def choose(self, mti: str, pan: str = "", aid: str = "", amount: int | None = None, nth: int = 1) -> Behaviour:
        """The behaviour for one request (``nth``: its rank among requests of its MTI, from 1)."""
        for rule in self.rules:
            if rule.matches(mti, pan, aid, amount, nth):
                return rule.behaviour
        return self.default if mti == "0100" else APPROVE


def load_behaviours(path: str | Path) -> Behaviours:
    """Read and check a behaviour file."""
    return parse_behaviours(load_file(path, what="behaviour file"), str(path))


def parse_behaviours_text(text: str, path: str = "<behaviours>") -> Behaviours:
    """:func:`load_behaviours` of a text (tests, a station's inline table)."""
    return parse_behaviours(load_text(text, path=path), path)


def parse_behaviours(doc: Any, path: str) -> Behaviours:
    """Check a loaded behaviour document."""
    if doc is None:
        return Behaviours()
    if not isinstance(doc, dict):
        raise ConfigError(N_("a behaviour file is a mapping with default: and rules:"), path=path, line=1)
    for key in doc:
        if key not in ("default", "rules"):
            raise _error(N_("unknown key {key!r} (expected default, rules)", key=key), path, doc, key, key)
    default = APPROVE
    if "default" in doc:
        value = doc["default"]
        spec = {"answer": value} if isinstance(value, str) else value
        if not isinstance(spec, dict):
            raise _error(N_("default is an answer or a mapping"), path, doc, "default", "default")
        spec_doc = spec if isinstance(spec, LineDict) else doc
        default = _behaviour(spec, path, spec_doc, "default")
    rules: list[Rule] = []
    raw_rules = doc.get("rules") or []
    if not isinstance(raw_rules, list):
        raise _error(N_("rules is a list of mappings"), path, doc, "rules", "rules")
    for i, raw in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(raw, dict):
            line = raw_rules.item_lines[i] if isinstance(raw_rules, LineList) else None
            raise ConfigError(N_("each rule is a mapping"), path=path, line=line, field=where)
        rules.append(_rule(raw, path, where))
    return Behaviours(tuple(rules), default)


def _line(doc: Any, key: str) -> int | None:
    return doc.line_of(key) if isinstance(doc, LineDict) else None


def _error(message: str, path: str, doc: Any, key: str, field: str) -> ConfigError:
    return ConfigError(message, path=path, line=_line(doc, key), field=field)


def _behaviour(raw: dict[str, Any], path: str, doc: Any, where: str, *, rule: bool = False) -> Behaviour:
    for key in raw:
        if key not in (_RULE_KEYS if rule else _ACTION_KEYS):
            allowed = ", ".join(_RULE_KEYS if rule else _ACTION_KEYS)
            raise _error(N_("unknown key {key!r} (expected {allowed})", key=key, allowed=allowed), path, doc, key, f"{where}.{key}")
    answer = raw.get("answer")
    if answer not in ANSWERS:
        key = "answer" if "answer" in raw else next(iter(raw), "answer")
        raise _error(N_("answer must be one of {items}, not {answer!r}", items=', '.join(ANSWERS), answer=answer), path, doc, key,
                     f"{where}.answer")
    code = raw.get("code", "05" if answer == "decline" else "00")
    if not isinstance(code, str) or not _CODE.match(code):
        raise _error(N_("code is a 2-character response code in quotes (\"51\"), not {code!r}", code=code), path, doc, "code",
                     f"{where}.code")
    if answer == "decline" and code == "00":
        raise _error(N_("a decline's code is not 00"), path, doc, "code", f"{where}.code")
    delay = raw.get("delay", 0)
    if answer == "late":
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= MAX_DELAY:
            raise _error(N_("a late answer needs delay: seconds, more than 0 and at most {MAX_DELAY:g}", MAX_DELAY=MAX_DELAY), path, doc,
                         "delay" if "delay" in raw else "answer", f"{where}.delay")
    elif "delay" in raw:
        raise _error(N_("delay goes with answer: late"), path, doc, "delay", f"{where}.delay")
    expect = raw.get("expect_reversal", answer in _NO_VALID_ANSWER)
    if not isinstance(expect, bool):
        raise _error(N_("expect_reversal is true or false"), path, doc, "expect_reversal", f"{where}.expect_reversal")
    return Behaviour(answer, code, float(delay), expect)


def _texts(raw: dict[str, Any], key: str, path: str, where: str, pattern: str, what: str) -> tuple[str, ...]:
    if key not in raw:
        return ()
    value = raw[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and re.fullmatch(pattern, v) for v in values):
        raise _error(N_("{key} is {what} in quotes, or a list of them", key=key, what=what), path, raw, key, f"{where}.{key}")
    return tuple(v.upper() for v in values)


def _count(raw: dict[str, Any], key: str, path: str, where: str) -> int | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _error(N_("{key} is a whole number of minor units (1250 for 12.50)", key=key), path, raw, key, f"{where}.{key}")
    return value


def _rule(raw: dict[str, Any], path: str, where: str) -> Rule:
    behaviour = _behaviour(raw, path, raw, where, rule=True)
    mtis = _texts(raw, "mti", path, where, r"\d{4}", "a message type") or ("0100",)
    for mti in mtis:
        if mti not in _MTIS:
            raise _error(N_("mti {mti} is not one the host answers ({items})", mti=mti, items=', '.join(_MTIS)), path, raw, "mti",
                         f"{where}.mti")
    nths: tuple[int, ...] = ()
    if "nth" in raw:
        value = raw["nth"]
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
            raise _error(N_("nth is a count from 1, or a list of them"), path, raw, "nth", f"{where}.nth")
        nths = tuple(values)
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise _error(N_("name is a text"), path, raw, "name", f"{where}.name")
    return Rule(behaviour, mtis, _texts(raw, "card", path, where, r"\d{1,19}", "a PAN prefix (digits)"),
                _texts(raw, "aid", path, where, r"[0-9A-Fa-f]{10,32}", "an AID (hex)"),
                _count(raw, "amount", path, where), _count(raw, "amount_min", path, where),
                _count(raw, "amount_max", path, where), nths, name)
