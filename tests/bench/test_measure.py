from __future__ import annotations

import math

import pytest

from bench.measure import Limit, judge


def test_min_max_inclusive() -> None:
    lim = Limit(min=3.6, max=4.2, unit="V")
    assert lim.violations(3.6) == []
    assert lim.violations(4.2) == []
    assert lim.violations(3.59) == ["below min 3.6"]
    assert lim.violations(4.3) == ["above max 4.2"]


@pytest.mark.parametrize("bad", ["3.9", None, True, math.nan])
def test_numeric_limit_rejects_non_numbers(bad: object) -> None:
    assert Limit(min=0).violations(bad) != []


def test_equals_one_of_regex() -> None:
    assert Limit(equals=True).violations(False) == ["expected True"]
    assert Limit(one_of=("T=0", "T=1")).violations("T=15") == ["not one of ['T=0', 'T=1']"]
    assert Limit(regex=r"2\.\d+\.\d+").violations("2.4.1") == []
    assert Limit(regex=r"2\.\d+\.\d+").violations("12.4.1") != []  # full match, not search


def test_judge_message_names_value_unit_and_limit() -> None:
    m = judge("charge_percent", 8, unit="%", limit=Limit(min=20, fault="PWR-BATT-LOW"), default_fault="X-Y")
    assert not m.passed
    assert m.fault == "PWR-BATT-LOW"
    assert m.message == "charge_percent = 8 %: below min 20"


def test_judge_without_limit_records_only() -> None:
    m = judge("model", "PT-300", unit=None, limit=None, default_fault="X-Y")
    assert m.passed and m.limit is None


def test_describe() -> None:
    assert Limit(min=3.6, max=4.2, unit="V").describe() == "3.6 ≤ x ≤ 4.2 V"
    assert Limit(max=0).describe() == "≤ 0"
