"""ISO 2859-1 single sampling by attributes (identical tables: ANSI/ASQ Z1.4, MIL-STD-105E).

Table I gives the sample size code letter of a lot size at an inspection level; Tables II-A
(normal), II-B (tightened) and II-C (reduced) give, per code letter and AQL, the acceptance
and rejection numbers, or an arrow: use the first sampling plan below (``v``) or above
(``^``) the arrow, *with that plan's code letter and sample size*. When the sample size
reaches or exceeds the lot size, every unit of the lot is inspected (100 % inspection),
with the plan's Ac and Re.

The tables are data, transcribed from MIL-STD-105E (public domain): one string per code
letter, one token per AQL column: ``Ac/Re``, ``v``, ``^``, or ``.`` (no entry: the
tightened table's extra letter S has a plan in one column only). Nothing here is computed
from a formula; ``tests/bench/lots/test_sampling.py`` checks every cell against a second,
independently written copy and against the structure of the standard.

The switching rules (normal, tightened, reduced, discontinued) follow ISO 2859-1:1999
clause 9 with its switching score; see :func:`switching_state`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bench.errors import UsageError
from drivers.i18n import N_, Text


class Severity(StrEnum):
    """Severity of inspection."""

    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"


#: Inspection levels: special S-1..S-4, general I, II (the default), III.
LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

#: Table I: upper bound of each lot size range (the last range is open) and the code letter
#: per inspection level, in the order of :data:`LEVELS`.
TABLE_I: tuple[tuple[int | None, str], ...] = (
    (8, "AAAAAAB"),
    (15, "AAAAABC"),
    (25, "AABBBCD"),
    (50, "ABBCCDE"),
    (90, "BBCCCEF"),
    (150, "BBCDDFG"),
    (280, "BCDEEGH"),
    (500, "BCDEFHJ"),
    (1200, "CCEFGJK"),
    (3200, "CDEGHKL"),
    (10000, "CDFGJLM"),
    (35000, "CDFHKMN"),
    (150000, "DEGJLNP"),
    (500000, "DEGJMPQ"),
    (None, "DEHKNQR"),
)

#: The AQL columns of Tables II-A/B/C (percent nonconforming up to 10; nonconformities
#: per 100 units for every column).
AQLS: tuple[float, ...] = (
    0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5,
    10, 15, 25, 40, 65, 100, 150, 250, 400, 650, 1000,
)

#: Sample size per code letter, normal and tightened inspection (S: tightened only).
SAMPLE_SIZES: dict[str, int] = {
    "A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50, "J": 80, "K": 125,
    "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250, "R": 2000, "S": 3150,
}

#: Sample size per code letter, reduced inspection (Table II-C).
REDUCED_SAMPLE_SIZES: dict[str, int] = {
    "A": 2, "B": 2, "C": 2, "D": 3, "E": 5, "F": 8, "G": 13, "H": 20, "J": 32, "K": 50,
    "L": 80, "M": 125, "N": 200, "P": 315, "Q": 500, "R": 800,
}

# Columns:    0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5
#             10 15 25 40 65 100 150 250 400 650 1000
#: Table II-A: single sampling plans for normal inspection.
TABLE_II_A: dict[str, str] = {
    "A": "v v v v v v v v v v v v v v 0/1 v v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 30/31",
    "B": "v v v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 30/31 44/45",
    "C": "v v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 30/31 44/45 ^",
    "D": "v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^",
    "E": "v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^",
    "F": "v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^",
    "G": "v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^",
    "H": "v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^",
    "J": "v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "K": "v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "L": "v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "M": "v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "N": "v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "P": "v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "Q": "0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "R": "^ ^ 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
}

#: Table II-B: single sampling plans for tightened inspection (letter S: 3150 units).
TABLE_II_B: dict[str, str] = {
    "A": "v v v v v v v v v v v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 27/28",
    "B": "v v v v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 27/28 41/42",
    "C": "v v v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 27/28 41/42 ^",
    "D": "v v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^",
    "E": "v v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^",
    "F": "v v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^",
    "G": "v v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^",
    "H": "v v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^",
    "J": "v v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "K": "v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "L": "v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "M": "v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "N": "v v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "P": "v v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "Q": "v 0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "R": "0/1 ^ v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "S": ". . 1/2 . . . . . . . . . . . . . . . . . . . . . . .",
}

#: Table II-C: single sampling plans for reduced inspection. Between Ac and Re the lot is
#: accepted but normal inspection is reinstated.
TABLE_II_C: dict[str, str] = {
    "A": "v v v v v v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17",
    "B": "v v v v v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24",
    "C": "v v v v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^",
    "D": "v v v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^",
    "E": "v v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^",
    "F": "v v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^",
    "G": "v v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^",
    "H": "v v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^",
    "J": "v v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^",
    "K": "v v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^",
    "L": "v v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "M": "v v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "N": "v v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "P": "v v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "Q": "v v 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "R": "0/1 0/1 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13 14/17 21/24 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
}

_TABLES: dict[Severity, dict[str, str]] = {
    Severity.NORMAL: TABLE_II_A,
    Severity.TIGHTENED: TABLE_II_B,
    Severity.REDUCED: TABLE_II_C,
}
_ORDER = "ABCDEFGHJKLMNPQRS"

Cell = tuple[int, int] | str  # (Ac, Re), "v", "^" or "." (no entry)


def cell(severity: Severity | str, letter: str, aql: float) -> Cell:
    """The raw table entry for ``letter`` and ``aql``: ``(Ac, Re)``, ``"v"``, ``"^"`` or ``"."``."""
    table = _TABLES[Severity(severity)]
    row = table.get(letter)
    if row is None:
        raise UsageError(N_("no code letter {letter!r} in the {severity} table", letter=letter, severity=state_word(Severity(severity))))
    token = row.split()[aql_index(aql)]
    if "/" in token:
        ac, re_ = token.split("/")
        return int(ac), int(re_)
    return token


def aql_index(aql: float) -> int:
    """The column of ``aql`` in Tables II-A/B/C.

    Raises:
        UsageError: not one of the standard's preferred AQLs.
    """
    for i, value in enumerate(AQLS):
        if abs(value - aql) <= 1e-9 * max(1.0, value):
            return i
    raise UsageError(N_("AQL {aql:g} is not one of ISO 2859-1's: {known}", aql=aql, known=', '.join(f'{a:g}' for a in AQLS)))


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table I: the sample size code letter for a lot of ``lot_size`` units at ``level``.

    Raises:
        UsageError: a lot smaller than 2 units or an unknown level.
    """
    level = normalise_level(level)
    if lot_size < 2:
        raise UsageError(N_("a lot has at least 2 units, not {lot_size}", lot_size=lot_size))
    col = LEVELS.index(level)
    for upper, letters in TABLE_I:
        if upper is None or lot_size <= upper:
            return letters[col]
    raise AssertionError("unreachable: the last range of Table I is open")  # i18n: an internal invariant


