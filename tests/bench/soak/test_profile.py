"""Soak profiles: the shipped ones load, and every mistake is one PlanError naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.errors import PlanError
from bench.soak.cards import library_cards
from bench.soak.limits import DriftLimit, LatencyLimit
from bench.soak.profile import load_profile, parse_profile_text

ROOT = Path(__file__).resolve().parents[3]

# Line numbers below count from 1 in this text.
GOOD = """\
soak: 1
name: t
description: a test rush
duration: 60m
time_scale: 60
seed: 7
rate:
  - {at: 0m, per_minute: 20}
  - {at: 15m, per_minute: 120}
  - {at: 60m, per_minute: 10}
cards:
  emv-visa-contact: 40
  msr-unionpay: 10
amounts: {min: 100, max: 25000, currency: "978"}
online_timeout: 5s
limits:
  approval_rate: {min: 0.98}
  failures: {max: 0}
  total_ms: {p95: 3000, p99: 5000}
  drift:
    online_ms_p95: {max_increase: 0.5}
    head_temp_c: {max: 75}
"""


def edit(line: int, new: str, through: int | None = None) -> str:
    """GOOD with lines ``line``..``through`` (1-based; one line by default) replaced by ``new``.

    The lines after the first become blank, so every later line keeps its number.
    """
    lines = GOOD.splitlines()
    last = through or line
    lines[line - 1: last] = [new] + [""] * (last - line)
    return "\n".join(lines) + "\n"


def test_the_good_profile_reads_as_written() -> None:
    p = parse_profile_text(GOOD, "t.yaml")
    assert (p.name, p.description, p.duration_s, p.time_scale, p.seed) == ("t", "a test rush", 3600.0, 60.0, 7)
    assert [(r.at_s, r.per_minute) for r in p.rate] == [(0.0, 20.0), (900.0, 120.0), (3600.0, 10.0)]
    assert p.cards == (("emv-visa-contact", 40.0), ("msr-unionpay", 10.0))
    assert (p.amount_min, p.amount_max, p.currency, p.online_timeout_s) == (100, 25000, "978", 5.0)
    assert p.limits.approval_rate_min == 0.98 and p.limits.failures_max == 0
    assert p.limits.latency == (LatencyLimit("total_ms", 95, 3000.0), LatencyLimit("total_ms", 99, 5000.0))
    assert p.limits.drift == (DriftLimit("online_ms_p95", "max_increase", 0.5), DriftLimit("head_temp_c", "max", 75.0))


def test_the_profile_as_data_round_trips_through_json() -> None:
    p = parse_profile_text(GOOD, "t.yaml")
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert d["duration_s"] == 3600 and d["cards"] == {"emv-visa-contact": 40, "msr-unionpay": 10}
    assert d["rate"][1] == {"at_s": 900, "per_minute": 120} and p.rate_points[1] == (900.0, 120.0)
    assert d["limits"]["latency"][0] == {"stage": "total_ms", "percentile": 95, "max_ms": 3000}
    assert d["limits"]["drift"][1] == {"quantity": "head_temp_c", "kind": "max", "bound": 75}
    assert d["path"] == "t.yaml" and len(d["sha256"]) == 64


@pytest.mark.parametrize("name", ["demo", "busy-hour"])
def test_the_shipped_profiles_load(name: str) -> None:
    p = load_profile(ROOT / "testplans" / "soak" / f"{name}.yaml")
    assert p.name == name and p.duration_s == 3600.0 and p.limits
    assert p.time_scale == (60.0 if name == "demo" else 1.0)
    assert len(p.sha256) == 64


def test_the_rate_curve_is_linear_between_points_and_flat_outside() -> None:
    p = parse_profile_text(edit(8, "  - {at: 5m, per_minute: 20}"))
    assert p.rate_at(0) == 20 and p.rate_at(300) == 20
    assert p.rate_at(600) == pytest.approx(70)  # half way from 20 (5m) to 120 (15m)
    assert p.rate_at(3600) == 10
    # 5 min at 20, a ramp 20->120 over 10 min, a ramp 120->10 over 45 min.
    assert p.expected_between(0, 3600) == pytest.approx(100 + 700 + 2925)
    assert p.expected_between(-5, 99999) == p.expected_between(0, 3600)


def test_card_names_come_from_the_library_of_both_kinds() -> None:
    cards = library_cards()
    assert {"emv-visa-contact", "emv-unionpay-contactless", "msr-unionpay", "msr-test"} <= cards
    assert not any(c.endswith(".yaml") for c in cards)


def test_a_bench_may_give_its_own_card_names() -> None:
    p = parse_profile_text(edit(12, "  shop-card: 40"), cards={"shop-card", "msr-unionpay"})
    assert p.cards[0] == ("shop-card", 40.0)


BAD = [
    # (line replaced, its new text, the error's line, words in the message, field)
    (1, "soak: 2", 1, "soak must be 1", "soak"),
    (2, "name: 'a b'", 2, "must be letters, digits", "name"),
    (3, "colour: red", 3, "unknown field 'colour'", "colour"),
    (4, "duration: 0m", 4, "duration must be above 0", "duration"),
    (4, "duration: 25h", 4, "duration must be above 0 to 24h", "duration"),
    (4, "duration: soon", 4, "duration must be a duration like 90s", "duration"),
    (5, "time_scale: 0.5", 5, "time_scale must be from 1 to 3600", "time_scale"),
    (5, "time_scale: 3601", 5, "time_scale must be from 1 to 3600", "time_scale"),
    (5, "time_scale: .nan", 5, ".nan is not a finite number", None),  # refused by the YAML reader
    (6, "seed: -1", 6, "seed must be from 0", "seed"),
    (6, "seed: 1.5", 6, "seed must be a whole number", "seed"),
    (8, "  - {at: 0m, per_minute: -3}", 8, "per_minute must be from 0", "rate[0].per_minute"),
    (8, "  - {at: 0m, per_minute: 1.0e+13}", 8, "per_minute must be from 0 to 60000", "rate[0].per_minute"),
    (8, "  - {at: 0m, per_minute: 20, colour: 1}", 8, "unknown field 'colour'", "rate[0].colour"),
    (8, "  - {at: 0m}", 8, "rate[0] needs 'per_minute'", "rate[0].per_minute"),
    (8, "  - 20", 8, "rate[0] must be a mapping", "rate[0]"),
    (9, "  - {at: 0m, per_minute: 120}", 9, "rate[1].at 0s is not after the point before it", "rate[1].at"),
    (10, "  - {at: 70m, per_minute: 10}", 10, "rate[2].at 70m is beyond the duration 1h", "rate[2].at"),
    (10, "  - {at: -1m, per_minute: 10}", 10, "rate[2].at must be a duration", "rate[2].at"),
    ((7, 10), "rate: []", 7, "rate must be a non-empty list", "rate"),
    (12, "  emv-visa-contct: 40", 12, "card 'emv-visa-contct' is not in the card library; did you mean "
     "'emv-visa-contact'?", "cards.emv-visa-contct"),
    (12, "  emv-visa-contact: 0", 12, "cards.emv-visa-contact must be above 0", "cards.emv-visa-contact"),
    (12, "  emv-visa-contact: -2", 12, "cards.emv-visa-contact must be above 0", "cards.emv-visa-contact"),
    (12, "  emv-visa-contact: heavy", 12, "must be a number, not str", "cards.emv-visa-contact"),
    ((11, 13), "cards: {}", 11, "cards must map card names to weights", "cards"),
    (14, 'amounts: {min: 30000, max: 25000, currency: "978"}', 14, "amounts.min 30000 is above amounts.max 25000",
     "amounts.min"),
    (14, 'amounts: {min: 0, max: 25000, currency: "978"}', 14, "amounts.min must be from 1", "amounts.min"),
    (14, 'amounts: {min: 1, max: 1000000000, currency: "978"}', 14, "amounts.max must be from 1 to 1e+09",
     "amounts.max"),
    (14, 'amounts: {min: 1.5, max: 25000, currency: "978"}', 14, "amounts.min must be a whole number", "amounts.min"),
    (14, "amounts: {min: 100, max: 25000, currency: 978}", 14, "ISO 4217 numeric code in quotes", "amounts.currency"),
    (14, 'amounts: {min: 100, max: 25000, currency: "EUR"}', 14, "ISO 4217 numeric code", "amounts.currency"),
    (14, "amounts: {min: 100, max: 25000}", 14, "amounts needs 'currency'", "amounts.currency"),
    (15, "online_timeout: 0s", 15, "online_timeout must be above 0", "online_timeout"),
    (15, "online_timeout: 2m", 15, "online_timeout must be above 0 to 65.535s", "online_timeout"),
    (15, "online_timeout: 0.0001s", 15, "online_timeout must be from 0.1s to 65.535s", "online_timeout"),
    (17, "  approval_rate: {min: 1.5}", 17, "limits.approval_rate.min must be from 0 to 1", "limits.approval_rate.min"),
    (17, "  approval_rate: {max: 0.5}", 17, "unknown field 'max'", "limits.approval_rate.max"),
    (17, "  approval_rate: {}", 17, "approval_rate needs min", "limits.approval_rate.min"),
    (18, "  failures: {max: -1}", 18, "limits.failures.max must be from 0", "limits.failures.max"),
    (18, "  failures: {max: .inf}", 18, ".inf is not a finite number", None),
    (19, "  total_ms: {p95: -3000}", 19, "limits.total_ms.p95 must be from 0", "limits.total_ms.p95"),
    (19, "  total_ms: {p90: 3000}", 19, "unknown field 'p90'", "limits.total_ms.p90"),
    (19, "  totl_ms: {p95: 3000}", 19, "unknown field 'totl_ms'; did you mean 'total_ms'?", "limits.totl_ms"),
    (19, "  total_ms: {}", 19, "total_ms needs p50, p95 or p99", "limits.total_ms"),
    (19, "  total_ms: 3000", 19, "limits.total_ms must be a mapping", "limits.total_ms"),
    (21, "    online_ms_p95: {max_increase: -0.5}", 21, "max_increase must be from 0", "limits.drift.online_ms_p95.max_increase"),
    (21, "    online_ms_p95: {max: 900, floor: 50}", 21, "floor goes with max_increase", "limits.drift.online_ms_p95.floor"),
    (21, "    online_ms_p95: {floor: 50}", 21, "needs one of max, min, max_increase, max_drop", "limits.drift.online_ms_p95"),
    (21, "    online_ms_p95: {grow: 0.5}", 21, "unknown field 'grow'", "limits.drift.online_ms_p95.grow"),
    (21, "    online_ms_p95: 0.5", 21, "must be a mapping like {max_increase: 0.5}", "limits.drift.online_ms_p95"),
    (21, "    printer_mood: {max: 1}", 21, "unknown field 'printer_mood'", "limits.drift.printer_mood"),
    (22, "    head_temp_c: {min: 80, max: 75}", 22, "min 80 is above max 75", "limits.drift.head_temp_c.min"),
    (22, "    head_temp_c: {}", 22, "drift of head_temp_c needs one of", "limits.drift.head_temp_c"),
]


@pytest.mark.parametrize(("line", "text", "at", "words", "field"), BAD, ids=[f"{b[0]}:{b[1].strip()}" for b in BAD])
def test_each_mistake_is_one_line_naming_file_line_and_field(line: int | tuple[int, int], text: str, at: int,
                                                               words: str, field: str | None) -> None:
    first, through = line if isinstance(line, tuple) else (line, line)
    with pytest.raises(PlanError) as err:
        parse_profile_text(edit(first, text, through), "soak/x.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"soak/x.yaml:{at}: "), message
    assert words in message
    assert err.value.line == at and err.value.field == field, message


@pytest.mark.parametrize(("missing", "line"), [("soak", 1), ("name", 2), ("duration", 4), ("rate", 7),
                                               ("cards", 11), ("amounts", 14)])
def test_a_missing_required_field_is_named(missing: str, line: int) -> None:
    lines = GOOD.splitlines()
    kept = [x for i, x in enumerate(lines, 1) if i != line and not (missing in ("rate", "cards") and
                                                                   _under(lines, line, i))]
    with pytest.raises(PlanError, match=rf"^x\.yaml:1: missing required field '{missing}' \(at {missing}\)$"):
        parse_profile_text("\n".join(kept) + "\n", "x.yaml")


def _under(lines: list[str], head: int, i: int) -> bool:
    """Line ``i`` is an indented child of the block that starts at line ``head``."""
    return i > head and all(lines[j - 1].startswith(" ") for j in range(head + 1, i + 1))


def test_a_rate_curve_that_expects_too_many_or_no_sales_is_refused() -> None:
    with pytest.raises(PlanError, match=r"x\.yaml:7: the rate curve expects 2592000 transactions in 24h; at most"):
        parse_profile_text(edit(4, "duration: 24h").replace("per_minute: 20}", "per_minute: 1800}")
                           .replace("per_minute: 120}", "per_minute: 1800}").replace("per_minute: 10}",
                                                                                      "per_minute: 1800}"), "x.yaml")
    zero = GOOD.replace("per_minute: 20}", "per_minute: 0}").replace("per_minute: 120}", "per_minute: 0}")
    with pytest.raises(PlanError, match=r"x\.yaml:7: the rate curve expects 0\.06 transactions in 1h; a soak needs"):
        parse_profile_text(zero.replace("per_minute: 10}", "per_minute: 0.0027}"), "x.yaml")


def test_not_a_mapping_bad_yaml_and_a_missing_file_are_plan_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"^x\.yaml: a soak profile must be a YAML mapping"):
        parse_profile_text("- 1\n", "x.yaml")
    with pytest.raises(PlanError, match=r"^x\.yaml:3: YAML error"):
        parse_profile_text("soak: 1\nname: [\n", "x.yaml")
    with pytest.raises(PlanError, match=r"nosuch\.yaml"):
        load_profile(tmp_path / "nosuch.yaml")
    (tmp_path / "dup.yaml").write_text(GOOD + "seed: 8\n")
    with pytest.raises(PlanError, match=r"dup\.yaml:23"):
        load_profile(tmp_path / "dup.yaml")
