# ruff: noqa: F811  (pytest fixtures imported from cardfixtures are used as parameters)
"""The card reader driver: T=0 handling against the virtual card, error mapping, and the real stack.

Integration tests (``slow``) go through pyscard -> pcscd -> vpcd -> the virtual cards.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "sim"))

from cardfixtures import card_slot, cardbench, reader  # noqa: F401

from bench.runner import Runner
from drivers import cardreader
from drivers.cardreader import CardReaderClient, exchange, open_card_reader, pcsc_error
from drivers.codecs.iso7816 import PSE, read_record, select_by_name
from drivers.errors import CardError, EquipmentError
from drivers.sim.cardbench import SimCardBench
from drivers.sim.vcard import VirtualCard

VISA = bytes.fromhex("A0000000031010")
PAN = "4761739001010010"


# --------------------------------------------------------------------------- transport-free


class Wire:
    """Records every APDU that goes to the virtual card."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.sent: list[bytes] = []

    def __call__(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.card.process(apdu)


def test_exchange_follows_61xx_with_get_response() -> None:
    card = VirtualCard("emv-visa-contact")
    card.power_on()
    wire = Wire(card)
    resp = exchange(wire, select_by_name(PSE))
    assert wire.sent == [select_by_name(PSE), bytes.fromhex("00C0000017")]
    assert resp.ok and resp.exchanges == 2
    assert resp.data == bytes.fromhex("6F15840E315041592E5359532E4444463031A503880101")


def test_exchange_reissues_on_6cxx() -> None:
    card = VirtualCard("emv-visa-contact")
    card.power_on()
    exchange(Wire(card), select_by_name(VISA))
    wire = Wire(card)
    resp = exchange(wire, read_record(2, 1))
    assert wire.sent == [bytes.fromhex("00B2011400"), bytes.fromhex("00B2011421")]
    assert resp.ok and resp.data[:4] == bytes.fromhex("701F5A08")


def test_exchange_passes_errors_through_and_stops_runaway_cards() -> None:
    card = VirtualCard("emv-visa-contact")
    resp = exchange(card.process, select_by_name(bytes.fromhex("A0000000999999")))
    assert resp.sw == 0x6A82 and resp.data == b""
    with pytest.raises(CardError, match="the card never finishes its answer") as runaway:
        exchange(lambda apdu: b"\x61\x01", select_by_name(PSE))
    assert "keeps answering" in str(runaway.value.detail)
    with pytest.raises(CardError, match="the card gave an incomplete answer") as short:
        exchange(lambda apdu: b"\x90", select_by_name(PSE))
    assert "no status word" in str(short.value.detail)


def test_pcsc_error_mapping() -> None:
    err = pcsc_error(cardreader.SCARD_E_NO_SERVICE, "connect to pcscd")
    assert isinstance(err, EquipmentError) and err.fault_code == "ICC-NO-READER"
    assert "\n" not in str(err) and "pcscd is not running" in str(err)
    assert pcsc_error(cardreader.SCARD_E_NO_SMARTCARD, "connect").fault_code == "ICC-NO-CARD"  # type: ignore[attr-defined]
    removed = pcsc_error(cardreader.SCARD_W_REMOVED_CARD, "transmit SELECT", reader="R", during_apdu=True)
    assert removed.fault_code == "ICC-REMOVED"  # type: ignore[attr-defined]
    assert str(removed) == "the card was pulled out while the bench was talking to it"
    assert removed.detail == "card removed during transmit SELECT on 'R'"  # type: ignore[attr-defined]
    assert pcsc_error(cardreader.SCARD_W_UNRESPONSIVE_CARD, "connect").fault_code == "ICC-NO-ATR"  # type: ignore[attr-defined]
    assert pcsc_error(-2146435043, "x").fault_code == "ICC-NO-READER"  # type: ignore[attr-defined]  # signed form


def test_no_service_from_pyscard_is_an_equipment_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from smartcard import scard

    monkeypatch.setattr(scard, "SCardEstablishContext", lambda scope: (scard.SCARD_E_NO_SERVICE, 0))
    with pytest.raises(EquipmentError) as err:
        open_card_reader("pcsc://Virtual PCD*")
    assert err.value.fault_code == "ICC-NO-READER"
    assert len(str(err.value).splitlines()) == 1


def test_high_level_pyscard_exceptions_are_wrapped() -> None:
    from smartcard.Exceptions import CardConnectionException, NoCardException, NoReadersException
    from smartcard.pcsc.PCSCExceptions import EstablishContextException

    err = cardreader.wrap_pyscard_exception(EstablishContextException(cardreader.SCARD_E_NO_SERVICE), "open")
    assert isinstance(err, EquipmentError) and err.fault_code == "ICC-NO-READER"
    err = cardreader.wrap_pyscard_exception(NoReadersException(), "open")
    assert isinstance(err, EquipmentError) and err.fault_code == "ICC-NO-READER"
    err = cardreader.wrap_pyscard_exception(CardConnectionException("gone"), "transmit SELECT")
    assert isinstance(err, CardError) and err.fault_code == "ICC-REMOVED"
    err = cardreader.wrap_pyscard_exception(NoCardException("none", 0), "connect")
    assert isinstance(err, CardError) and err.fault_code == "ICC-NO-CARD"


def test_bad_url() -> None:
    from drivers.errors import ConfigError

    with pytest.raises(ConfigError):
        open_card_reader("usb://04b8:0e15")


# --------------------------------------------------------------------------- real stack


@pytest.mark.slow
def test_reader_pattern_that_matches_nothing(cardbench: SimCardBench) -> None:
    with pytest.raises(EquipmentError) as err:
        open_card_reader("pcsc://No Such Reader*")
    assert err.value.fault_code == "ICC-NO-READER"
    assert "no card reader matches 'No Such Reader*'" in str(err.value)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.slow
def test_reader_url_matches_exactly_one_slot(cardbench: SimCardBench) -> None:
    assert cardbench.slots >= 4
    names = set()
    for slot in range(cardbench.slots):
        with open_card_reader(cardbench.reader_url(slot)) as r:
            names.add(r.reader_name)
            assert r.reader_name == cardbench.reader_name(slot)
    assert len(names) == cardbench.slots
    with open_card_reader("pcsc://Virtual%20PCD*") as r:
        assert r.reader_name == cardbench.reader_name(0)


@pytest.mark.slow
@pytest.mark.parametrize("profile, protocol", [("emv-visa-contact", "T=0"), ("emv-mastercard-contact", "T=1"),
                                               ("emv-contactless", "T=1"), ("emv-unionpay-contact", "T=0"),
                                               ("emv-unionpay-contactless", "T=1")])
def test_atr_through_pcscd(
    cardbench: SimCardBench, card_slot: int, reader: CardReaderClient, profile: str, protocol: str
) -> None:
    vcard = cardbench.insert(profile, card_slot)
    took = reader.wait_for_insert(5)
    assert took < 2.0
    info = reader.connect()
    assert info.atr == vcard.profile.atr
    assert info.protocol == protocol


@pytest.mark.slow
def test_emv_select_and_read_through_61xx_and_6cxx(
    cardbench: SimCardBench, card_slot: int, reader: CardReaderClient, caplog: pytest.LogCaptureFixture
) -> None:
    cardbench.insert("emv-visa-contact", card_slot)
    reader.connect(5)
    with caplog.at_level("DEBUG", logger="drivers.cardreader"):
        resp = reader.transmit(select_by_name(PSE))
        assert resp.ok and resp.exchanges == 2  # 61xx -> GET RESPONSE
        assert reader.transmit(select_by_name(VISA)).ok
        rec = reader.transmit(read_record(2, 1))
        assert rec.ok and rec.exchanges == 2  # 6Cxx -> re-issue
        assert PAN in rec.data.hex().upper()  # the driver returns the data...
    assert "00C0000017" in caplog.text and "00B2011421" in caplog.text
    assert PAN not in caplog.text  # ...but never logs it
    assert "476173******0010" in caplog.text


@pytest.mark.slow
def test_insert_and_remove_are_seen(cardbench: SimCardBench, card_slot: int, reader: CardReaderClient) -> None:
    t0 = time.monotonic()
    cardbench.insert("emv-visa-contact", card_slot)
    assert reader.wait_for_insert(5) < 2.0
    assert reader.card_present()
    cardbench.remove(card_slot, wait=False)
    assert reader.wait_for_remove(5) < 2.0
    assert not reader.card_present()
    with pytest.raises(CardError) as err:
        reader.wait_for_insert(0.5)
    assert err.value.fault_code == "ICC-NO-CARD"
    assert time.monotonic() - t0 < 6


@pytest.mark.slow
def test_wait_for_change_reports_events(cardbench: SimCardBench, card_slot: int, reader: CardReaderClient) -> None:
    assert reader.wait_for_change(0.3) is None
    cardbench.insert("emv-visa-contact", card_slot)
    event = reader.wait_for_change(3)
    assert event is not None and event.kind == "inserted"
    assert event.atr == bytes.fromhex("3B6800000073C84012009000")
    cardbench.remove(card_slot, wait=False)
    event = reader.wait_for_change(3)
    assert event is not None and event.kind == "removed"


@pytest.mark.slow
def test_mute_card_gives_no_atr(cardbench: SimCardBench, card_slot: int, reader: CardReaderClient) -> None:
    cardbench.insert("mute", card_slot)
    reader.wait_for_insert(5)
    with pytest.raises(CardError) as err:
        reader.connect(5)
    assert err.value.fault_code == "ICC-NO-ATR"


@pytest.mark.slow
def test_card_pulled_mid_apdu(cardbench: SimCardBench, card_slot: int, reader: CardReaderClient) -> None:
    cardbench.insert("pulled", card_slot)
    reader.connect(5)
    reader.transmit(select_by_name(PSE))  # 2 APDUs
    with pytest.raises(CardError) as err:
        reader.transmit(read_record(1, 1))  # 6Cxx, then pulled on the re-issue
    assert err.value.fault_code == "ICC-REMOVED"
    assert str(err.value) == "the card was pulled out while the bench was talking to it"
    assert err.value.detail == f"card removed during READ RECORD on {cardbench.reader_name(card_slot)!r}"


@pytest.mark.slow
def test_close_from_another_thread_wakes_a_waiter(cardbench: SimCardBench, card_slot: int) -> None:
    import threading

    r = open_card_reader(cardbench.reader_url(card_slot))  # leased: no card comes in meanwhile
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            r.wait_for_insert(30)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    r.close()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - t0 < 2
    assert errors and isinstance(errors[0], EquipmentError | CardError)
    r.close()  # twice is harmless


@pytest.mark.slow
def test_pcsc_scan_sees_the_virtual_card(cardbench: SimCardBench, card_slot: int, reader: CardReaderClient) -> None:
    cardbench.insert("emv-mastercard-contact", card_slot)
    reader.wait_for_insert(5)
    out = subprocess.run(["timeout", "5", "pcsc_scan", "-n"], capture_output=True, text=True, check=False)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout)
    # Other slots may hold other workers' cards: look at what pcsc_scan says about this slot's reader.
    ours = [block for block in re.split(r"\n(?= Reader \d+: )", text)
            if block.startswith(" Reader ") and block.splitlines()[0].endswith(": " + cardbench.reader_name(card_slot))]
    assert ours, text
    assert any("ATR: 3B E9 00 00 81 31 FE 45 4A 43 4F 50 34 31 56 32 32 A7" in block for block in ours), text


