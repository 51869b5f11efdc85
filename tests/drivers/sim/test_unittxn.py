"""The simulated unit's sale pieces in-process: keypad amount, card read, reader wear, receipt printer,
the ISO 8583 client, the sale engine's refusals and reboot, the txn events and the profile's ``txn`` section."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers import txnproto as tp
from drivers import unitproto as up
from drivers.acquirer import AcquirerHost, parse_behaviours_text, wire
from drivers.codecs.linkframe import ERR_BAD_PAYLOAD, ERR_BUSY, ERR_UNSUPPORTED, T_ERROR
from drivers.errors import ConfigError
from drivers.link import ReceivedEvent
from drivers.sim.unitcardread import CardReadError, ReaderModel, card_names, read_card
from drivers.sim.unitcommands import UnitCommands, encode_event
from drivers.sim.unitpanel import Panel
from drivers.sim.unitpay import HostLink, Stans, parse_host, terminal_id
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitreceipt import ReceiptPrinter, format_amount, receipt_lines
from drivers.sim.unittxn import TxnEngine, TxnRefused, key_amount
from drivers.unit import parse_event

KEYS = [str(d) for d in range(10)] + ["ENTER", "CANCEL"]
PRINTER = {"paper_mm": 250, "receipt_mm": 80, "near_end_mm": 100, "ambient_c": 25.0, "rise_c": 10.0,
           "cool_s": 10.0, "hot_c": 50.0}


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.005)
    return value


def test_keypad_amount_with_dead_and_stuck_keys() -> None:
    assert key_amount(1234, KEYS, [], []) == 1234
    assert key_amount(1234, KEYS, ["5"], []) == 1234  # a dead key the amount does not need
    assert key_amount(1254, KEYS, ["5"], []) is None
    assert key_amount(1234, KEYS, ["ENTER"], []) is None
    assert key_amount(1234, KEYS, [], ["7"]) == 12347
    assert key_amount(1234, KEYS, [], ["F1"]) == 1234  # a stuck function key adds no digit
    assert key_amount(123_456_789, KEYS, [], ["1"]) is None  # one digit too many for the keypad
    assert key_amount(1234, [k for k in KEYS if k != "3"], [], []) is None


def test_every_library_card_reads_or_fails_as_a_card_read() -> None:
    names = card_names()
    assert {"emv-visa-contact", "emv-unionpay-contactless", "msr-test", "msr-unionpay"} <= set(names)
    visa = read_card("emv-visa-contact")
    assert (visa.pan, visa.expiry, visa.aid, visa.interface) == ("4761739001010010", "2912", "A0000000031010", "contact")
    assert visa.track2.startswith("4761739001010010=2912") and len(visa.track2) <= 37
    assert visa.pan not in repr(visa)
    upi = read_card("emv-unionpay-contact")
    assert len(upi.pan) == 19 and len(upi.track2) <= 37 and upi.aid == "A000000333010101"
    assert read_card("emv-unionpay-contactless").interface == "contactless"
    msr = read_card("msr-unionpay")
    assert (msr.interface, msr.aid, msr.track2) == ("msr", "", "6212345678900000003=301220100000")
    for name in ("mute", "no-payment-app", "flaky"):
        with pytest.raises(CardReadError):
            read_card(name)


def test_reader_wear_raises_the_failure_rate_after_n_reads() -> None:
    fresh = ReaderModel({"reader_degrades": None, "seed": 1})
    assert all(fresh.read("msr-test") for _ in range(50))
    worn = ReaderModel({"reader_degrades": {"after": 10, "per_read": 0.1, "max": 1.0}, "seed": 3})
    outcomes = []
    for _ in range(40):
        try:
            worn.read("msr-test")
            outcomes.append(True)
        except CardReadError:
            outcomes.append(False)
    assert all(outcomes[:10]) and not any(outcomes[20:])
    assert worn.failure_probability() == 1.0


def test_receipt_printer_paper_and_head() -> None:
    printer = ReceiptPrinter(PRINTER, now=0.0)
    assert [printer.print_receipt(("x",), t) for t in (0.0, 100.0, 200.0, 300.0)] == ["", "", "", "paper-out"]
    state = printer.state(300.0)
    assert state.paper_out and state.near_end and state.receipts == 3 and state.paper_left_mm == 10
    hot = ReceiptPrinter({**PRINTER, "paper_mm": 10_000}, now=0.0)
    assert [hot.print_receipt(("x",), 0.0) for _ in range(4)] == ["", "", "", "printer"]  # 25+30 >= 50
    assert hot.state(0.0).head_hot and hot.state(0.0).head_temp_c == pytest.approx(55.0)
    assert not hot.state(60.0).head_hot and hot.state(60.0).head_temp_c < 26  # cooled down
    assert hot.print_receipt(("x",), 60.0) == ""


def test_receipt_lines_never_carry_the_full_pan() -> None:
    lines = receipt_lines(merchant="SHOP", pan="6212345678900000003", aid="A000000333010101", interface="contact",
                          amount=1234, currency="978", outcome="approved", response_code="00", approval="A00001",
                          stan=42, terminal="T3000123")
    assert "CARD 621234*********0003 CONTACT" in lines and "AMOUNT EUR 12.34" in lines and "STAN 000042" in lines
    assert not any("6212345678900000003" in line for line in lines)
    assert format_amount(500, "392") == "JPY 500" and format_amount(5, "999") == "999 0.05"


def test_terminal_id_and_host_url() -> None:
    assert terminal_id("PT3-000123") == "T3000123" and terminal_id("a-1") == "000000A1"
    assert parse_host("tcp://127.0.0.1:8583") == ("127.0.0.1", 8583)
    for bad in ("", "udp://127.0.0.1:1", "tcp://127.0.0.1", "127.0.0.1:8583"):
        with pytest.raises(ValueError):
            parse_host(bad)


@pytest.fixture
def host() -> Iterator[AcquirerHost]:
    acquirer = AcquirerHost(parse_behaviours_text("rules:\n  - {amount: 1313, answer: never}\n")).start()
    yield acquirer
    acquirer.stop()


def test_host_link_reverses_a_timed_out_authorisation_and_never_reuses_a_stan(host: AcquirerHost) -> None:
    link = HostLink("T0000001", "M1", Stans())
    card = read_card("emv-visa-contact")
    first = link.authorise(host.url, card, 1313, "978", 0.1)
    assert (first.how, first.reversal_sent, first.reversal_acked) == ("host-timeout", True, True)
    second = link.authorise(host.url, card, 100, "978", 1.0)
    assert (second.how, second.response_code) == ("answered", "00")
    link.close()
    stans = [x.fields["11"] for x in host.exchanges() if x.direction == "in"]
    assert len(stans) == 3 and len(set(stans)) == 3
    reversal = next(x for x in host.exchanges() if x.mti == "0400")
    assert reversal.fields["90"].startswith(f"0100{first.stan:06d}") and reversal.fields["4"] == "000000001313"
    host.stop()
    assert host.findings() == []


def _one_answer_server() -> tuple[socket.socket, threading.Thread]:
    """A host that answers each connection's first authorisation, then closes it (idle timeout)."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            with conn:
                body = conn.recv(4096)[2:]
                request = wire.decode(body)
                answer = {"t": "0110", "11": request["11"], "39": "00"}
                conn.sendall(wire.frame(wire.encode(answer)))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_host_link_reconnects_when_the_host_closed_the_idle_connection() -> None:
    server, thread = _one_answer_server()
    url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    link = HostLink("T0000001", "M1", Stans())
    card = read_card("msr-test")
    try:
        assert link.authorise(url, card, 100, "978", 2.0).how == "answered"
        thread.join(0.5)  # the server closed that connection
        assert link.authorise(url, card, 100, "978", 2.0).how == "answered"
    finally:
        link.close()
        server.close()


