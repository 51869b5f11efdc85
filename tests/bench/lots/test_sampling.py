"""ISO 2859-1 / MIL-STD-105E single sampling: Table I, Tables II-A/B/C cell by cell, arrows,
100 % inspection, decisions and the switching rules.

The expected tables are written here independently of bench/lots/sampling.py's data: Table I as
one column string per inspection level (the module stores one row string per lot size range),
and Tables II-A/B/C from the standard's diagonal structure (every diagonal running from
upper right to lower left carries one plan; the sample sizes follow the code letters),
written out as the sequence of plans along the diagonals, plus literal cells transcribed
from the printed tables.
"""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.lots import sampling as s

LETTERS = "ABCDEFGHJKLMNPQR"
AQL_TEXT = ["0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10", "15", "25", "40", "65", "100", "150", "250", "400", "650", "1000"]
AQLS = [float(a) for a in AQL_TEXT]

# ---------------------------------------------------------------------------- Table I
LOT_RANGES = [(2, 8), (9, 15), (16, 25), (26, 50), (51, 90), (91, 150), (151, 280), (281, 500), (501, 1200),
              (1201, 3200), (3201, 10000), (10001, 35000), (35001, 150000), (150001, 500000), (500001, 10**9)]
# Read down each column of Table I (lot size ranges top to bottom).
TABLE_I_COLUMNS = {
    "S-1": "AAAABBBBCCCCDDD",
    "S-2": "AAABBBCCCDDDEEE",
    "S-3": "AABBCCDDEEFFGGH",
    "S-4": "AABCCDEEFGGHJJK",
    "I": "AABCCDEFGHJKLMN",
    "II": "ABCDEFGHJKLMNPQ",
    "III": "BCDEFGHJKLMNPQR",
}


@pytest.mark.parametrize("level", list(TABLE_I_COLUMNS))
def test_table_i_every_cell_and_both_ends_of_each_range(level: str) -> None:
    for (lo, hi), letter in zip(LOT_RANGES, TABLE_I_COLUMNS[level], strict=True):
        assert s.code_letter(lo, level) == letter, (level, lo)
        assert s.code_letter(hi, level) == letter, (level, hi)


def test_table_i_level_ii_as_the_issue_lists_it() -> None:
    expected = {8: "A", 9: "B", 15: "B", 16: "C", 26: "D", 51: "E", 91: "F", 151: "G", 281: "H", 500: "H",
                501: "J", 1201: "K", 3201: "L", 10001: "M", 35001: "N", 150001: "P", 500001: "Q"}
    for lot, letter in expected.items():
        assert s.code_letter(lot) == letter


def test_sample_sizes() -> None:
    normal = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]
    reduced = [2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800]
    assert [s.SAMPLE_SIZES[x] for x in LETTERS] == normal
    assert s.SAMPLE_SIZES["S"] == 3150
    assert [s.REDUCED_SAMPLE_SIZES[x] for x in LETTERS] == reduced


def test_bad_inputs_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        s.code_letter(1)
    with pytest.raises(UsageError):
        s.code_letter(100, "IV")
    with pytest.raises(UsageError):
        s.plan(500, 0.7)
    assert s.normalise_level("s3") == "S-3" and s.normalise_level("2") == "II"


# ---------------------------------------------------------------------------- Tables II-A/B/C
# The plans along the diagonals (code letter index i + AQL column index j = k), from the
# printed tables: normal, k = 14 is the "0 1" diagonal (A at 6.5 ... Q at 0.010).
NORMAL_DIAGONALS = {14: (0, 1), 17: (1, 2), 18: (2, 3), 19: (3, 4), 20: (5, 6), 21: (7, 8), 22: (10, 11),
                    23: (14, 15), 24: (21, 22)}
NORMAL_TOP_RIGHT = {25: (30, 31), 26: (44, 45)}  # only letters A, B, C (AQL 400..1000)
TIGHT_DIAGONALS = {15: (0, 1), 18: (1, 2), 19: (2, 3), 20: (3, 4), 21: (5, 6), 22: (8, 9), 23: (12, 13),
                   24: (18, 19)}
