"""Is this station wired right? Each device of the bench, through the driver ``bench run`` uses.

The one test folder that does not mirror a package: it tests a *station* (the bench's equipment
and a known-good unit), not a module of ours, and it is the folder a technician points pytest at
on a real bench, so it holds nothing else. It uses only the plugin's fixtures (docs/pytest.md):

    .venv/bin/python -m pytest tests/station --bench-station stations/bench-1.toml

with a known-good unit, paper in the printer and the test card at hand (the card test asks for it;
a multi-up station runs every test once per slot). In ``make test``
(tests/bench/pytestplugin/test_own_suite.py) the same module runs with ``--bench-sim``, where the
simulator inserts the card; run plainly (no ``--bench-*``) it is skipped with the plugin's reason.

Each test only asks its device harmless questions (no reboot, no printing). A role the station
does not have is skipped, naming it.
"""

from __future__ import annotations

from typing import Any

from bench.operator import Operator
from drivers.codecs.iso7816 import PSE, select_by_name
from drivers.interfaces import CardReader, Printer, Unit

#: The card the operator is asked to insert (a contact EMV card of the simulator's library).
TEST_CARD = "emv-visa-contact"


def test_unit_identifies_and_answers(unit: Any, measure: Any) -> None:
    assert isinstance(unit, Unit)
    ident = unit.identify()
    assert ident.model and ident.serial and ident.firmware
    battery = unit.battery()
    measure("battery.charge", battery.charge_percent, min=0, max=100, unit="%")
    measure("battery.voltage", battery.voltage, min=0.1, max=30, unit="V")
    assert unit.self_test(), "the unit reported no self-test subsystem"
    unit.event_log()  # the whole log downloads and decodes


def test_card_reader_reads_the_test_card(card_reader: Any, operator: Operator) -> None:
    assert isinstance(card_reader, CardReader)
    operator.perform("insert_card", f"Insert the test card {TEST_CARD!r} into {card_reader.url}",
                     card=TEST_CARD, reader=card_reader.url)
    card_reader.wait_for_insert(30)
    info = card_reader.connect(5)
    try:
        assert info.atr[:1] in (b"\x3b", b"\x3f"), f"implausible ATR {info.atr.hex()}"
        resp = card_reader.transmit(select_by_name(PSE))
        # a contact payment card answers SELECT PSE with its directory, or 6A82 when it has none
        assert resp.ok or (resp.sw1, resp.sw2) == (0x6A, 0x82), f"SELECT PSE -> {resp.sw1:02X}{resp.sw2:02X}"
    finally:
        card_reader.disconnect()


def test_printer_reports_status_and_identity(printer: Any) -> None:
    assert isinstance(printer, Printer)
    status = printer.status()
    assert status.ready, f"printer not ready: {', '.join(status.conditions)}"
    assert printer.identify().model