def _card_taking(seconds: float) -> dict[str, object]:
    """The slow Visa card, answering every APDU after ``seconds``."""
    import yaml

    profile = yaml.safe_load((Path(__file__).parents[2] / "drivers/sim/cards/slow.yaml").read_text())
    profile["faults"]["slow_ms"] = int(seconds * 1000)
    return dict(profile)


@pytest.mark.slow
def test_an_answer_later_than_the_timeout_is_icc_slow_and_the_card_stays_usable(
    cardbench: SimCardBench, card_slot: int, reader: CardReaderClient
) -> None:
    cardbench.insert(_card_taking(0.3), card_slot)
    reader.connect(5)
    with pytest.raises(CardError) as err:
        reader.transmit(select_by_name(VISA), timeout=0.1)
    assert err.value.fault_code == "ICC-SLOW"
    # SELECT and its GET RESPONSE: two answers of 0.3 s each
    assert re.fullmatch(r"the card took 0\.[6-9] s to answer \(limit 0\.1 s\)", str(err.value))
    assert str(err.value.detail).startswith("SELECT on ")
    assert reader.pending() is None
    assert reader.transmit(select_by_name(VISA), timeout=5).ok


@pytest.mark.slow
def test_a_card_that_stops_answering_times_the_step_out_as_icc_slow(cardbench: SimCardBench, card_slot: int) -> None:
    """Through the runner: the step ends at its timeout, and the record names the command still waiting."""
    from bench.checks.base import CheckSpec, StepContext
    from bench.devices import DeviceSet
    from bench.operator import ScriptedOperator
    from bench.plan import Plan, Step
    from bench.record import Outcome

    slot = card_slot
    cardbench.insert(_card_taking(2.5), slot)

    def select(ctx: StepContext) -> None:
        reader = ctx.devices["card_reader"]
        assert isinstance(reader, CardReaderClient)
        reader.connect(5)
        reader.transmit(select_by_name(VISA), timeout=10)

    def quick(ctx: StepContext) -> None:
        ctx.measure("v", 1)

    spec = CheckSpec("t.select", select, "select", devices=("card_reader",))
    plan = Plan("t", "1", "", (
        Step(name="select", check=spec, params={}, limits={}, timeout=1.0, retries=0),
        Step(name="after", check=CheckSpec("t.quick", quick, "quick"), params={}, limits={}, timeout=1.0, retries=0),
    ))
    devices = DeviceSet({"card_reader": cardbench.reader_url(slot)})
    try:
        t0 = time.monotonic()
        rec = Runner(plan, devices, ScriptedOperator()).run()
        took = time.monotonic() - t0
    finally:
        devices.close()
        cardbench.remove(slot)
    first = rec.steps[0]
    assert first.outcome == Outcome.TIMEOUT and first.fault == "ICC-SLOW"
    assert first.message.startswith("did not finish within 1 s: card reader still waiting ")
    assert first.message.endswith(" s for the card's answer to SELECT")
    assert rec.steps[1].outcome == Outcome.PASS
    assert [f.fault for f in rec.findings] == ["ICC-SLOW"]
    assert took < 5  # the step ended at its timeout, not when the card answered