TIGHT_TOP_RIGHT = {25: (27, 28), 26: (41, 42)}
# Reduced: the letter's plan sits on the diagonal of the normal letter two steps up (same
# sample size), k = (i - 2) + j.
REDUCED_DIAGONALS = dict(zip(range(14, 25), [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (3, 6), (5, 8), (7, 10),
                                             (10, 13), (14, 17), (21, 24)], strict=True))


def expected_normal(i: int, j: int) -> object:
    k = i + j
    if k <= 13:
        return "v"
    if k == 15:  # arrow up to the 0 1 plan, except in row A which has nothing above
        return "v" if i == 0 else "^"
    if k == 16:  # arrow down to the 1 2 plan, except in row R which has nothing below
        return "^" if i == 15 else "v"
    if k in NORMAL_DIAGONALS:
        return NORMAL_DIAGONALS[k]
    if k in NORMAL_TOP_RIGHT and i <= 2:
        return NORMAL_TOP_RIGHT[k]
    return "^"


def expected_tightened(i: int, j: int) -> object:
    k = i + j
    if k <= 14 or k == 17:
        return "v"
    if k == 16:
        return "v" if i == 0 else "^"
    if k in TIGHT_DIAGONALS:
        return TIGHT_DIAGONALS[k]
    if k in TIGHT_TOP_RIGHT and i <= 2:
        return TIGHT_TOP_RIGHT[k]
    return "^"


def expected_reduced(i: int, j: int) -> object:
    k = i - 2 + j
    if i == 15 and j == 0:
        return (0, 1)  # row R, AQL 0.010: nothing below, the table gives the 0 1 plan
    if k <= 13:
        return "v"
    return REDUCED_DIAGONALS.get(k, "^")


@pytest.mark.parametrize(("severity", "expected"), [
    (s.Severity.NORMAL, expected_normal),
    (s.Severity.TIGHTENED, expected_tightened),
    (s.Severity.REDUCED, expected_reduced),
])
def test_every_cell_of_tables_ii(severity: s.Severity, expected: object) -> None:
    bad = []
    for i, letter in enumerate(LETTERS):
        for j, aql in enumerate(AQLS):
            want = expected(i, j)  # type: ignore[operator]
            got = s.cell(severity, letter, aql)
            if got != want:
                bad.append(f"{letter}/{AQL_TEXT[j]}: {got} != {want}")
    assert not bad, bad


# Rows transcribed as printed (normal inspection), "v"/"^" for the arrows.
NORMAL_ROWS = {
    "A": "v v v v v v v v v v v v v v 0,1 v v 1,2 2,3 3,4 5,6 7,8 10,11 14,15 21,22 30,31",
    "C": "v v v v v v v v v v v v 0,1 ^ v 1,2 2,3 3,4 5,6 7,8 10,11 14,15 21,22 30,31 44,45 ^",
    "H": "v v v v v v v 0,1 ^ v 1,2 2,3 3,4 5,6 7,8 10,11 14,15 21,22 ^ ^ ^ ^ ^ ^ ^ ^",
    "K": "v v v v v 0,1 ^ v 1,2 2,3 3,4 5,6 7,8 10,11 14,15 21,22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    "R": "^ ^ 1,2 2,3 3,4 5,6 7,8 10,11 14,15 21,22 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
}


@pytest.mark.parametrize("letter", list(NORMAL_ROWS))
def test_normal_rows_as_printed(letter: str) -> None:
    tokens = NORMAL_ROWS[letter].split()
    for aql, token in zip(AQLS, tokens, strict=True):
        want = tuple(int(x) for x in token.split(",")) if "," in token else token
        assert s.cell("normal", letter, aql) == want, (letter, aql)


def test_tightened_letter_s_only_serves_the_arrow_of_r_at_0_025() -> None:
    assert s.cell("tightened", "S", 0.025) == (1, 2)
    assert s.cell("tightened", "R", 0.025) == "v"
    p = s.plan(10**6, 0.025, "III", "tightened")  # letter R
    assert (p.letter, p.sample_size, p.ac, p.re) == ("S", 3150, 1, 2)


