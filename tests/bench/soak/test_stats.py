"""The soak tally: counts, exact percentiles against a sorted-list reference, bounded memory, minutes, drift."""

from __future__ import annotations

import json
import random

import pytest

from bench.soak.reservoir import Reservoir, merged_percentiles, percentile
from bench.soak.stats import SoakTally
from drivers.txnproto import FLAG_PRINTED, FLAG_REVERSAL_ACKED, FLAG_REVERSAL_SENT, TxnResult


def reference(values: list[float], p: float) -> float:
    """Nearest rank by its definition: the smallest value with at least p % of the values at or below it."""
    n = len(values)
    return min(x for x in values if sum(y <= x for y in values) * 100 >= p * n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 100, 101, 999])
def test_percentile_is_the_nearest_rank_of_the_sorted_values(n: int) -> None:
    rng = random.Random(n)
    values = [float(rng.choice([rng.randint(1, 50), rng.random() * 1000])) for _ in range(n)]  # ties and not
    for p in (1, 7, 25, 50, 90, 95, 99, 99.9, 100):
        assert percentile(values, p) == reference(values, p), (n, p)


def test_percentile_of_nothing_is_none_and_p_is_checked() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 0)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_a_reservoir_keeps_everything_up_to_its_cap_then_a_bounded_sample() -> None:
    r = Reservoir(100, random.Random(1))
    stream = [float(i) for i in range(1, 1001)]
    for v in stream[:100]:
        r.add(v)
    assert r.exact and list(r.values) == stream[:100]
    for v in stream[100:]:
        r.add(v)
    assert not r.exact and r.count == 1000 and len(r.values) == 100
    assert set(r.values) <= set(stream) and (r.low, r.high) == (1.0, 1000.0)
    # A uniform sample: its median is near the stream's (binomial tolerance on the rank, 5 sd).
    med = percentile(list(r.values), 50)
    assert med is not None and abs(med - 500) <= 5 * 0.5 * 1000 / 100**0.5
    again = Reservoir(100, random.Random(1))
    for v in stream:
        again.add(v)
    assert list(again.values) == list(r.values)


def test_merged_percentiles_pool_the_kept_values() -> None:
    a, b = Reservoir(10, random.Random(0)), Reservoir(10, random.Random(0))
    for v in (5.0, 1.0, 3.0):
        a.add(v)
    for v in (4.0, 2.0):
        b.add(v)
    ps, exact = merged_percentiles([a, b], (50.0, 100.0))
    assert ps == {50.0: 3.0, 100.0: 5.0} and exact


def sale(rng: random.Random) -> dict[str, float]:
    return {"amount": rng.randint(300, 900), "card": rng.randint(100, 800), "online": rng.randint(50, 2000),
            "print": rng.randint(400, 900), "total": rng.randint(1000, 5000)}


def test_latency_percentiles_match_the_reference_over_completed_sales_only() -> None:
    rng = random.Random(5)
    tally = SoakTally()
    kept: dict[str, list[float]] = {s: [] for s in ("amount_ms", "card_ms", "online_ms", "print_ms", "total_ms",
                                                    "bench_ms")}
    for i in range(2000):
        outcome = rng.choice(["approved", "approved", "declined", "failed"])
        stages = sale(rng)
        if i % 10 == 0:
            stages["print"] = 0  # no receipt: not a print time
        bench = rng.random() * 4
        tally.add(i * 1.7, outcome, "network" if outcome == "failed" else "", stages, bench)
        if outcome != "failed":
            for k, v in stages.items():
                if v > 0:
                    kept[f"{k}_ms"].append(float(v))
            kept["bench_ms"].append(bench)
    for stage, values in kept.items():
        got = tally.latency(stage)
        assert got["count"] == got["kept"] == len(values) and got["exact"]
        assert (got["min"], got["max"]) == (min(values), max(values))
        for p in (50, 95, 99):
            assert got[f"p{p}"] == reference(values, p), (stage, p)


def test_memory_stays_bounded_and_percentiles_are_of_what_was_kept() -> None:
    tally = SoakTally(keep_overall=500, keep_per_minute=20)
    rng = random.Random(2)
    for i in range(20_000):
        tally.add(i * 0.05, "approved", "", sale(rng), 1.0)
    got = tally.latency("total_ms")
    assert got["count"] == 20_000 and got["kept"] == 500 and not got["exact"]
    assert all(len(m.latency["total_ms"].values) <= 20 for m in tally._minutes)
    assert 1000 <= got["p50"] <= 5000 and abs(got["p50"] - 3000) < 300  # a uniform sample of 1000..5000
    s = tally.summary()
    assert s["transactions"] == 20_000 and len(s["minutes"]) == 17


