"""Is this bench wired right? The drivers against the real devices of a station (``-m hw``).

Deselected by default. On a bench, with a known-good unit, the test card in the contact
reader and paper in the printer::

    BENCH_HW_STATION=stations/bench-1.toml .venv/bin/python -m pytest -m hw tests/drivers/test_hw.py

On a multi-up station it checks the first slot, or slot N with ``BENCH_HW_SLOT=N``
(``bench station check`` asks every device of every slot who it is, without the card steps).

Each test talks to one device of the station through the same driver ``bench run`` uses, and
only asks it harmless questions (no reboot, no printing). A role the station does not have is
skipped with the reason. The card test waits up to 30 s for the card. These tests were checked
against the simulated bench, with a scenario file that puts the test card in the reader
(``cards: {inserted: emv-visa-contact}``). The simulated printer lives inside the process that
uses it, so ``bench sim`` cannot offer it::

    .venv/bin/bench sim --scenario with-card.yaml --device unit --device card_reader --station-out /tmp/sim.toml &
    BENCH_HW_STATION=/tmp/sim.toml .venv/bin/python -m pytest -m hw tests/drivers/test_hw.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.station import Station, load_station
from drivers.codecs.iso7816 import PSE, select_by_name
from drivers.interfaces import CardReader, Device, Printer, Unit
from drivers.registry import open_device

pytestmark = pytest.mark.hw


@pytest.fixture(scope="module")
def station() -> Station:
    path = os.environ.get("BENCH_HW_STATION")
    if not path:
        pytest.skip("set BENCH_HW_STATION to the station file of the bench under test")
    return load_station(path)


def _open(station: Station, role: str) -> Iterator[Device]:
    slot = int(os.environ.get("BENCH_HW_SLOT", station.slot_numbers[0]))
    url = station.slot_urls(slot).get(role)
    if url is None:
        pytest.skip(f"station {station.name} has no {role} in slot {slot}")
    device = open_device(role, url)
    try:
        yield device
    finally:
        device.close()


@pytest.fixture
def unit(station: Station) -> Iterator[Device]:
    yield from _open(station, "unit")


@pytest.fixture
def card_reader(station: Station) -> Iterator[Device]:
    yield from _open(station, "card_reader")


@pytest.fixture
def printer(station: Station) -> Iterator[Device]:
    yield from _open(station, "printer")


def test_unit_identifies_and_answers(unit: Device) -> None:
    assert isinstance(unit, Unit)
    ident = unit.identify()
    assert ident.model and ident.serial and ident.firmware
    battery = unit.battery()
    assert 0 <= battery.charge_percent <= 100 and 0 < battery.voltage < 30
    results = unit.self_test()
    assert results, "the unit reported no self-test subsystem"
    unit.event_log()  # the whole log downloads and decodes


def test_card_reader_reads_the_test_card(card_reader: Device) -> None:
    assert isinstance(card_reader, CardReader)
    card_reader.wait_for_insert(30)
    info = card_reader.connect(5)
    assert info.atr[:1] in (b"\x3b", b"\x3f"), f"implausible ATR {info.atr.hex()}"
    resp = card_reader.transmit(select_by_name(PSE))
    # a contact payment card answers SELECT PSE with its directory, or 6A82 when it has none
    assert resp.ok or (resp.sw1, resp.sw2) == (0x6A, 0x82), f"SELECT PSE -> {resp.sw1:02X}{resp.sw2:02X}"
    card_reader.disconnect()


def test_printer_reports_status_and_identity(printer: Device) -> None:
    assert isinstance(printer, Printer)
    status = printer.status()
    assert status.ready, f"printer not ready: {', '.join(status.conditions)}"
    assert printer.identify().model
