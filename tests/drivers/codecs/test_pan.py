"""PAN masking and redaction of track data from any text (and from log records)."""

from __future__ import annotations

import logging

import pytest

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
