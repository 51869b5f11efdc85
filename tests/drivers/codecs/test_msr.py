"""Magstripe track checks: ISO 7811 LRC on known tracks, ISO 7813 formats, no track data kept."""

from __future__ import annotations

import pytest

from drivers.codecs.msr import check_track, describe, lrc, summarize_swipe, with_lrc

T1 = "%B4761739001010010^BENCH/TEST CARD^30122010000000000?"
T2 = ";4761739001010010=30122010000000?"


def test_lrc_by_hand() -> None:
    # track 2: ';'=0xB ^ '1'=0x1 ^ '='=0xD ^ '?'=0xF = 0x8 -> '8'
    assert lrc(2, ";1=?") == "8"
    # track 1: '%'=05 ^ 'B'=22 ^ '1'=11 ^ '^'=3E ^ 'A'=21 ^ '^'=3E ^ '?'=1F = 08 -> '('
    assert lrc(1, "%B1^A^?") == "("
    assert lrc(3, ";?") == chr(0x30 + (0xB ^ 0xF))


def test_lrc_of_the_test_card() -> None:
    assert with_lrc(2, T2) == T2 + "2"
    assert with_lrc(1, T1) == T1 + ","


def test_lrc_rejects_characters_outside_the_set() -> None:
    with pytest.raises(ValueError):
        lrc(2, ";A=?")


def test_good_tracks() -> None:
    read, pan = check_track(1, with_lrc(1, T1))
    assert read.present and read.format_ok and read.lrc_ok and pan == "4761739001010010"
    read, pan = check_track(2, with_lrc(2, T2))
    assert read.format_ok and read.lrc_ok and read.length == len(T2) + 1 and pan == "4761739001010010"


@pytest.mark.parametrize(
    ("track", "raw", "format_ok", "lrc_ok", "problem"),
    [
        (2, T2 + "5", True, False, "LRC mismatch"),
        (2, T2, False, False, "no LRC character after the end sentinel"),
        (2, with_lrc(2, ";4761739001010010=301?"), False, True, "not in ISO 7813"),
        (2, ";4761739001010010=30122010000000", False, False, "no end sentinel"),
        (1, with_lrc(1, "%B4761739001010010^X^3012201?"), False, True, "not in ISO 7813"),  # name too short
        (1, "%b4761739001010010^BENCH^3012201?x", False, False, "characters outside"),
        (2, with_lrc(2, "=4761739001010010=30122010000000?"), False, True, "no start sentinel"),
    ],
)
def test_bad_tracks(track: int, raw: str, format_ok: bool, lrc_ok: bool, problem: str) -> None:
    read, _pan = check_track(track, raw)
    assert (read.format_ok, read.lrc_ok) == (format_ok, lrc_ok)
    assert problem in read.problem
    assert "4761739001010010" not in read.problem


def test_summary_keeps_only_masked_pan_and_verdicts() -> None:
    swipe = summarize_swipe(True, with_lrc(1, T1), with_lrc(2, T2))
    assert swipe.masked_pan == "476173******0010" and swipe.pan_luhn_ok and swipe.pans_agree
    text = repr(swipe) + describe(swipe)
    assert "4761739001010010" not in text and "BENCH/TEST" not in text and "3012" not in text
    assert describe(swipe) == "track 1 ok, track 2 ok, PAN 476173******0010"
    other = ";5413330089010434=30122010000000?"
    mixed = summarize_swipe(True, with_lrc(1, T1), with_lrc(2, other))
    assert not mixed.pans_agree and "PANs differ" in describe(mixed)
    missing = summarize_swipe(False, "", "")
    assert missing.masked_pan == "" and not any(t.present for t in missing.tracks)
    assert describe(missing) == "track 1 not read, track 2 not read, unit reported a read error"
