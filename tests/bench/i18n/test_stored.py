"""Translatable texts through the store: redacted without losing their template, and back."""

from __future__ import annotations

import logging

import pytest

from bench.i18n.stored import redact_text, revive, text_json
from drivers.i18n import N_, Text

PAN = "4111111111111111"


def test_a_card_number_in_a_translatable_text_is_masked_in_both_forms() -> None:
    said = N_("{unit} (serial {serial}) came in because: {complaint}.", unit=N_("Your terminal"), serial="SN-1",
              complaint=f"card {PAN} declined")
    masked = redact_text(said)
    assert isinstance(masked, Text)
    assert str(masked) == "Your terminal (serial SN-1) came in because: card 411111******1111 declined."
    stored = text_json(said)
    assert stored is not None and PAN not in stored and "411111******1111" in stored
    back = revive(str(masked), stored)
    assert isinstance(back, Text) and back == masked
    assert back.translated("zh_CN") == "您的终端（序列号 SN-1）送修原因：card 411111******1111 declined。"


def test_device_text_and_rows_from_before_version_9_are_shown_as_stored(caplog: pytest.LogCaptureFixture) -> None:
    assert text_json("battery 3.41 V") is None and redact_text(f"pan {PAN}") == "pan 411111******1111"
    assert revive("battery 3.41 V", None) == "battery 3.41 V"
    with caplog.at_level(logging.WARNING, logger="bench.i18n.stored"):
        shown = revive("battery 3.41 V", "{not json")
    assert shown == "battery 3.41 V" and not isinstance(shown, Text)
    assert "not readable" in caplog.text
