"""PAN masking and redaction of track data from any text (and from log records)."""

from __future__ import annotations

import logging
import os
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codecs.pan import RedactingFilter, luhn_ok, mask_pan, redact

PAN = "4761739001010010"


def test_mask_pan() -> None:
    assert mask_pan(PAN) == "476173******0010"
    assert mask_pan("4761 7390 0101 0010") == "476173******0010"
    assert mask_pan("5413330089020011") == "541333******0011"
    assert mask_pan("1234") == "****"


def test_luhn() -> None:
    assert luhn_ok(PAN) and luhn_ok("5413330089020011")
    assert not luhn_ok("4761739001010011")


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"card {PAN} ok", "card 476173******0010 ok"),
        ("card 4761 7390 0101 0010 ok", "card 476173******0010 ok"),
        ("not a pan 4761739001010011 here", "not a pan 4761739001010011 here"),
        ("order 1234567890123 x", "order 1234567890123 x"),
        (f";{PAN}=29122011000000000?", "[track2 removed 476173******0010]"),
        (f"t2 {PAN}=2912201100 end", "t2 [track2 removed 476173******0010] end"),
        (f"%B{PAN}^TEST/CARD 01^2912201100000000000?", "[track1 removed 476173******0010]"),
        # R-APDU hex as the driver logs it: tag 57 (track 2 equivalent) and tag 5A (PAN)
        ("< " + "7037571147617390010100 10D29122011000000000005F201A".replace(" ", ""),
         "< 70375711[track2 removed 476173******0010]201A"),
        (f"< 701F5A08{PAN}5F2403291231", "< 701F5A08476173******00105F2403291231"),
        ("70 1F 5A 08 47 61 73 90 01 01 00 10 5F 24", "70 1F 5A08476173******00105F 24"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert PAN not in redact(text)


def test_redacting_filter(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.pan.filter")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG, logger="test.pan.filter"):
        log.debug("< %s", f"5A08{PAN}9000")
        log.info("swiped ;%s=2912201?", PAN)
    assert PAN not in caplog.text
    assert "476173******0010" in caplog.text


# --------------------------------------------------------------------------- holes found in review (issue 13)
FW = "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"  # full-width 0-9
AR = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"  # Arabic-Indic 0-9
PAN2 = "4040785360142947"


def script(digits: str, table: str) -> str:
    return "".join(table[int(d)] for d in digits)


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"{PAN2} 12/25", "404078******2947 12/25"),
        (f"card {PAN2} 123 x", "card 404078******2947 123 x"),
        (f"DE2 16{PAN2}", "DE2 16404078******2947"),  # ISO 8583 LLVAR
        (f"016{PAN2}", "016404078******2947"),  # LLLVAR
        (f"000{PAN2}", "000404078******2947"),  # zero-padded
        ("card 4761.7390.0101.0010 ok", "card 476173******0010 ok"),
        ("card 4761/7390/0101/0010 ok", "card 476173******0010 ok"),
        ("card 4761\t7390\t0101\t0010 ok", "card 476173******0010 ok"),
        ("card 4761  7390  0101  0010 ok", "card 476173******0010 ok"),
        ("card 4761\u00a07390\u00a00101\u00a00010 ok", "card 476173******0010 ok"),
        ("card 4761 - 7390 - 0101 - 0010 ok", "card 476173******0010 ok"),
        ("amex 3782 822463 10005 end", "amex 378282*****0005 end"),
        (f"card {script(PAN, FW)} ok", "card 476173******0010 ok"),
        (f"card {script(PAN, AR)} ok", "card 476173******0010 ok"),
        (f"t2 {script(PAN, FW)}=2912201100 end", "t2 [track2 removed 476173******0010] end"),
        (f"< {PAN}D29122011000000000F 9000", "< [track2 removed 476173******0010] 9000"),
    ],
)
def test_redact_reads_pans_through_any_layout(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_mask_pan_any_layout() -> None:
    assert mask_pan("4761.7390.0101.0010") == "476173******0010"
    assert mask_pan("4761\u00a07390/0101\t0010") == "476173******0010"
    assert mask_pan(script(PAN, AR)) == "476173******0010"
    assert luhn_ok(script(PAN, FW)) and not luhn_ok(script("4761739001010011", FW))


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06 21:05:40 step battery PASS 7.91 V",
        "2026-12-06 21:05:40.123456+00:00",
        "20261206T210540Z run 3f2a9c1e-0b7d-4e2a-9c1e-0b7d4e2a9c1e",
        "serial PT3-000123 model PT-300 firmware 2.4.1 hw C",
        "voltages 7.912 7.915 7.918 7.921 7.924 7.927 V",
        "values: 12.34, 56.78, 90.12, 34.56, 78.90",
        "ATR 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
        "ATR 3B8F8001804F0CA000000306030001000000006A",
        "< 00 00 00 00 00 00 00 00 00 00 00 00 00 00 90 00",
        "00 00 00 00 00 00 0D 00 00",
        "BA 7E 3C 5C 9E 3A 80 34 63 19 03 50 8D 74 09 A3 A1 F1",
        "BC90AD50FD3E709B71C0DE14B865198712F375178573205001D59407421FB8B0",
        "20000101T010000 20000609T000000",
        "order 1234567890123 x",
        "dates 2026-12-06 2026-12-07 2026-12-08",
        "host 192.168.100.200 port 35963 slot 1 2 3 4 5 6 7 8 9",
        "keys 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6",
        "4761739001010011 fails Luhn",
    ],
)
def test_redact_keeps_common_non_pan_text(text: str) -> None:
    assert redact(text) == text


