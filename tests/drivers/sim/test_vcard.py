"""The virtual card state machine, transport-free: exact APDUs in, exact APDUs out."""

from __future__ import annotations

import pytest

from drivers.codecs import tlv
from drivers.codecs.iso7816 import PPSE, PSE, parse_atr, read_record, select_by_name
from drivers.errors import ConfigError
from drivers.sim.vcard import CardRemoved, VirtualCard, available_profiles, load_profile

VISA = bytes.fromhex("A0000000031010")


def test_every_shipped_profile_loads() -> None:
    names = available_profiles()
    for wanted in ("emv-visa-contact", "emv-mastercard-contact", "emv-unionpay-contact", "emv-contactless",
                   "emv-unionpay-contactless", "mute", "bad-tck", "slow", "flaky", "pulled"):
        assert wanted in names
    for name in names:
        assert load_profile(name).name == name


def test_select_pse_answers_61xx_then_get_response() -> None:
    card = VirtualCard("emv-visa-contact")
    assert card.power_on() == bytes.fromhex("3B6800000073C84012009000")
    assert card.process(select_by_name(PSE)) == bytes.fromhex("6117")
    # GET RESPONSE with a too-large Le: 6Cxx with the exact length
    assert card.process(bytes.fromhex("00C000001A")) == bytes.fromhex("6C17")
    fci = card.process(bytes.fromhex("00C0000017"))
    assert fci == bytes.fromhex("6F15840E315041592E5359532E4444463031A50388010190 00".replace(" ", ""))


def test_read_record_wrong_le_gives_6cxx_and_data_with_the_right_le() -> None:
    card = VirtualCard("emv-visa-contact")
    card.power_on()
    card.process(select_by_name(PSE))
    assert card.process(read_record(1, 1)) == bytes.fromhex("6C1D")
    rec = card.process(read_record(1, 1, 0x1D))
    assert rec[-2:] == b"\x90\x00"
    assert tlv.find(tlv.parse(rec[:-2]), 0x4F).value == VISA  # type: ignore[union-attr]
    assert card.process(read_record(1, 2, 0x1D)) == bytes.fromhex("6A83")


def test_select_aid_and_gpo_afl() -> None:
    card = VirtualCard("emv-visa-contact")
    card.power_on()
    assert card.process(select_by_name(VISA))[:1] == b"\x61"
    assert card.process(select_by_name(bytes.fromhex("A0000000041010"))) == bytes.fromhex("6A82")
    card.process(select_by_name(VISA))
    assert card.process(bytes.fromhex("80A8000002830000")) == bytes.fromhex("610C")
    assert card.process(bytes.fromhex("00C000000C")) == bytes.fromhex("800A18000801010010010100" "9000")


def test_partial_get_response_chains() -> None:
    card = VirtualCard("emv-visa-contact")
    card.power_on()
    card.process(select_by_name(PSE))
    first = card.process(bytes.fromhex("00C0000010"))
    assert len(first) == 0x10 + 2 and first[-2:] == bytes.fromhex("6107")
    assert card.process(bytes.fromhex("00C0000007"))[-2:] == b"\x90\x00"


def test_contactless_answers_ppse_directly() -> None:
    card = VirtualCard("emv-contactless")
    card.power_on()
    assert card.process(select_by_name(PSE)) == bytes.fromhex("6A82")
    resp = card.process(select_by_name(PPSE))
    assert resp[-2:] == b"\x90\x00"
    assert tlv.find(tlv.parse(resp[:-2]), 0xBF0C) is not None


def _directory(card: VirtualCard) -> list[tuple[bytes, bytes]]:
    """(AID, label) of each application the card's PSE (contact) or PPSE (contactless) lists."""
    card.power_on()
    if card.profile.interface == "contact":
        assert card.process(select_by_name(PSE))[:1] == b"\x61"
        entries = card.process(read_record(1, 1, 0))  # Le 0: the card says the length (6Cxx)
        entries = card.process(read_record(1, 1, entries[1]))
    else:
        entries = card.process(select_by_name(PPSE))
    assert entries[-2:] == b"\x90\x00"
    return [(e.find(0x4F).value, e.find(0x50).value)  # type: ignore[union-attr]
            for e in tlv.find_all(tlv.parse(entries[:-2]), 0x61)]


@pytest.mark.parametrize("name, aid, label, pan", [
    ("emv-unionpay-contact", "A000000333010101", b"UnionPay Debit", "6212345678900000003F"),
    ("emv-unionpay-contactless", "A000000333010102", b"UnionPay Credit", "6212345678901232"),
])
def test_unionpay_cards(name: str, aid: str, label: bytes, pan: str) -> None:
    card = VirtualCard(name)
    assert _directory(card) == [(bytes.fromhex(aid), label)]
    card.process(select_by_name(bytes.fromhex("A000000333")))  # by the UnionPay RID alone (partial name)
    assert card.selected is not None and card.selected.aid.hex().upper() == aid
    record = card.selected.records[(2, 1)]
    assert tlv.find(tlv.parse(record), 0x5A).value.hex().upper() == pan  # type: ignore[union-attr]
    country = tlv.find(tlv.parse(record), 0x5F28)
    assert country is not None and country.value == bytes.fromhex("0156")  # China


def test_unknown_instruction_and_class() -> None:
    card = VirtualCard("emv-visa-contact")
    assert card.process(bytes.fromhex("00CA9F1700")) == bytes.fromhex("6D00")
    assert card.process(bytes.fromhex("A0A4000000")) == bytes.fromhex("6E00")


def test_faults() -> None:
    mute = VirtualCard("mute")
    assert mute.power_on() == b""
    assert not parse_atr(mute.answer_atr()).valid
    bad = VirtualCard("bad-tck")
    assert parse_atr(bad.power_on()).tck_ok is False
    assert VirtualCard("slow").delay == pytest.approx(0.3)
    pulled = VirtualCard("pulled")
    for _ in range(3):
        pulled.process(select_by_name(PSE))
    with pytest.raises(CardRemoved):
        pulled.process(select_by_name(PSE))
    flaky1, flaky2 = VirtualCard("flaky"), VirtualCard("flaky")
    answers1 = [flaky1.process(select_by_name(PSE))[-2:] for _ in range(100)]
    answers2 = [flaky2.process(select_by_name(PSE))[-2:] for _ in range(100)]
    assert answers1 == answers2  # seeded
    assert 15 <= answers1.count(b"\x6f\x00") <= 45


def test_profile_validation() -> None:
    with pytest.raises(ConfigError, match="spec"):
        load_profile({"spec": 2, "atr": "3B00"})
    with pytest.raises(ConfigError, match="unknown key"):
        load_profile({"spec": 1, "atr": "3B00", "colour": "red"})
    with pytest.raises(ConfigError, match="ATR is malformed"):
        load_profile({"spec": 1, "atr": "3B80800100"})
    with pytest.raises(ConfigError, match="unknown card profile 'nope'"):
        load_profile("nope")
    card = load_profile({"spec": 1, "atr": "3B 80 80 01 01", "applications": [
        {"aid": "A0000000031010", "records": {"1/1": "70 04 5F 34 01 01"}}]})
    assert card.applications[0].records[(1, 1)] == bytes.fromhex("70045F340101")
