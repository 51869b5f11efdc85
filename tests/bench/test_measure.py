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


@pytest.mark.parametrize(
    ("name", "value", "limit", "message"),
    [
        # yes/no and exact values: what the fault means, not the protocol's field and Python's True
        ("cover_open", True, Limit(equals=False, fault="PRN-COVER"), "printer cover open"),
        ("tampered", True, Limit(equals=False, fault="NO-SUCH-CODE"), "tampered: yes, expected no"),
        ("post.ram", "fail 0x0102", Limit(equals="pass", fault="UNIT-POST-RAM"),
         "power-on self-test: RAM failed (post ram: fail 0x0102)"),
        ("atr.protocol", "T=15", Limit(one_of=("T=0", "T=1")), "atr protocol: T=15, not one of ['T=0', 'T=1']"),
    ],
)
def test_a_failed_measurement_says_what_it_means(name: str, value: object, limit: Limit, message: str) -> None:
    m = judge(name, value, unit=None, limit=limit, default_fault=None)
    assert not m.passed and m.message == message
    assert "True" not in m.message and "False" not in m.message


def test_a_check_gives_the_meaning_itself() -> None:
    m = judge("firmware_current", False, unit=None, limit=Limit(equals=True, fault="FW-OUTDATED"), default_fault=None,
              says="firmware 1.9.0 is older than the minimum 2.0.0")
    assert m.message == "firmware 1.9.0 is older than the minimum 2.0.0"
    assert m.value is False and m.limit is not None and m.limit.to_dict() == {"equals": True, "fault": "FW-OUTDATED"}


def test_a_yes_no_limit_reads_yes_or_no() -> None:
    assert Limit(equals=True).describe() == "yes" and Limit(equals=False).describe() == "no"
    assert Limit(equals="pass").describe() == "= 'pass'"