# --------------------------------------------------------------------------- property: any PAN, any layout
SCRIPTS = (0x30, 0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE)  # ASCII, full-width, Arabic-Indic, ...
WHITESPACE = (" ", "  ", "\t", "\u00a0", "\u2007", "\u202f", "\u3000", " \u00a0")
PUNCTUATION = (".", "/", "-", " - ", "\u2013", "\uff0e", "\uff0f")
BOUNDARIES = (" | ", ": ", "\n", " card ", " (", ") ")


@st.composite
def luhn_pans(draw: st.DrawFn) -> str:
    n = draw(st.integers(13, 19))
    body = [draw(st.integers(1, 9))] + [draw(st.integers(0, 9)) for _ in range(n - 2)]
    for check in range(10):
        if luhn_ok("".join(map(str, [*body, check]))):
            return "".join(map(str, [*body, check]))
    raise AssertionError("unreachable")


@st.composite
def written(draw: st.DrawFn, pan: str) -> str:
    """``pan`` as a person or a device may write it: digit scripts, groups, separators, padding."""
    mixed = draw(st.booleans())
    base = draw(st.sampled_from(SCRIPTS))
    digits = [chr((draw(st.sampled_from(SCRIPTS)) if mixed else base) + int(d)) for d in pan]
    sizes: list[int] = []
    if draw(st.booleans()):
        while sum(sizes) < len(pan):
            sizes.append(draw(st.integers(3, 6)))
        sizes[-1] -= sum(sizes) - len(pan)  # the last group may be shorter (4222 2222 2222 2)
    else:
        sizes = [len(pan)]
    groups, k = [], 0
    for size in sizes:
        groups.append("".join(digits[k : k + size]))
        k += size
    punct = draw(st.sampled_from(PUNCTUATION))
    spaced = draw(st.booleans())
    text = groups[0]
    for group in groups[1:]:
        text += (draw(st.sampled_from(WHITESPACE)) if spaced else punct) + group
    if len(groups) == 1:  # a field of a message: ISO 8583 length, or zero padding
        text = draw(st.sampled_from(("", str(len(pan)), f"0{len(pan)}", "000"))) + text
    elif draw(st.booleans()):
        text = "00" + text
    return text


@settings(max_examples=int(os.environ.get("PAN_EXAMPLES", "400")), deadline=None)
@given(data=st.data(), before=st.text(max_size=40), after=st.text(max_size=40))
def test_redact_never_leaks_a_pan(data: st.DataObject, before: str, after: str) -> None:
    pan = data.draw(luhn_pans())
    text = (before + data.draw(st.sampled_from(BOUNDARIES)) + data.draw(written(pan))
            + data.draw(st.sampled_from(BOUNDARIES)) + after)
    out = redact(text)
    seen = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in out if c.isdecimal() or c == "*")
    assert pan not in seen, (text, out)
    assert pan[-4:] in seen, (text, out)


def test_separator_class_is_whitespace_without_line_breaks_and_dashes_dots_slashes() -> None:
    import re
    import sys

    from drivers.codecs.pan import _SEP

    punct = set("./-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\uff0e\uff0f")
    sep = re.compile(_SEP)
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        expected = (c.isspace() and len(f"a{c}b".splitlines()) == 1) or c in punct
        assert bool(sep.fullmatch(c)) == expected, hex(cp)


# --------------------------------------------------------------------------- property: useful data survives
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%d/%m/%Y %H:%M", "%Y%m%dT%H%M%S", "%d.%m.%Y %H:%M:%S")


@st.composite
def useful_texts(draw: st.DrawFn) -> str:
    """Text the bench stores every day that holds many digits but no card number."""
    kind = draw(st.sampled_from(("time", "values", "hex", "hexdump", "version", "ip")))
    n = draw(st.integers(2, 8))
    if kind == "time":
        fmt = draw(st.sampled_from(_TIME_FORMATS))
        return " ".join(draw(st.datetimes()).strftime(fmt) for _ in range(n))
    if kind == "values":
        values = [f"{draw(st.floats(0, 1000, allow_nan=False)):.{draw(st.integers(1, 4))}f}" for _ in range(n)]
        return draw(st.sampled_from((", ", " V, ", "; ", " "))).join(values)
    if kind == "hex":  # an ATR or an APDU written without spaces
        return draw(st.binary(min_size=8, max_size=40).map(lambda b: b.hex().upper())
                    .filter(lambda h: sum(c in "ABCDEF" for c in h) >= 2))
    if kind == "hexdump":
        return draw(st.binary(min_size=8, max_size=40)).hex(" ").upper()
    if kind == "version":
        return " ".join(".".join(str(draw(st.integers(0, 99))) for _ in range(3)) for _ in range(n))
    return " ".join(".".join(str(draw(st.integers(0, 255))) for _ in range(4)) for _ in range(n))


@settings(max_examples=int(os.environ.get("PAN_EXAMPLES", "400")), deadline=None)
@given(text=useful_texts())
def test_redact_keeps_useful_data(text: str) -> None:
    assert redact(text) == text
