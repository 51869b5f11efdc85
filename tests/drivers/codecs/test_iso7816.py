"""ATR parsing, status words and APDU builders against exact bytes."""

from __future__ import annotations

from drivers.codecs.iso7816 import compute_tck, get_response, parse_atr, read_record, select_by_name, sw_text, with_le


def test_pcsc_contactless_storage_atr() -> None:
    atr = parse_atr(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"))
    assert atr.valid, atr.errors
    assert atr.ts == 0x3B and atr.t0 == 0x8F
    assert [g.td for g in atr.groups] == [0x80, 0x01]
    assert atr.protocols == (0, 1)
    assert atr.historical == bytes.fromhex("804F0CA0000003060300010000000000")[:15]
    assert len(atr.historical) == 15
    assert atr.tck == 0x6A and atr.tck_required and atr.tck_ok is True


def test_t0_atr_has_no_tck() -> None:
    atr = parse_atr(bytes.fromhex("3B6800000073C84012009000"))
    assert atr.valid
    assert atr.protocols == (0,) and atr.default_protocol == 0
    assert atr.groups[0].tb == 0x00 and atr.groups[0].tc == 0x00 and atr.groups[0].td is None
    assert atr.historical == bytes.fromhex("0073C84012009000")
    assert atr.tck is None and atr.tck_ok is None and not atr.tck_required


def test_t1_atr_with_ta3_tb3() -> None:
    atr = parse_atr(bytes.fromhex("3BE900008131FE454A434F503431563232A7"))
    assert atr.valid
    assert atr.protocols == (1,)
    assert atr.groups[2].ta == 0xFE and atr.groups[2].tb == 0x45
    assert atr.historical == b"JCOP41V22"


def test_bad_tck_is_reported_with_the_expected_value() -> None:
    atr = parse_atr(bytes.fromhex("3BE900008131FE454A434F503431563232FD"))
    assert not atr.valid and atr.tck_ok is False
    assert atr.errors == ("bad TCK FD (expected A7)",)


def test_malformed_atrs() -> None:
    assert parse_atr(b"").errors == ("empty ATR (card mute)",)
    assert parse_atr(b"\x00").errors[0] == "invalid TS 00 (expected 3B or 3F)"
    truncated = parse_atr(bytes.fromhex("3B6800"))
    assert any("truncated" in e for e in truncated.errors)
    missing = parse_atr(bytes.fromhex("3B80800101")[:-1])
    assert "TCK missing" in missing.errors
    extra = parse_atr(bytes.fromhex("3B6800000073C8401200900000"))
    assert "1 unexpected byte(s) after the ATR" in extra.errors


def test_compute_tck() -> None:
    assert compute_tck(bytes.fromhex("3B8F8001804F0CA0000003060300010000000000")) == 0x6A
    assert compute_tck(bytes.fromhex("3B808001")) == 0x01


def test_status_word_text() -> None:
    assert sw_text(0x90, 0x00) == "success"
    assert sw_text(0x6A, 0x82) == "file or application not found"
    assert sw_text(0x61, 0x17) == "23 more bytes available (GET RESPONSE)"
    assert sw_text(0x6C, 0x1D) == "wrong Le: exact length is 29"
    assert sw_text(0x63, 0xC2) == "verification failed, 2 tries left"


def test_apdu_builders_exact_bytes() -> None:
    assert select_by_name(b"1PAY.SYS.DDF01") == bytes.fromhex("00A404000E315041592E5359532E444446303100")
    assert read_record(2, 1) == bytes.fromhex("00B2011400")
    assert get_response(0x17) == bytes.fromhex("00C0000017")
    assert with_le(bytes.fromhex("00B2010C00"), 0x1D) == bytes.fromhex("00B2010C1D")
    assert with_le(bytes.fromhex("00A4040002AABB"), 0x10) == bytes.fromhex("00A4040002AABB10")
    assert with_le(bytes.fromhex("00A4040002AABB00"), 0x10) == bytes.fromhex("00A4040002AABB10")
    assert with_le(bytes.fromhex("00840000"), 8) == bytes.fromhex("0084000008")