@pytest.mark.parametrize(("lot", "aql", "severity", "letter", "n", "ac", "re"), [
    (500, 1.0, "normal", "H", 50, 1, 2),          # the classic
    (500, 0.65, "normal", "J", 80, 1, 2),         # H at 0.65 is an arrow down: J, n 80, Ac 1
    (500, 0.25, "normal", "H", 50, 0, 1),
    (500, 0.40, "normal", "G", 32, 0, 1),         # arrow up to the 0 1 plan
    (500, 2.5, "normal", "H", 50, 3, 4),
    (3000, 2.5, "normal", "K", 125, 7, 8),
    (3000, 2.5, "tightened", "K", 125, 5, 6),
    (3000, 2.5, "reduced", "K", 50, 3, 6),
    (3000, 1.0, "reduced", "K", 50, 1, 4),
    (3000, 0.65, "reduced", "K", 50, 1, 3),
    (3000, 0.40, "reduced", "K", 50, 0, 2),       # reduced: Ac 0, Re 2
    (3000, 0.25, "reduced", "K", 50, 0, 1),
    (200, 1.0, "tightened", "F", 20, 0, 1),       # G at 1.0 tightened: arrow up to F
    (200, 1.5, "tightened", "H", 50, 1, 2),       # G at 1.5 tightened: arrow down to H
    (1200, 10, "normal", "J", 80, 14, 15),
    (1200, 15, "normal", "J", 80, 21, 22),
    (1200, 25, "normal", "H", 50, 21, 22),        # upper right: arrow up
    (10, 1000, "normal", "B", 3, 44, 45),
    (20000, 0.010, "normal", "Q", 1250, 0, 1),    # M at 0.010: arrow down to Q
    (20000, 4.0, "normal", "M", 315, 21, 22),
])
def test_known_plans(lot: int, aql: float, severity: str, letter: str, n: int, ac: int, re: int) -> None:
    p = s.plan(lot, aql, "II", severity)
    assert (p.letter, p.sample_size, p.ac, p.re) == (letter, n, ac, re)
    assert not p.hundred_percent


def test_arrow_from_letter_a_changes_letter_and_sample_size() -> None:
    p = s.plan(2000, 1.0, "S-1")  # Table I: S-1, 1201..3200 -> C; C at 1.0 points down to E
    assert (p.table_letter, p.letter, p.sample_size, p.ac, p.re) == ("C", "E", 13, 0, 1)
    assert s.resolve("normal", "A", 1.0) == ("E", 13, 0, 1)
    assert s.resolve("normal", "A", 10) == ("C", 5, 1, 2)  # row A, AQL 10: nothing above: down


def test_hundred_percent_inspection_of_small_lots() -> None:
    p = s.plan(8, 1.0)  # A -> E (13 units) > 8
    assert p.hundred_percent and p.sample_size == 8 and (p.ac, p.re) == (0, 1)
    p = s.plan(13, 1.0, "I")  # A -> E: exactly 13
    assert p.hundred_percent and p.sample_size == 13
    assert not s.plan(14, 1.0, "III").hundred_percent  # C... at 1.0 -> E, 13 < 14


def test_decisions_early_accept_and_reject() -> None:
    p = s.plan(500, 1.0)  # n 50, Ac 1, Re 2
    assert s.decide(p, 10, 0) is None
    assert s.decide(p, 10, 2) is s.Decision.REJECT  # as soon as Re is reached
    assert s.decide(p, 49, 1) is None
    assert s.decide(p, 50, 1) is s.Decision.ACCEPT
    r = s.plan(3000, 2.5, severity="reduced")  # n 50, Ac 3, Re 6
    assert s.decide(r, 50, 5) is s.Decision.ACCEPT  # between Ac and Re: accepted (normal reinstated)
    assert s.decide(r, 20, 6) is s.Decision.REJECT


