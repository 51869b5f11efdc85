"""An example test module for the bench pytest plugin (docs/pytest.md).

Run it against the simulated bench, or a real station:

    pytest test_pos_unit.py --bench-sim
    pytest test_pos_unit.py --bench-station stations/bench-1.toml

Each test asks for the devices it needs by role; the plugin opens them once for the session,
records every test as a step of the session's run, and skips these tests (with the reason)
when pytest runs without a bench.
"""

import itertools

from drivers.codecs.iso7816 import PSE, select_by_name
from drivers.txnproto import TxnRequest

#: A contact test card of the bench's card library: the simulator inserts it, a person at a station does.
TEST_CARD = "emv-visa-contact"

_txn_ids = itertools.count(1)


def test_identity(unit, measure):
    ident = unit.identify()
    measure("firmware", ident.firmware, equals="2.4.1")
    assert ident.serial, "the unit has no serial number"


def test_battery(unit, measure):
    battery = unit.battery()
    # a two-cell pack (2S, 7.4 V nominal): the limits are the model's
    measure("battery.voltage", battery.voltage, min=7.0, max=8.4, unit="V", fault="PWR-BATT-LOW")
    measure("battery.charge", battery.charge_percent, min=20, max=100, unit="%", fault="PWR-BATT-LOW")


def test_chip_card_answers(card_reader, operator, measure):
    operator.perform("insert_card", f"Insert the test card {TEST_CARD!r} into {card_reader.url}",
                     card=TEST_CARD, reader=card_reader.url)
    measure("card.insert_wait", card_reader.wait_for_insert(30), max=30, unit="s")
    try:
        card_reader.connect(5)
        answer = card_reader.transmit(select_by_name(PSE))
        assert answer.ok, f"SELECT PSE answered {answer.sw1:02X}{answer.sw2:02X}"
    finally:
        card_reader.disconnect()


def test_sale_is_approved(unit, host, measure):
    sale = TxnRequest(txn_id=next(_txn_ids), amount=1250, currency="978", card=TEST_CARD, host=host.url)
    result = unit.sale(sale, timeout=30)
    measure("sale.outcome", result.outcome, equals="approved")
    measure("sale.total", result.stages_ms["total"], max=8000, unit="ms")
    assert result.printed, "the receipt was not printed"


def test_printer_ready(printer):
    status = printer.status()
    assert status.ready, f"printer not ready: {', '.join(status.conditions)}"
