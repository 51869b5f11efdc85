"""The test-transaction payloads: each codec round-trips, and a long receipt is cut to fit."""

from __future__ import annotations

import pytest

from drivers import txnproto as tp
from drivers.errors import ProtocolError

STAGES = {"amount": 120, "card": 340, "online": 85, "print": 900, "total": 1460}


def _result(receipt: tuple[str, ...] = ("BENCH TEST SALE", "VISA 476173******0010", "TOTAL EUR 12.34")) -> tp.TxnResult:
    return tp.TxnResult(42, "approved", "00", "", "476173******0010", "A0000000031010", "contact", 1234, 17,
                        tp.FLAG_PRINTED, dict(STAGES), receipt)


def test_start_round_trips() -> None:
    req = tp.TxnRequest(7, 99_999, "978", "emv-unionpay-contactless", "tcp://127.0.0.1:8583", 2500)
    assert tp.decode_txn_start(tp.encode_txn_start(req)) == req


def test_result_round_trips_as_event_and_as_status_answer() -> None:
    result = _result()
    assert tp.decode_txn_result(tp.encode_txn_result(result)) == result
    assert tp.decode_txn_result(tp.encode_txn_result(result, event=False), event=False) == result
    assert result.printed and not result.reversal_sent


def test_a_receipt_too_long_for_the_payload_is_cut_and_flagged() -> None:
    result = _result(tuple(f"line {i:02d} " + "x" * 40 for i in range(30)))
    data = tp.encode_txn_result(result, max_payload=256)
    assert len(data) <= 256
    back = tp.decode_txn_result(data)
    assert back.flags & tp.FLAG_RECEIPT_TRUNCATED
    assert 0 < len(back.receipt) < 30 and back.receipt == result.receipt[: len(back.receipt)]


def test_stage_event_and_printer_state_round_trip() -> None:
    stage = tp.TxnStage(9, "online", 431)
    assert tp.decode_txn_stage(tp.encode_txn_stage(stage)) == stage
    state = tp.UnitPrinterState(False, True, False, True, 61.5, 1234, 88)
    assert tp.decode_printer_state(tp.encode_printer_state(state)) == state


def test_a_short_result_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="txn_result"):
        tp.decode_txn_result(tp.encode_txn_result(_result())[:20])