def normalise_level(level: str) -> str:
    """``"2"``, ``"ii"``, ``"s3"`` -> ``"II"``, ``"S-3"``; raises UsageError for anything else."""
    text = level.strip().upper().replace(" ", "")
    text = {"1": "I", "2": "II", "3": "III"}.get(text, text)
    if text.startswith("S") and not text.startswith("S-"):
        text = "S-" + text[1:]
    if text not in LEVELS:
        raise UsageError(N_("inspection level {level!r}: expected one of {known}", level=level, known=', '.join(LEVELS)))
    return text


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan for one lot.

    ``letter`` and ``sample_size`` are those of the plan actually used (after the arrows);
    ``table_letter`` is the letter Table I gave. With ``hundred_percent`` every unit of the
    lot is inspected (``sample_size == lot_size``).
    """

    lot_size: int
    aql: float
    level: str
    severity: Severity
    table_letter: str
    letter: str
    sample_size: int
    ac: int
    re: int
    hundred_percent: bool = False

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return {
            "lot_size": self.lot_size,
            "aql": self.aql,
            "level": self.level,
            "severity": self.severity.value,
            "table_letter": self.table_letter,
            "code_letter": self.letter,
            "sample_size": self.sample_size,
            "ac": self.ac,
            "re": self.re,
            "hundred_percent": self.hundred_percent,
        }


def resolve(severity: Severity | str, letter: str, aql: float) -> tuple[str, int, int, int]:
    """Follow the arrows from ``letter`` in the AQL's column to the plan they point at.

    Returns:
        ``(letter, sample_size, Ac, Re)`` of the plan used.
    """
    severity = Severity(severity)
    table = _TABLES[severity]
    sizes = REDUCED_SAMPLE_SIZES if severity is Severity.REDUCED else SAMPLE_SIZES
    letters = [x for x in _ORDER if x in table]
    i = letters.index(letter)
    first = cell(severity, letter, aql)
    direction = 0
    while True:
        entry = cell(severity, letters[i], aql)
        if isinstance(entry, tuple):
            return letters[i], sizes[letters[i]], entry[0], entry[1]
        if entry in ("v", "^"):
            step = 1 if entry == "v" else -1
            if direction and step != direction:
                raise AssertionError(f"arrows disagree in column {aql:g} at letter {letters[i]}")  # i18n: an internal invariant
            direction = step
        elif not direction:
            raise UsageError(N_("no {severity} plan for code letter {letter} at AQL {aql:g} ({first!r})", severity=state_word(severity), letter=letter, aql=aql, first=first))
        i += direction
        if not 0 <= i < len(letters):
            raise AssertionError(f"the arrow at {letter}/{aql:g} leads out of the {severity} table")  # i18n: an internal invariant


def plan(lot_size: int, aql: float, level: str = "II", severity: Severity | str = Severity.NORMAL) -> SamplingPlan:
    """The single sampling plan for a lot (Table I, then Table II-A/B/C with its arrows).

    Raises:
        UsageError: bad lot size, AQL or level.
    """
    severity = Severity(severity)
    level = normalise_level(level)
    table_letter = code_letter(lot_size, level)
    aql = AQLS[aql_index(aql)]
    letter, n, ac, re_ = resolve(severity, table_letter, aql)
    hundred = n >= lot_size
    return SamplingPlan(lot_size, aql, level, severity, table_letter, letter, min(n, lot_size), ac, re_, hundred)


# ---------------------------------------------------------------------------- decisions
class Decision(StrEnum):
    """The decision on a lot."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"

    @property
    def text(self) -> Text:
        """The decision as a person reads it (``ACCEPT`` in English; the value stays the code)."""
        return _DECISION_WORDS[self.value]