# ---------------------------------------------------------------------------- switching rules
def lot(accepted: bool, severity: str = "normal", d: int | None = None, ac: int = 1, letter: str = "H",
        aql: float = 1.0, gap: bool = False) -> s.LotResult:
    return s.LotResult(s.Severity(severity), accepted, (0 if accepted else ac + 1) if d is None else d, ac, letter,
                       aql, gap)


def test_normal_to_tightened_on_2_of_5() -> None:
    st = s.switching_state([lot(False), lot(True), lot(True), lot(True), lot(True)])
    assert st.state is s.InspectionState.NORMAL
    st = s.switching_state([lot(False), lot(True), lot(True), lot(True), lot(False)])
    assert st.state is s.InspectionState.TIGHTENED
    st = s.switching_state([lot(False), lot(True), lot(True), lot(True), lot(True), lot(False)])
    assert st.state is s.InspectionState.NORMAL  # the two rejects are 6 lots apart


def test_tightened_to_normal_after_5_accepted_and_discontinued_after_5_rejected() -> None:
    start = [lot(False), lot(False)]
    t = [lot(True, "tightened")] * 4
    assert s.switching_state(start + t).state is s.InspectionState.TIGHTENED
    assert s.switching_state([*start, *t, lot(True, "tightened")]).state is s.InspectionState.NORMAL
    broken = [*t[:3], lot(False, "tightened"), *t]  # a reject restarts the count of 5
    assert s.switching_state(start + broken).state is s.InspectionState.TIGHTENED
    rejects = [lot(False, "tightened"), lot(True, "tightened")] * 4 + [lot(False, "tightened")]
    st = s.switching_state(start + rejects)
    assert st.state is s.InspectionState.DISCONTINUED
    with pytest.raises(UsageError, match="discontinued"):
        s.severity_for(start + rejects)
    assert s.severity_for(start + rejects, resume=True) is s.Severity.TIGHTENED


def test_switching_score_and_reduced() -> None:
    # Ac 1 (H at 1.0): +2 per accepted lot; 15 lots reach 30.
    ok = [lot(True)] * 14
    assert s.switching_state(ok).score == 28 and not s.switching_state(ok).reduced_eligible
    st = s.switching_state([*ok, lot(True)])
    assert st.score == 30 and st.reduced_eligible and st.state is s.InspectionState.NORMAL
    assert s.severity_for([*ok, lot(True)]) is s.Severity.NORMAL  # needs the authority's approval
    assert s.severity_for([*ok, lot(True)], approve_reduced=True) is s.Severity.REDUCED
    # Ac >= 2 (K at 2.5: Ac 7; one step tighter, 1.5: Ac 5): +3 if d <= 5, else reset.
    k = [lot(True, d=2, ac=7, letter="K", aql=2.5)] * 9
    assert s.switching_state(k).score == 27
    assert s.switching_state([*k, lot(True, d=6, ac=7, letter="K", aql=2.5)]).score == 0
    assert s.switching_state([*k, lot(True, d=5, ac=7, letter="K", aql=2.5)]).reduced_eligible
    # A rejected lot resets the score.
    assert s.switching_state([*ok, lot(False)]).score == 0


def test_reduced_back_to_normal() -> None:
    eligible = [lot(True)] * 15
    on_reduced = [*eligible, lot(True, "reduced", d=0, ac=0, letter="K", aql=0.4)]
    assert s.switching_state(on_reduced).state is s.InspectionState.REDUCED
    assert s.switching_state([*on_reduced, lot(False, "reduced", d=2, ac=0)]).state is s.InspectionState.NORMAL
    gap = lot(True, "reduced", d=1, ac=0, letter="K", aql=0.65, gap=True)
    st = s.switching_state([*on_reduced, gap])
    assert st.state is s.InspectionState.NORMAL and st.score == 0
    # A lot recorded as reduced without the score is not taken as a switch.
    assert s.switching_state([lot(True), lot(True, "reduced")]).state is s.InspectionState.NORMAL