def test_host_link_sends_a_reversal_it_could_not_send_before_the_next_authorisation() -> None:
    server = socket.create_server(("127.0.0.1", 0))  # takes the 0100, then closes and goes away
    url = f"tcp://127.0.0.1:{server.getsockname()[1]}"

    def close_after_request() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.close()
        server.close()

    thread = threading.Thread(target=close_after_request, daemon=True)
    thread.start()
    link = HostLink("T0000001", "M1", Stans())
    card = read_card("emv-contactless")
    first = link.authorise(url, card, 700, "978", 2.0)
    assert (first.how, first.reversal_sent) == ("host-closed", False)  # nobody to reverse it with
    with AcquirerHost() as host:
        assert link.authorise(host.url, card, 100, "978", 2.0).how == "answered"
        link.close()
        assert [x.mti for x in host.exchanges()] == ["0400", "0410", "0100", "0110"]
        assert host.exchanges()[0].fields["90"].startswith(f"0100{first.stan:06d}")


def _engine(**faults: Any) -> TxnEngine:
    return TxnEngine(load_profile("good", {"faults": faults}))


def test_engine_uses_its_own_host_setting_when_the_request_names_none(host: AcquirerHost) -> None:
    engine = TxnEngine(load_profile("good", {"txn": {"host": host.url}}))
    engine.start(tp.TxnRequest(1, 100, "978", "msr-test", ""))
    result = wait_for(lambda: engine.status(1).outcome not in ("running", "unknown") and engine.status(1))
    assert result.outcome == "approved"
    with pytest.raises(TxnRefused, match="no host"):
        _engine().start(tp.TxnRequest(1, 100, "978", "msr-test", ""))