_DECISION_WORDS = {"ACCEPT": N_("ACCEPT"), "REJECT": N_("REJECT")}
#: Inspection severities and states as a person reads them (the values stay codes).
_STATE_WORDS = {"normal": N_("normal"), "tightened": N_("tightened"), "reduced": N_("reduced"),
                "discontinued": N_("discontinued")}


def state_word(state: str) -> Text:
    """A severity or switching state (``normal``, ``tightened`` ...) as a person reads it."""
    return _STATE_WORDS.get(str(state)) or Text("{state}", state=str(state))


def decide(p: SamplingPlan, tested: int, defectives: int) -> Decision | None:
    """The lot's decision so far: REJECT as soon as ``defectives >= Re``; ACCEPT once the
    whole sample is tested with fewer than Re defectives (under reduced inspection a
    result between Ac and Re accepts the lot; the switching rules then reinstate normal
    inspection); ``None`` while undecided.
    """
    if defectives >= p.re:
        return Decision.REJECT
    if tested >= p.sample_size:
        return Decision.ACCEPT
    return None


# ---------------------------------------------------------------------------- switching rules
class InspectionState(StrEnum):
    """Where a supplier's part stands in the switching scheme."""

    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"
    DISCONTINUED = "discontinued"


#: ISO 2859-1:1999 9.3.3: reduced inspection may start when the switching score reaches this.
SWITCHING_SCORE_LIMIT = 30
#: 9.3.2: normal -> tightened when this many of at most :data:`WINDOW` consecutive lots are not accepted.
TIGHTEN_REJECTS, WINDOW = 2, 5
#: 9.3.2: tightened -> normal after this many consecutive lots accepted.
RELAX_ACCEPTS = 5
#: 9.4: discontinue when this many lots in one tightened period are not accepted.
DISCONTINUE_REJECTS = 5


@dataclass(frozen=True)
class LotResult:
    """One decided lot, as the switching rules see it."""

    severity: Severity
    accepted: bool
    defectives: int
    ac: int
    letter: str
    aql: float
    #: reduced inspection only: accepted with Ac < defectives < Re (normal is reinstated)
    in_gap: bool = False


@dataclass
class SwitchingState:
    """The result of the switching rules over a supplier's lot history."""

    state: InspectionState = InspectionState.NORMAL
    score: int = 0
    #: Results (True = accepted) of the lots since normal inspection started, newest last.
    normal_window: list[bool] = field(default_factory=list)
    tightened_accepts: int = 0
    tightened_rejects: int = 0
    history: list[Text] = field(default_factory=list)

    @property
    def reduced_eligible(self) -> bool:
        """Normal inspection with a switching score at the limit: reduced inspection may be
        used if production is steady and the responsible authority approves."""
        return self.state is InspectionState.NORMAL and self.score >= SWITCHING_SCORE_LIMIT

    def severity(self) -> Severity | None:
        """The severity the next lot is inspected at (``None``: inspection discontinued)."""
        if self.state is InspectionState.DISCONTINUED:
            return None
        return Severity(self.state.value)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return {
            "state": self.state.value,
            "switching_score": self.score,
            "reduced_eligible": self.reduced_eligible,
            "tightened_consecutive_accepts": self.tightened_accepts,
            "tightened_rejects": self.tightened_rejects,
            "history": list(self.history),
        }


def switching_score_delta(r: LotResult) -> int | None:
    """ISO 2859-1:1999 9.3.3.2 for one lot under normal inspection: +3 when Ac >= 2 and the
    lot would have been accepted at the AQL one step tighter, +2 when Ac <= 1 and the lot
    was accepted; ``None`` means the score is reset to 0.
    """
    if not r.accepted:
        return None
    if r.ac <= 1:
        return 2
    i = aql_index(r.aql)
    tighter = cell(Severity.NORMAL, r.letter, AQLS[i - 1]) if i > 0 else None
    if isinstance(tighter, tuple) and r.defectives <= tighter[0]:
        return 3
    return None


