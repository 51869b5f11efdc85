# ruff: noqa: F811  (pytest fixtures imported from cardfixtures are used as parameters)
"""The card checks through the real stack (pyscard -> pcscd -> vpcd -> virtual cards), run like the runner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from simproc import assert_nowhere, run_sim_debug

sys.path.insert(0, str(Path(__file__).parents[2] / "drivers" / "sim"))

from cardfixtures import card_slot, cardbench, make_ctx, reader  # noqa: F401

from bench.checks import card as card_checks
from bench.checks.base import CheckSpec
from bench.errors import DeviceError
from drivers.cardreader import CardReaderClient
from drivers.sim.cardbench import SimCardBench

SPECS = {spec.name: spec for spec in card_checks.CHECKS}
PAN = "4761739001010010"
UNIONPAY_DEBIT = "6212345678900000003"
UNIONPAY_CREDIT = "6212345678901232"

pytestmark = pytest.mark.slow


def run(name: str, reader: CardReaderClient, cardbench: SimCardBench, **params: Any) -> dict[str, Any]:
    """Run a check; return its measurements by name; raise on a failed measurement like the runner."""
    spec: CheckSpec = SPECS[name]
    ctx = make_ctx(spec, reader, cardbench, params)
    spec.func(ctx)
    failed = [m for m in ctx.measurements if not m.passed]
    if failed:
        raise DeviceError("; ".join(m.message for m in failed), fault_code=failed[0].fault)
    return {m.name: m.value for m in ctx.measurements}


def failure(name: str, reader: CardReaderClient, cardbench: SimCardBench, **params: Any) -> DeviceError:
    with pytest.raises(DeviceError) as err:
        run(name, reader, cardbench, **params)
    return err.value


def test_every_check_is_declared_for_the_card_reader() -> None:
    assert set(SPECS) == {"card.reader_present", "card.atr", "card.emv_select", "card.read_records",
                          "card.apdu_latency", "card.insert_remove", "card.contactless_tap",
                          "card.compatibility"}
    for spec in card_checks.CHECKS:
        assert spec.devices == ("card_reader",)
        assert spec.fault.startswith(("ICC-", "CTLS-"))


def test_reader_present(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.reader_present", reader, cardbench)
    assert m["reader.present"] is True and m["reader.count"] >= 4


@pytest.mark.parametrize("profile, protocol",
                         [("emv-visa-contact", "T=0"), ("emv-mastercard-contact", "T=1"),
                          ("emv-unionpay-contact", "T=0"), ("emv-unionpay-contactless", "T=1")])
def test_atr_passes(reader: CardReaderClient, cardbench: SimCardBench, profile: str, protocol: str) -> None:
    m = run("card.atr", reader, cardbench, card=profile, protocol=protocol, atr_regex="3B.*")
    assert m["atr.tck_ok"] is True and m["atr.valid"] is True and m["atr.protocol"] == protocol


def test_atr_wrong_protocol(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.atr", reader, cardbench, card="emv-visa-contact", protocol="T=1")
    assert err.fault_code == "ICC-BAD-ATR" and "expected T=1" in str(err)


def test_atr_bad_tck(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.atr", reader, cardbench, card="bad-tck")
    assert err.fault_code == "ICC-BAD-ATR"
    assert "the card's answer to reset has a bad checksum (TCK)" in str(err)


def test_atr_mute(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.atr", reader, cardbench, card="mute")
    assert err.fault_code == "ICC-NO-ATR"


def test_emv_select_contact(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.emv_select", reader, cardbench, card="emv-mastercard-contact")
    assert m["emv.aids"] == 1 and m["emv.aid"] == "A0000000041010"


def test_emv_select_contactless(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.emv_select", reader, cardbench, card="emv-contactless", interface="contactless")
    assert m["emv.aids"] == 1 and m["emv.aid"] == "A0000000031010"


@pytest.mark.parametrize("profile, interface, aid, label", [
    ("emv-unionpay-contact", "contact", "A000000333010101", "UnionPay Debit"),
    ("emv-unionpay-contactless", "contactless", "A000000333010102", "UnionPay Credit"),
])
def test_emv_select_finds_the_unionpay_aid(
    reader: CardReaderClient, cardbench: SimCardBench, profile: str, interface: str, aid: str, label: str
) -> None:
    spec = SPECS["card.emv_select"]
    ctx = make_ctx(spec, reader, cardbench, {"card": profile, "interface": interface})
    spec.func(ctx)
    m = {m.name: m.value for m in ctx.measurements}
    assert m["emv.aids"] == 1 and m["emv.aid"] == aid
    assert f"applications: {aid} {label}" in ctx.notes


@pytest.mark.parametrize("profile, interface, pan, masked", [
    ("emv-unionpay-contact", "contact", UNIONPAY_DEBIT, "621234*********0003"),  # 19 digits
    ("emv-unionpay-contactless", "contactless", UNIONPAY_CREDIT, "621234******1232"),
])
def test_read_records_masks_the_unionpay_pan(
    reader: CardReaderClient, cardbench: SimCardBench, caplog: pytest.LogCaptureFixture,
    profile: str, interface: str, pan: str, masked: str,
) -> None:
    with caplog.at_level("DEBUG"):  # the driver logs every APDU at DEBUG, redacted
        m = run("card.read_records", reader, cardbench, card=profile, interface=interface)
    assert m["emv.records"] == 2
    assert m["emv.pan_masked"] == masked
    assert pan not in caplog.text and masked in caplog.text


def test_read_records_masks_the_pan(
    reader: CardReaderClient, cardbench: SimCardBench, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        m = run("card.read_records", reader, cardbench, card="emv-visa-contact")
    assert m["emv.records"] == 2
    assert m["emv.pan_masked"] == "476173******0010"
    assert PAN not in caplog.text


def test_read_records_pulled_card(reader: CardReaderClient, cardbench: SimCardBench, card_slot: int) -> None:
    err = failure("card.read_records", reader, cardbench, card="pulled")
    assert err.fault_code == "ICC-REMOVED"
    assert str(err) == "the card was pulled out while the bench was talking to it"
    assert err.detail == f"card removed during READ RECORD on {cardbench.reader_name(card_slot)!r}"


def test_emv_select_flaky_card(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.apdu_latency", reader, cardbench, card="flaky", count=20)
    assert err.fault_code == "ICC-ERROR"
    assert "apdu.errors" in str(err)


def test_apdu_latency_good(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.apdu_latency", reader, cardbench, card="emv-visa-contact", count=20)
    assert m["apdu.errors"] == 0
    assert 0 < m["apdu.p50_ms"] <= m["apdu.p95_ms"] <= m["apdu.max_ms"] < 50


def test_apdu_latency_slow(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.apdu_latency", reader, cardbench, card="slow", count=3)
    assert err.fault_code == "ICC-SLOW"
    assert "apdu.p50_ms" in str(err) and "above max 50" in str(err)


def test_insert_remove(reader: CardReaderClient, cardbench: SimCardBench, card_slot: int) -> None:
    cardbench.insert("emv-visa-contact", card_slot)  # a card left in: the check asks for it to be removed first
    m = run("card.insert_remove", reader, cardbench)
    assert 0 < m["insert.detect_ms"] < 2000 and 0 < m["remove.detect_ms"] < 2000


def test_contactless_tap(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.contactless_tap", reader, cardbench)
    assert m["ctls.detect_ms"] < 2000 and m["emv.aids"] == 1


def test_contactless_tap_nobody_taps(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    spec = SPECS["card.contactless_tap"]
    ctx = make_ctx(spec, reader, cardbench, {"timeout": 0.5})
    ctx.operator.actions["tap_card"] = lambda **_: None  # type: ignore[attr-defined]
    with pytest.raises(DeviceError) as err:
        spec.func(ctx)
    assert err.value.fault_code == "CTLS-NO-CARD"


def test_compatibility(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    m = run("card.compatibility", reader, cardbench, cards=["emv-visa-contact", "emv-mastercard-contact"])
    assert m["compat.passed"] == 2
    assert m["compat.emv-visa-contact"] == "pass" and m["compat.emv-mastercard-contact"] == "pass"


def test_compatibility_by_default_reads_a_card_of_each_scheme(
    reader: CardReaderClient, cardbench: SimCardBench, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        m = run("card.compatibility", reader, cardbench)  # the check's default list: Visa, Mastercard, UnionPay
    assert m == {"compat.emv-visa-contact": "pass", "compat.emv-mastercard-contact": "pass",
                 "compat.emv-unionpay-contact": "pass", "compat.passed": 3}
    assert UNIONPAY_DEBIT not in caplog.text and PAN not in caplog.text


def test_compatibility_names_the_unionpay_card_that_fails(
    reader: CardReaderClient, cardbench: SimCardBench, tmp_path: Path
) -> None:
    # A UnionPay card that leaves the reader while its records are being read (a worn latch).
    card = tmp_path / "unionpay-worn.yaml"
    text = (Path(card_checks.__file__).parents[2] / "drivers/sim/cards/emv-unionpay-contact.yaml").read_text()
    card.write_text(text + "faults:\n  pull_after: 9\n")
    err = failure("card.compatibility", reader, cardbench,
                  cards=["emv-visa-contact", "emv-mastercard-contact", str(card)])
    assert err.fault_code == "ICC-REMOVED"
    assert str(err).startswith(f"1 of 3 cards failed: {card}: the card was pulled out")
    assert "[ICC-REMOVED]" in str(err) and UNIONPAY_DEBIT not in str(err), str(err)


def test_compatibility_reports_each_bad_card(reader: CardReaderClient, cardbench: SimCardBench) -> None:
    err = failure("card.compatibility", reader, cardbench, cards=["emv-visa-contact", "mute", "pulled"])
    assert err.fault_code == "ICC-APP"
    assert "2 of 3 cards failed" in str(err)
    assert "mute:" in str(err) and "[ICC-NO-ATR]" in str(err) and "[ICC-REMOVED]" in str(err)


def test_reuses_the_card_already_inserted_in_this_run(
    reader: CardReaderClient, cardbench: SimCardBench
) -> None:
    calls: list[str] = []
    state: dict[str, Any] = {}
    for name in ("card.atr", "card.emv_select"):
        ctx = make_ctx(SPECS[name], reader, cardbench, {"card": "emv-visa-contact"}, state=state)
        actions = ctx.operator.actions  # type: ignore[attr-defined]
        inner = actions["insert_card"]

        def counting(inner: Any = inner, **kw: Any) -> None:
            calls.append(kw["card"])
            inner(**kw)

        actions["insert_card"] = counting
        SPECS[name].func(ctx)
    assert calls == ["emv-visa-contact"]


def test_no_unionpay_pan_in_record_reports_store_or_debug_log(tmp_path: Path) -> None:
    """Through the real CLI with --debug: the 19-digit UnionPay PAN, read from its chip (records, the
    compatibility list) and swiped (its magstripe), is masked in every output."""

    plan = tmp_path / "unionpay.yaml"
    plan.write_text(
        "plan: unionpay-only\nversion: '1'\nmodels: [PT-300]\nsteps:\n"
        "  - {name: identify, check: unit.identify}\n"
        "  - {name: records, check: card.read_records, params: {card: emv-unionpay-contact}}\n"
        "  - {name: ctls, check: card.read_records,"
        " params: {card: emv-unionpay-contactless, interface: contactless}}\n"
        "  - {name: compat, check: card.compatibility, timeout: 60}\n"
        "  - {name: swipe, check: msr.swipe, requires: [identify], timeout: 60,"
        " params: {card: msr-unionpay, swipes: 2}}\n"
    )
    proc = run_sim_debug(plan, tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("621234*********0003") >= 2 and "621234******1232" in proc.stdout
    assert "emv-unionpay-contact" in proc.stdout and "A000000333010101" in proc.stderr
    secrets = [UNIONPAY_DEBIT, UNIONPAY_CREDIT, UNIONPAY_DEBIT.encode().hex(), "6212 3456 7890 0000 003",
               "62 12 34 56 78 90 00 00 00 3", "BENCH/UNIONPAY"]
    assert_nowhere(secrets, proc, tmp_path)
