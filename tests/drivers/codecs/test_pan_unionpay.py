"""UnionPay PANs (BIN 62, 16-19 digits) are masked whole, in every form the bench writes them."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codecs.pan import luhn_ok, mask_pan, redact
from drivers.sim.vcard import load_profile

DEBIT = "6212345678900000003"  # 19 digits: the emv-unionpay-contact card
CREDIT = "6212345678901232"  # 16 digits: the emv-unionpay-contactless card
# Public 19-digit sandbox numbers whose 16-digit start (first) or tail (second) also passes Luhn.
LUHN_START = "6212345678000001000"
LUHN_TAIL = "6205500000000000004"


def test_the_test_numbers() -> None:
    for pan in (DEBIT, CREDIT, LUHN_START, LUHN_TAIL):
        assert pan.startswith("62") and luhn_ok(pan)
    assert luhn_ok(LUHN_START[:16]) and luhn_ok(LUHN_TAIL[-16:])
    assert mask_pan(DEBIT) == "621234*********0003"
    assert mask_pan("6212 3456 7890 0000 003") == "621234*********0003"
    assert mask_pan(CREDIT) == "621234******1232"


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"card {DEBIT} ok", "card 621234*********0003 ok"),
        ("card 6212 3456 7890 0000 003 ok", "card 621234*********0003 ok"),
        ("card 6212-3456-7890-1232 ok", "card 621234******1232 ok"),
        (f";{DEBIT}=29122011000000000?", "[track2 removed 621234*********0003]"),
        (f"%B{DEBIT}^UNIONPAY TEST/CARD 01^2912201100000000000?", "[track1 removed 621234*********0003]"),
        (f"F2 19{DEBIT} F4 000000001000", "F2 19621234*********0003 F4 000000001000"),  # ISO 8583 LLVAR
        (f"< {DEBIT}D29122011000000000F 9000", "< [track2 removed 621234*********0003] 9000"),
        # 19 digits whose first 16 pass Luhn: the whole 19 are the PAN, none left in clear
        ("card 6212 3456 7800 0001 000 ok", "card 621234*********1000 ok"),
        # 19 digits whose last 16 pass Luhn: the prefix 620 is part of the PAN
        (f";{LUHN_TAIL}=29122011000?", "[track2 removed 620550*********0004]"),
        (f"t2 {LUHN_TAIL}D2912201 end", "t2 [track2 removed 620550*********0004] end"),
    ],
)
def test_redact_unionpay(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("card", ["emv-unionpay-contact", "emv-unionpay-contactless"])
@pytest.mark.parametrize("spaced", [False, True])
def test_the_cards_records_as_the_driver_logs_them(card: str, spaced: bool) -> None:
    pan = DEBIT if card == "emv-unionpay-contact" else CREDIT
    for body in load_profile(card).applications[0].records.values():
        text = (body.hex(" ") if spaced else body.hex()).upper()
        out = redact(text)
        assert pan not in out.replace(" ", "")
        assert mask_pan(pan) in out.replace(" ", "")


@st.composite
def unionpay_written(draw: st.DrawFn) -> tuple[str, str]:
    """A UnionPay PAN (62, 16-19 digits, Luhn) as a text: one group or groups of four, any separator."""
    n = draw(st.integers(16, 19))
    body = "62" + "".join(str(draw(st.integers(0, 9))) for _ in range(n - 3))
    pan = next(body + c for c in "0123456789" if luhn_ok(body + c))
    digits = pan if draw(st.booleans()) else pan.translate({c: c + 0xFF10 - 0x30 for c in range(0x30, 0x3A)})
    sep = draw(st.sampled_from(("", " ", "\u00a0", "\u3000", "-", ".", "/", " - ", "\t")))
    text = sep.join(digits[k : k + 4] for k in range(0, n, 4))
    return pan, text


@settings(max_examples=int(os.environ.get("PAN_EXAMPLES", "400")), deadline=None)
@given(case=unionpay_written(), before=st.sampled_from(("", "card ", "PAN: ", "(")),
       after=st.sampled_from(("", " ok", " 12/29", ")")))
def test_every_unionpay_pan_is_masked_whole(case: tuple[str, str], before: str, after: str) -> None:
    pan, text = case
    out = redact(before + text + after)
    assert out == before + mask_pan(pan) + after