def test_engine_refuses_bad_requests_and_a_second_sale(host: AcquirerHost) -> None:
    engine = _engine()
    for request in (tp.TxnRequest(1, 100, "978", "no-such-card", host.url), tp.TxnRequest(1, 0, "978", "msr-test", host.url),
                    tp.TxnRequest(1, 100, "EUR", "msr-test", host.url), tp.TxnRequest(1, 100, "978", "msr-test", "x")):
        with pytest.raises(TxnRefused) as info:
            engine.start(request)
        assert info.value.code == ERR_BAD_PAYLOAD
    engine.start(tp.TxnRequest(5, 1313, "978", "msr-test", host.url, 5000))  # the host never answers
    with pytest.raises(TxnRefused) as info:
        engine.start(tp.TxnRequest(6, 100, "978", "msr-test", host.url))
    assert info.value.code == ERR_BUSY
    assert wait_for(lambda: any(d["stage"].stage == "online" for k, d in engine.due_events() if k == "txn_stage"))
    assert engine.status(5).outcome == "running" and engine.status(6).outcome == "unknown"
    engine.reboot()  # the running sale ends without a result; the unit knows no sale any more
    assert engine.status(5).outcome == "unknown"
    engine.start(tp.TxnRequest(7, 100, "978", "msr-test", host.url))
    result = wait_for(lambda: engine.status(7).outcome not in ("running", "unknown") and engine.status(7))
    assert result.outcome == "approved" and engine.due_events()[-1][0] == "txn_result"
    assert engine.status(5).outcome == "unknown"


def test_network_flap_is_periodic() -> None:
    engine = TxnEngine(load_profile("good", {"faults": {"network_flap": {"up_s": 2, "down_s": 1}}}), now=100.0)
    assert [engine.network_up(100.0 + t) for t in (0.5, 1.9, 2.1, 2.9, 3.1, 5.5)] == [True, True, False, False, True, False]
    down = {"link": False}
    no_link = TxnEngine(load_profile("good", {"comms": {"ethernet": down, "wifi": down, "cellular": down}}))
    assert not no_link.network_up()


def test_commands_answer_unsupported_busy_and_printer_status() -> None:
    profile = load_profile("good", {"capabilities": ["battery", "printer"]})
    commands = UnitCommands(profile, Panel(profile, 0.0))
    request = tp.encode_txn_start(tp.TxnRequest(1, 100, "978", "msr-test", "tcp://127.0.0.1:1"))
    kind, payload = commands.execute(up.CMD_TXN_START, request, 0.0)
    assert kind == T_ERROR and payload[1] == ERR_UNSUPPORTED
    kind, payload = commands.execute(up.CMD_PRINTER_STATUS, b"", 0.0)
    state = tp.decode_printer_state(payload)
    assert kind == up.CMD_PRINTER_STATUS | 0x80 and not state.paper_out and state.paper_left_mm == 50_000
    good = load_profile("good")
    commands = UnitCommands(good, Panel(good, 0.0))
    kind, payload = commands.execute(up.CMD_TXN_START, b"\x00\x01", 0.0)
    assert kind == T_ERROR and payload[1] == ERR_BAD_PAYLOAD
    kind, payload = commands.execute(up.CMD_TXN_STATUS, tp.encode_txn_status(9), 0.0)
    assert tp.decode_txn_result(payload, event=False).outcome == "unknown"


def test_txn_events_are_described_without_card_data() -> None:
    receipt = ("SHOP", "CARD 476173******0010 CONTACT")
    result = tp.TxnResult(3, "approved", "00", "", "476173******0010", "A0000000031010", "contact", 100, 7,
                          tp.FLAG_PRINTED, {"total": 5}, receipt)
    event = parse_event(ReceivedEvent(1, encode_event("txn_result", {"result": result}), 0.0, 1))
    assert event.kind == "txn_result"
    assert event.data == {"txn_id": 3, "outcome": "approved", "response_code": "00", "cause": "", "stan": 7,
                          "masked_pan": "476173******0010", "aid": "A0000000031010", "interface": "contact",
                          "flags": tp.FLAG_PRINTED, "receipt_lines": 2}
    stage = parse_event(ReceivedEvent(2, encode_event("txn_stage", {"stage": tp.TxnStage(3, "online", 12)}), 0.0, 2))
    assert (stage.kind, stage.data) == ("txn_stage", {"txn_id": 3, "stage": "online", "elapsed_ms": 12})


@pytest.mark.parametrize(("overrides", "field"), [
    ({"txn": {"amount_ms": "fast"}}, "txn.amount_ms"),
    ({"txn": {"printer": {"paper_mm": -5}}}, "txn.printer.paper_mm"),
    ({"txn": {"printer": {"colour": True}}}, "txn.printer.colour"),
    ({"txn": {"till": 1}}, "txn.till"),
    ({"faults": {"network_flap": {"up_s": 1}}}, "faults.network_flap.down_s"),
    ({"faults": {"reader_degrades": {"after": 1, "per_read": 2, "max": 1}}}, "faults.reader_degrades.per_read"),
])
def test_profile_txn_section_is_validated(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_profile("good", overrides)
    assert info.value.field == field