def switching_state(results: Iterable[LotResult], *, resume: bool = False) -> SwitchingState:
    """Replay a supplier's decided lots (oldest first) through the switching rules.

    * normal -> tightened: 2 lots not accepted among 5 or fewer consecutive lots;
    * tightened -> normal: 5 consecutive lots accepted;
    * normal -> reduced: switching score >= 30 (ISO 2859-1:1999), production steady and the
      responsible authority approves: the state stays normal with ``reduced_eligible`` and a
      lot is inspected reduced only when the inspector asks for it; a lot recorded as
      inspected reduced is taken as that approval;
    * reduced -> normal: a lot not accepted, or accepted between Ac and Re;
    * tightened -> discontinued: 5 lots not accepted in one tightened period (``resume``
      restarts at tightened, after the supplier's corrective action).
    """
    s = SwitchingState()
    for n, r in enumerate(results, 1):
        if s.state is InspectionState.DISCONTINUED:
            if r.severity is not Severity.TIGHTENED:
                s.history.append(N_("lot {n}: inspected {severity} while discontinued; ignored", n=n,
                                    severity=state_word(r.severity)))
                continue
            s.state, s.tightened_accepts, s.tightened_rejects = InspectionState.TIGHTENED, 0, 0
            s.history.append(N_("lot {n}: inspection resumed at tightened", n=n))
        if s.state is InspectionState.NORMAL and r.severity is Severity.REDUCED and s.reduced_eligible:
            s.state = InspectionState.REDUCED
            s.history.append(N_("lot {n}: reduced inspection approved (switching score {score})", n=n, score=s.score))
        if s.state is InspectionState.NORMAL:
            s.normal_window = [*s.normal_window, r.accepted][-WINDOW:]
            if s.normal_window.count(False) >= TIGHTEN_REJECTS:
                s.state, s.tightened_accepts, s.tightened_rejects = InspectionState.TIGHTENED, 0, 0
                s.score = 0
                s.history.append(N_("lot {n}: 2 of the last {count} lots not accepted: tightened", n=n,
                                    count=len(s.normal_window)))
                continue
            delta = switching_score_delta(r)
            s.score = 0 if delta is None else s.score + delta
        elif s.state is InspectionState.TIGHTENED:
            if r.accepted:
                s.tightened_accepts += 1
                if s.tightened_accepts >= RELAX_ACCEPTS:
                    s.state, s.score, s.normal_window = InspectionState.NORMAL, 0, []
                    s.history.append(N_("lot {n}: 5 consecutive lots accepted on tightened: normal", n=n))
            else:
                s.tightened_accepts = 0
                s.tightened_rejects += 1
                if s.tightened_rejects >= DISCONTINUE_REJECTS:
                    s.state = InspectionState.DISCONTINUED
                    s.history.append(N_("lot {n}: 5 lots not accepted on tightened: inspection discontinued", n=n))
        elif s.state is InspectionState.REDUCED and (not r.accepted or r.in_gap):
            s.state, s.score, s.normal_window = InspectionState.NORMAL, 0, []
            if r.accepted:
                s.history.append(N_("lot {n}: accepted between Ac and Re on reduced: normal", n=n))
            else:
                s.history.append(N_("lot {n}: not accepted on reduced: normal", n=n))
    if resume and s.state is InspectionState.DISCONTINUED:
        s.state, s.tightened_accepts, s.tightened_rejects = InspectionState.TIGHTENED, 0, 0
        s.history.append(N_("inspection resumed at tightened"))
    return s


def severity_for(results: Sequence[LotResult], *, approve_reduced: bool = False, resume: bool = False) -> Severity:
    """The severity of the next lot from the history; raises UsageError when discontinued."""
    s = switching_state(results, resume=resume)
    sev = s.severity()
    if sev is None:
        raise UsageError(N_("inspection of this supplier's part is discontinued (5 lots not accepted on tightened inspection); after corrective action, start again with --resume"))
    if sev is Severity.NORMAL and approve_reduced and s.reduced_eligible:
        return Severity.REDUCED
    return sev


__all__ = [
    "AQLS", "LEVELS", "SAMPLE_SIZES", "TABLE_I", "TABLE_II_A", "TABLE_II_B", "TABLE_II_C",
    "Decision", "InspectionState", "LotResult", "SamplingPlan", "Severity", "SwitchingState",
    "aql_index", "cell", "code_letter", "decide", "normalise_level", "plan", "resolve",
    "severity_for", "switching_score_delta", "switching_state",
]
