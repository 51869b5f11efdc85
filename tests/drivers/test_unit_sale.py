"""Test sales end to end: UnitClient -> the simulated unit's own process on a pty -> a real bench host.

Each test starts ``python -m drivers.sim.unit`` (as the simulated bench does) and a
:class:`drivers.acquirer.AcquirerHost` on localhost; what is asserted is what the bench sees: the
result, the stage events, the host's exchanges and findings, and the logs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.acquirer import AcquirerHost, parse_behaviours_text
from drivers.errors import DeviceError, ProtocolError
from drivers.sim.bench import SimUnitProcess
from drivers.sim.unit import PtyServer
from drivers.sim.unitcardread import read_card
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim
from drivers.txnproto import TxnRequest, TxnStage
from drivers.unit import UnitClient, open_unit

# Amounts the host's behaviour file answers otherwise than "approve".
DECLINE, NEVER, CLOSE, GARBAGE, LATE = 5100, 1313, 1414, 1515, 1616
BEHAVIOURS = f"""
default: approve
rules:
  - {{amount: {DECLINE}, answer: decline, code: "51"}}
  - {{amount: {NEVER}, answer: never}}
  - {{amount: {CLOSE}, answer: close}}
  - {{amount: {GARBAGE}, answer: garbage}}
  - {{amount: {LATE}, answer: late, delay: 0.3}}
