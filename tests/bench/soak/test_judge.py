"""A soak against its profile's limits: one measurement per limit, with its fault code when broken."""

from __future__ import annotations

import pytest

from bench.measure import Measurement
from bench.soak.profile import parse_profile_text
from bench.soak.stats import SoakTally

HEAD = """\
soak: 1
name: t
duration: 60m
rate: [{at: 0m, per_minute: 10}]
cards: {emv-visa-contact: 1}
amounts: {min: 100, max: 200, currency: "978"}
"""
LIMITS = """\
limits:
  approval_rate: {min: 0.9}
  failures: {max: 1}
  total_ms: {p95: 3000}
  online_ms: {p50: 500, p99: 1500}
  drift:
    online_ms_p95: {max_increase: 0.5}
    total_ms_p99: {max: 4000}
    head_temp_c: {max: 75}
    battery_percent: {max_drop: 20, min: 30}
"""


def judged(tally: SoakTally, limits: str = LIMITS) -> dict[str, Measurement]:
    return {m.name: m for m in tally.judge(parse_profile_text(HEAD + limits).limits)}


def steady(*, online_late: int = 400, temp_late: float = 50.0, battery_late: float = 90.0, declines: int = 0,
           failures: int = 0) -> SoakTally:
    """An hour: a sale every 10 s, readings every 30 s; the last 10 minutes as given."""
    tally = SoakTally()
    for second in range(0, 3600, 10):
        late = second >= 3000
        tally.add(second, "approved", "", {"online": online_late if late else 400, "total": 2000})
        if second % 30 == 0:
            tally.sample(second, head_temp_c=temp_late if late else 45.0, battery_percent=battery_late if late else 98.0)
    for i in range(declines):
        tally.add(100 + i, "declined", response_code="05")
    for i in range(failures):
        tally.add(200 + i, "failed", "network")
    return tally


def test_a_good_soak_passes_every_limit_and_says_what_it_measured() -> None:
    got = judged(steady())
    assert list(got) == ["approval_rate", "failures", "online_ms.p50", "online_ms.p99", "total_ms.p95",
                         "drift.online_ms_p95.increase", "drift.total_ms_p99.last", "drift.head_temp_c.last_max",
                         "drift.battery_percent.last_min", "drift.battery_percent.drop"]
    assert all(m.passed and m.fault is None for m in got.values())
    assert got["approval_rate"].value == 1.0 and got["approval_rate"].limit.describe() == "≥ 0.9"
    assert got["total_ms.p95"].value == 2000 and got["total_ms.p95"].unit == "ms"
    assert got["total_ms.p95"].limit.describe() == "≤ 3000 ms"
    assert got["drift.online_ms_p95.increase"].value == 0.0
    assert got["drift.battery_percent.drop"].value == 8.0 and got["drift.battery_percent.drop"].unit == "%"
    assert got["drift.head_temp_c.last_max"].value == 50.0 and got["drift.head_temp_c.last_max"].unit == "°C"


def test_each_broken_limit_carries_its_fault_code() -> None:
    got = judged(steady(online_late=1600, temp_late=80, battery_late=25, declines=60, failures=2))
    bad = {name: m.fault for name, m in got.items() if not m.passed}
    assert bad == {
        "approval_rate": "TXN-DECLINED",
        "failures": "TXN-FAILURES",
        "online_ms.p99": "TXN-SLOW",
        "drift.online_ms_p95.increase": "SOAK-DRIFT",
        "drift.head_temp_c.last_max": "SOAK-DRIFT",
        "drift.battery_percent.drop": "SOAK-DRIFT",
        "drift.battery_percent.last_min": "SOAK-DRIFT",
    }
    assert got["approval_rate"].value == round(360 / 420, 6)
    assert got["failures"].message == "failures = 2: above max 1"
    assert got["drift.online_ms_p95.increase"].value == 3.0
    assert got["drift.head_temp_c.last_max"].message == "drift.head_temp_c.last_max = 80 °C: above max 75"


def test_a_limit_that_cannot_be_measured_fails_and_says_why() -> None:
    tally = SoakTally()
    tally.add(5, "failed", "card-read")
    got = judged(tally)
    assert [n for n, m in got.items() if m.passed] == ["failures"]  # 1 failure is within max 1
    assert got["approval_rate"].message == "approval rate not measured: the host answered no sale"
    assert got["total_ms.p95"].message == "total_ms p95 not measured: no completed sale went through it"
    assert got["drift.head_temp_c.last_max"].message == "head_temp_c drift not measured: nothing in the last 1 minutes"
    assert got["drift.online_ms_p95.increase"].fault == "SOAK-DRIFT"


def test_an_increase_from_zero_is_not_a_number_and_fails() -> None:
    tally = SoakTally()
    for second in range(0, 1200, 30):
        tally.sample(second, head_temp_c=0.0 if second < 600 else 5.0)
    got = judged(tally, "limits:\n  drift:\n    head_temp_c: {max_increase: 0.5}\n")
    m = got["drift.head_temp_c.increase"]
    assert not m.passed and m.message == "head_temp_c drift not measured: it was 0 in the first 10 minutes"


def test_no_limits_no_measurements() -> None:
    assert steady().judge(parse_profile_text(HEAD).limits) == []


def test_a_floor_keeps_jitter_on_a_few_ms_from_reading_as_drift() -> None:
    # A simulated unit answers online in 2 ms, then 3.2 ms under load: +60 % of 2 ms, +2.4 % of a 50 ms floor.
    jittery = SoakTally()
    for second in range(0, 3600, 10):
        jittery.add(second, "approved", "", {"online": 3.2 if second >= 3000 else 2.0, "total": 20})
    without = judged(jittery, "limits:\n  drift:\n    online_ms_p95: {max_increase: 0.5}\n")
    with_floor = judged(jittery, "limits:\n  drift:\n    online_ms_p95: {max_increase: 0.5, floor: 50}\n")
    assert not without["drift.online_ms_p95.increase"].passed
    assert with_floor["drift.online_ms_p95.increase"].passed
    assert with_floor["drift.online_ms_p95.increase"].value == pytest.approx(1.2 / 50)
    # Above the floor it is relative to the first window, as without one: 400 -> 700 ms is +75 %.
    slow = judged(steady(online_late=700), "limits:\n  drift:\n    online_ms_p95: {max_increase: 0.5, floor: 50}\n")
    assert slow["drift.online_ms_p95.increase"].value == pytest.approx(0.75)
    assert not slow["drift.online_ms_p95.increase"].passed
