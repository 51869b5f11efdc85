"""run.json's writer: the same text as ``json.dumps(indent=2, ensure_ascii=False)``, and a redacted record."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bench.controls import escape_controls_json
from bench.measure import Limit, Measurement
from bench.record import AttachmentRecord, Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports.format import redacted
from bench.reports.jsontext import dumps_indented
from bench.reports.render import render
from drivers.codecs.pan import redact, redact_data

_PAN = "4111 1111 1111 1111"
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_data = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none(), inner, max_size=4),
    max_leaves=25,
)


@given(_data)
def test_text_is_the_standard_librarys(data: object) -> None:
    assert dumps_indented(data) == json.dumps(data, indent=2, ensure_ascii=False)


def test_what_json_rejects_is_rejected_the_same_way() -> None:
    for bad in ({"a": {1, 2}}, {(1, 2): 3}, [object()]):
        try:
            json.dumps(bad, indent=2)
        except TypeError as exc:
            expected = str(exc)
        try:
            dumps_indented(bad)
        except TypeError as exc:
            assert str(exc) == expected
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_run_json_is_the_redacted_record_as_before() -> None:
    t0 = datetime(2026, 12, 6, 21, 0, 0, 123456, tzinfo=UTC)
    steps = [
        StepRecord(0, "card", "card.read", Outcome.FAIL, t0, 1.23456789, 2, "ICC-MUTE", f"card {_PAN} mute\x1b[2J",
                   [Measurement("pan", _PAN, None, Limit(regex=r"^\d+$"), False, "ICC-MUTE", "no"),
                    Measurement("v", math.nan, "V", Limit(min=0.0, max=2.0, one_of=(1, 2)), False),
                    Measurement("pair", (1, "zwölf"), None)],
                   [f"log {_PAN}", "ünïcode"],
                   [AttachmentRecord(f"dump-{_PAN}.txt", "text/plain", f"track {_PAN}=2512".encode()),
                    AttachmentRecord("receipt.png", "image/png", b"\x89PNG\x00" + _PAN.encode())]),
        StepRecord(1, "skip", "x.y", Outcome.SKIP, t0, 0.0, 0, None, "requires card (FAIL)"),
    ]
    rec = RunRecord("run-1", "plan", "1", "0" * 64, "station", "op", t0, t0, Verdict.FAIL,
                    UnitInfo("PT3", "S1"), steps, [Finding("ICC-MUTE", "t", "hardware", "p", "a", True, ["card"])],
                    f"summary {_PAN}", "LOT-1", "good", "0.1")
    text = render(rec, "json")
    assert text == escape_controls_json(json.dumps(redacted(rec).to_dict(), indent=2, ensure_ascii=False)) + "\n"
    assert "1111 1111 1111 1111" not in text and "4111111111111111" not in text


_texts = st.text() | st.sampled_from([_PAN, f"card {_PAN} read", "%B4111111111111111^X/Y^2512?", "5A084111111111111111"])
_records = st.recursive(
    st.none() | st.integers() | _texts,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["run_id", "message", "data_b64", "name", "x"]), inner, max_size=4),
    max_leaves=20,
)


@given(_records)
def test_text_passed_through_redaction_is_redact_data_then_dumps(data: object) -> None:
    skip = frozenset({"run_id", "data_b64"})
    expected = json.dumps(redact_data(data, skip), indent=2, ensure_ascii=False)
    assert dumps_indented(data, redact, skip) == expected