def test_counts_causes_codes_reversals_reboots_and_reconnects() -> None:
    tally = SoakTally()
    tally.add(1, "approved")
    tally.add(2, "declined", response_code="51")
    tally.add(3, "declined", response_code="05")
    tally.add(4, "declined", response_code="51")
    tally.add(5, "failed", "host-timeout", reversal_sent=True, reversal_acked=True)
    tally.add(6, "failed", "host-timeout", reversal_sent=True)
    tally.add(7, "failed", "paper-out")
    tally.add(8, "unknown")
    tally.reboot(9)
    tally.reconnect(9.5)
    tally.reconnect(70)
    s = tally.summary()
    assert (s["transactions"], s["approved"], s["declined"], s["failed"]) == (8, 1, 3, 4)
    assert s["approval_rate"] == 0.25
    assert s["failures_by_cause"] == {"host-timeout": 2, "paper-out": 1, "unknown": 1}
    assert s["declines_by_code"] == {"51": 2, "05": 1}
    assert s["reversals"] == {"sent": 2, "acked": 1}
    assert (s["reboots"], s["reconnects"], s["soak_s"]) == (1, 2, 70)
    json.dumps(s, allow_nan=False)


def test_add_result_takes_what_the_unit_reported() -> None:
    tally = SoakTally()
    res = TxnResult(1, "approved", "00", stages_ms={"amount": 900, "card": 400, "online": 300, "print": 800,
                                                    "total": 2400}, flags=FLAG_PRINTED)
    tally.add_result(10, res, 1.25)
    tally.add_result(11, TxnResult(2, "failed", cause="host-timeout", flags=FLAG_REVERSAL_SENT | FLAG_REVERSAL_ACKED,
                                   stages_ms={"online": 5000, "total": 6000}))
    s = tally.summary()
    assert s["latency_ms"]["total_ms"]["p50"] == 2400 and s["latency_ms"]["bench_ms"]["p99"] == 1.25
    assert s["latency_ms"]["online_ms"]["count"] == 1  # the timed-out sale is a failure, not a latency
    assert s["failures_by_cause"] == {"host-timeout": 1} and s["reversals"] == {"sent": 1, "acked": 1}


def test_minutes_count_throughput_and_total_time() -> None:
    tally = SoakTally()
    totals = {0: [1000, 2000, 3000], 2: [4000]}
    for minute, values in totals.items():
        for j, v in enumerate(values):
            tally.add(minute * 60 + j, "approved", "", {"total": v})
    tally.add(61, "failed", "network")
    rows = tally.summary()["minutes"]
    assert [(r["minute"], r["transactions"], r["approved"], r["failed"]) for r in rows] == [
        (0, 3, 3, 0), (1, 1, 0, 1), (2, 1, 1, 0)]
    assert (rows[0]["total_ms_p50"], rows[0]["total_ms_p95"]) == (2000, 3000)
    assert rows[1]["total_ms_p50"] is None and rows[2]["total_ms_p95"] == 4000


def test_soak_time_must_be_a_finite_non_negative_number() -> None:
    tally = SoakTally()
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            tally.add(bad, "approved")


def test_drift_compares_the_first_ten_minutes_with_the_last_ten() -> None:
    tally = SoakTally()
    for second in range(0, 3600, 5):
        late = second >= 3000
        tally.add(second, "approved", "", {"online": 400 if not late else 700, "total": 2000}, 1.0)
        tally.sample(second, head_temp_c=40 + second / 100, battery_percent=100 - second / 60, fan=None)
    d = tally.summary()["drift"]
    assert d["window_min"] == 10 and d["first"] == [0, 10] and d["last"] == [50, 60]
    q = d["quantities"]
    assert (q["online_ms_p95"]["first"], q["online_ms_p95"]["last"]) == (400, 700)
    assert q["total_ms_p50"]["first"] == q["total_ms_p50"]["last"] == 2000 and q["online_ms_p95"]["exact"]
    first_temps = [40 + s / 100 for s in range(0, 600, 5)]
    last_temps = [40 + s / 100 for s in range(3000, 3600, 5)]
    assert q["head_temp_c"]["first"] == pytest.approx(sum(first_temps) / len(first_temps))
    assert q["head_temp_c"]["last_max"] == max(last_temps) and q["head_temp_c"]["last_min"] == min(last_temps)
    assert q["battery_percent"]["first"] - q["battery_percent"]["last"] == pytest.approx(50)
    assert "fan" not in q and q["head_temp_c"]["unit"] == "°C"


def test_a_short_soak_compares_its_halves() -> None:
    tally = SoakTally()
    for second in range(0, 6 * 60, 10):
        tally.add(second, "approved", "", {"online": 100 if second < 180 else 300})
    d = tally.summary()["drift"]
    assert d["window_min"] == 3 and d["first"] == [0, 3] and d["last"] == [3, 6]
    assert (d["quantities"]["online_ms_p95"]["first"], d["quantities"]["online_ms_p95"]["last"]) == (100, 300)


def test_an_empty_tally_summarises_to_nothing_measured() -> None:
    s = SoakTally().summary()
    assert s["transactions"] == 0 and s["approval_rate"] is None and s["minutes"] == []
    assert s["latency_ms"]["total_ms"]["p95"] is None and s["drift"]["quantities"]["online_ms_p95"]["last"] is None
    json.dumps(s, allow_nan=False)