"""
CARDS = {
    "emv-visa-contact": ("A0000000031010", "contact"),
    "emv-mastercard-contact": ("A0000000041010", "contact"),
    "emv-unionpay-contact": ("A000000333010101", "contact"),
    "emv-contactless": ("A0000000031010", "contactless"),
    "emv-unionpay-contactless": ("A000000333010102", "contactless"),
    "msr-test": ("", "msr"),
    "msr-unionpay": ("", "msr"),
}
FULL_PANS = {read_card(name).pan for name in CARDS}

Start = Callable[..., UnitClient]


@pytest.fixture
def host() -> Iterator[AcquirerHost]:
    acquirer = AcquirerHost(parse_behaviours_text(BEHAVIOURS)).start()
    yield acquirer
    acquirer.stop()


@pytest.fixture
def start_unit(tmp_path: Path) -> Iterator[Start]:
    procs: list[SimUnitProcess] = []
    clients: list[UnitClient] = []

    def start(overrides: dict[str, Any] | None = None) -> UnitClient:
        profile = load_profile("good", {"boot_time": 0.2, **(overrides or {})})
        proc = SimUnitProcess(profile, tmp_path / f"unit{len(procs)}")
        procs.append(proc)
        proc.start()
        client = open_unit(str(proc.link))
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for proc in procs:
        proc.stop()


_ids = iter(range(1, 1_000_000))


def sale(unit: UnitClient, host: AcquirerHost | str, card: str = "emv-visa-contact", amount: int = 1234,
         timeout_ms: int = 400, stages: list[TxnStage] | None = None) -> Any:
    url = host if isinstance(host, str) else host.url
    request = TxnRequest(next(_ids), amount, "978", card, url, timeout_ms)
    return unit.sale(request, 10.0, stages.append if stages is not None else None)


def test_each_card_type_is_approved_printed_and_well_formed_at_the_host(
        start_unit: Start, host: AcquirerHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    unit = start_unit()
    results = []
    for card, (aid, interface) in CARDS.items():
        stages: list[TxnStage] = []
        result = sale(unit, host, card, stages=stages)
        results.append(result)
        assert (result.outcome, result.response_code, result.cause) == ("approved", "00", ""), card
        assert (result.aid, result.interface, result.amount) == (aid, interface, 1234)
        assert result.printed and not result.reversal_sent
        assert [s.stage for s in stages] == ["amount", "card", "online", "print", "done"]
        assert {s.txn_id for s in stages} == {result.txn_id}
        assert set(result.stages_ms) == {"amount", "card", "online", "print", "total"}
        assert result.masked_pan[:6] + result.masked_pan[-4:] in {p[:6] + p[-4:] for p in FULL_PANS}
        assert "*" in result.masked_pan and "AMOUNT EUR 12.34" in result.receipt
        assert f"STAN {result.stan:06d}" in result.receipt and any(line.startswith("APPROVED") for line in result.receipt)
        if aid:
            assert f"AID {aid}" in result.receipt
    answers = [x for x in host.exchanges() if x.mti == "0110"]
    assert len(answers) == len(CARDS) and all(x.fields["39"] == "00" for x in answers)
    requests = [x for x in host.exchanges() if x.mti == "0100"]
    assert {x.fields["22"] for x in requests} == {"051", "071", "901"}
    assert len({x.fields["11"] for x in requests}) == len(CARDS)  # a fresh STAN each time
    assert host.findings() == []
    # No full PAN anywhere the bench keeps: results, receipts, the link's and the client's logs.
    kept = caplog.text + repr(results) + repr(unit.txn_status(results[0].txn_id))
    for pan in FULL_PANS:
        assert pan not in kept


def test_declined_by_the_host_prints_a_declined_slip(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit()
    result = sale(unit, host, "emv-mastercard-contact", DECLINE)
    assert (result.outcome, result.response_code, result.cause) == ("declined", "51", "")
    assert result.printed and "DECLINED 51" in result.receipt


@pytest.mark.parametrize(("amount", "cause"), [(NEVER, "host-timeout"), (CLOSE, "host-closed"),
                                               (GARBAGE, "host-garbage"), (LATE, "host-timeout")])
def test_no_valid_answer_is_reversed(start_unit: Start, host: AcquirerHost, amount: int, cause: str) -> None:
    unit = start_unit()
    stages: list[TxnStage] = []
    result = sale(unit, host, "emv-unionpay-contactless", amount, timeout_ms=200, stages=stages)
    assert (result.outcome, result.cause) == ("failed", cause)
    assert result.reversal_sent and result.reversal_acked and not result.printed
    assert [s.stage for s in stages] == ["amount", "card", "online", "reversal", "done"]
    reversal = [x for x in host.exchanges() if x.mti == "0400"]
    assert len(reversal) == 1 and reversal[0].reverses == f"{result.stan:06d}"
    # The unit goes on: the next sale gets through on a new connection.
    assert sale(unit, host).outcome == "approved"
    host.stop()
    assert [f.code for f in host.findings()] == []  # no ISO-REVERSAL-MISSING, no STAN reused


def test_network_down_and_refused(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit({"faults": {"network_flap": {"up_s": 0.001, "down_s": 1000}}})
    result = sale(unit, host)
    assert (result.outcome, result.cause, result.reversal_sent) == ("failed", "network", False)
    unit2 = start_unit()
    address, port = host.address
    host.stop()  # nothing listens there any more: connection refused
    result = sale(unit2, f"tcp://{address}:{port}")
    assert (result.outcome, result.cause) == ("failed", "network")


def test_paper_runs_out_after_n_receipts(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit({"txn": {"printer": {"paper_mm": 250, "receipt_mm": 80, "near_end_mm": 100}}})
    results = [sale(unit, host) for _ in range(4)]
    assert [r.printed for r in results] == [True, True, True, False]
    assert [r.cause for r in results] == ["", "", "", "paper-out"]
    assert results[-1].outcome == "approved"  # the payment went through; only the slip is missing
    printer = unit.printer_status()
    assert printer.paper_out and printer.near_end and printer.receipts == 3 and printer.paper_left_mm == 10


def test_dead_key_fails_amount_entry_and_stuck_key_changes_the_amount(start_unit: Start, host: AcquirerHost) -> None:
    dead = start_unit({"faults": {"dead_keys": ["7"]}})
    assert sale(dead, host, amount=1234).outcome == "approved"
    result = sale(dead, host, amount=1275)
    assert (result.outcome, result.cause) == ("failed", "amount-entry")
    stuck = start_unit({"faults": {"stuck_keys": ["5"]}})
    result = sale(stuck, host, amount=1234)
    assert result.amount == 12345 and result.outcome == "approved"
    assert any(x.fields.get("4") == "000000012345" for x in host.exchanges())


def test_card_that_cannot_be_read_and_unknown_card(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit()
    for card in ("mute", "no-payment-app"):
        result = sale(unit, host, card)
        assert (result.outcome, result.cause) == ("failed", "card-read")
    with pytest.raises(ProtocolError, match="unknown card"):
        sale(unit, host, "emv-no-such-card")
    assert not [x for x in host.exchanges() if x.mti == "0100"]


def test_battery_drains_with_sales(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit({"txn": {"battery_drain": 2}})
    before = unit.battery().charge_percent
    for _ in range(3):
        sale(unit, host)
    assert unit.battery().charge_percent == before - 6


def test_watchdog_reset_mid_sale_is_link_reboot_and_the_sale_is_forgotten(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit({"faults": {"reboot_after": 2}})  # HELLO, then TXN_START: the watchdog fires
    request = TxnRequest(4242, 1234, "978", "emv-visa-contact", host.url, 400)
    with pytest.raises(DeviceError) as info:
        unit.sale(request, 10.0)
    assert info.value.fault_code == "LINK-REBOOT"
    unit.reboot()  # wait for it to be back (a clean HELLO)
    assert unit.txn_status(4242).outcome == "unknown"


def test_status_answers_a_result_the_bench_stopped_waiting_for(start_unit: Start, host: AcquirerHost) -> None:
    unit = start_unit()
    slow = TxnRequest(777, LATE, "978", "msr-test", host.url, 2000)  # the host answers after 0.3 s
    with pytest.raises(DeviceError) as info:
        unit.sale(slow, 0.05)
    assert info.value.fault_code == "TXN-TIMEOUT"
    deadline = time.monotonic() + 10
    status = unit.txn_status(777)
    while status.outcome == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = unit.txn_status(777)
    assert (status.outcome, status.response_code, status.interface) == ("approved", "00", "msr")
    assert status.printed and f"STAN {status.stan:06d}" in status.receipt
    # The late sale's events are dropped: the next sale sees only its own.
    stages: list[TxnStage] = []
    result = sale(unit, host, stages=stages)
    assert result.outcome == "approved" and {s.txn_id for s in stages} == {result.txn_id}


def test_a_lost_result_event_is_recovered_with_txn_status(tmp_path: Path, host: AcquirerHost,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sim = UnitSim(load_profile("good"))
    real_emit = sim.emit_event
    lost: list[Any] = []

    def emit(kind: str, data: Any, now: float) -> None:
        if kind == "txn_result" and not lost:  # the first result event never reaches the bench
            lost.append(data["result"])
            return
        real_emit(kind, data, now)

    monkeypatch.setattr(sim, "emit_event", emit)
    server = PtyServer(sim, tmp_path / "unit")
    server.open()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    unit = open_unit(str(server.link))
    try:
        stages: list[TxnStage] = []
        result = unit.sale(TxnRequest(55, 1234, "978", "emv-unionpay-contact", host.url, 400), 0.5, stages.append)
        assert lost and result == lost[0]  # the same result, asked for with TXN_STATUS
        assert result.outcome == "approved" and [s.stage for s in stages][-1] == "done"
        assert sale(unit, host).outcome == "approved"  # and the next sale gets its event as usual
    finally:
        unit.close()
        server.stop()
        thread.join(2)
        server.close()
