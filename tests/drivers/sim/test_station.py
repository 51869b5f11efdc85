"""The simulated multi-up station: every slot its own unit, reader and printer, through the real drivers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from simproc import processes_mentioning

from drivers.cardreader import open_card_reader
from drivers.errors import ConfigError, EquipmentError
from drivers.registry import open_device
from drivers.sim.cardbench import SimCardBench, _try_lock
from drivers.sim.pcscd import MAX_SLOTS, list_readers_now
from drivers.sim.scenario import SimDevices, parse_devices
from drivers.sim.station import SimStation, distinct_serials
from drivers.unit import open_unit

ROLES = ("unit", "card_reader", "printer")
VISA_ATR = "3B 68 00 00 00 73 C8 40 12 00 90 00"


def _skip_reason() -> str | None:
    if os.geteuid() != 0 and list_readers_now() is None:
        return "pcscd is not running and only root can start it"
    return None


@pytest.fixture(scope="module")
def station() -> Iterator[SimStation]:
    """Four slots of the good scenario, every role."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from simpcscd import many_slots

    good = parse_devices({})
    with many_slots(), SimStation({slot: good for slot in range(1, 5)}, ROLES) as st:
        yield st


@pytest.mark.slow
def test_each_slot_has_its_own_unit_serial_and_printer_serial(station: SimStation) -> None:
    serials = {}
    for slot, urls in station.urls_by_slot.items():
        unit = open_unit(urls["unit"])
        try:
            serials[slot] = unit.handshake().serial
        finally:
            unit.close()
    assert serials == {1: "PT3-000123-01", 2: "PT3-000123-02", 3: "PT3-000123-03", 4: "PT3-000123-04"}
    printers = {}
    for slot, urls in station.urls_by_slot.items():
        printer = open_device("printer", urls["printer"])
        try:
            printers[slot] = printer.identify().serial  # type: ignore[attr-defined]
        finally:
            printer.close()
    assert printers == {s: f"SIM00001-{s:02d}" for s in range(1, 5)}
    assert {s: p.printer.info.serial for s, p in station.printers_by_slot.items()} == printers
    assert len({u["card_reader"] for u in station.urls_by_slot.values()}) == 4


@pytest.mark.slow
def test_a_card_in_one_slot_is_seen_by_that_slots_reader_only(station: SimStation) -> None:
    readers = {slot: open_card_reader(urls["card_reader"]) for slot, urls in station.urls_by_slot.items()}
    try:
        station.actions_by_slot[2]["insert_card"](card="emv-visa-contact")
        station.actions_by_slot[4]["insert_card"](card="emv-mastercard-contact")
        readers[2].wait_for_insert(5)
        readers[4].wait_for_insert(5)
        assert readers[2].connect().atr.hex(" ").upper() == VISA_ATR
        assert readers[4].connect().atr.hex(" ").upper() != VISA_ATR
        assert not readers[1].card_present() and not readers[3].card_present()
        assert {s: station.card_in(s) for s in station.slots} == {
            1: None, 2: "emv-visa-contact", 3: None, 4: "emv-mastercard-contact"}
        station.actions_by_slot[2]["remove_card"]()
        readers[2].wait_for_remove(5)
        assert readers[4].card_present()
    finally:
        for slot, reader in readers.items():
            reader.close()
            station.actions_by_slot[slot]["remove_card"]()


@pytest.mark.slow
def test_a_slots_card_actions_refuse_another_slots_reader(station: SimStation) -> None:
    other = station.urls_by_slot[3]["card_reader"]
    with pytest.raises(EquipmentError, match="another slot's card reader"):
        station.actions_by_slot[1]["insert_card"](card="emv-visa-contact", reader=other)
    assert station.card_in(3) is None and station.card_in(1) is None


@pytest.mark.slow
@pytest.mark.usefixtures("many_slots")
def test_a_start_that_fails_half_way_leaves_nothing_behind() -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    good = parse_devices({})
    broken = SimDevices(unit={**good.unit, "max_payload": 5})  # its process refuses the profile
    st = SimStation({1: good, 2: good, 3: broken}, ROLES)
    folder = st.spawn().folder
    with pytest.raises(EquipmentError, match="did not start"):
        st.start()
    assert not folder.exists() and processes_mentioning(str(folder)) == []
    cards = SimCardBench()
    try:
        for urls in st.urls_by_slot.values():
            fd = _try_lock(cards.slot_of(urls["card_reader"]))  # the station's leases are back
            assert fd is not None
            os.close(fd)
    finally:
        cards.close()
    st.close()  # twice is harmless


def test_more_than_16_slots_is_a_config_error() -> None:
    good = parse_devices({})
    with pytest.raises(ConfigError, match=f"at most {MAX_SLOTS} slots"):
        SimStation({slot: good for slot in range(1, MAX_SLOTS + 2)})
    with pytest.raises(ConfigError, match="positive integers"):
        SimStation({0: good})


def test_serials_are_kept_when_distinct_and_numbered_by_slot_when_shared() -> None:
    assert distinct_serials({1: "A", 2: "B"}) == {1: "A", 2: "B"}
    assert distinct_serials({1: "A", 2: "A", 5: "B"}) == {1: "A-01", 2: "A-02", 5: "B-05"}
    good = parse_devices({})
    lot = SimStation({1: good.with_serial("LOT-00001"), 2: good.with_serial("LOT-00002")})
    assert [d.unit["serial"] for d in lot.devices_by_slot.values()] == ["LOT-00001", "LOT-00002"]


def test_one_host_serves_every_slot_with_the_scenarios_behaviours() -> None:
    from drivers.acquirer.device import HostDevice
    from drivers.yamlsafe import load_text
    from tests.drivers.acquirer.isoclient import Client, auth

    declining = parse_devices(load_text("host:\n  behaviour: {default: {answer: decline, code: '51'}}\n"))
    good = parse_devices({})
    with SimStation({1: good, 2: good, 3: declining}, ("host",)) as st:
        urls = {slot: st.urls_by_slot[slot]["host"] for slot in (1, 2, 3)}
        assert urls[1] == urls[2] != urls[3] and urls[1].endswith("?backend=sim")
        assert st.hosts_by_slot[1] is st.hosts_by_slot[2] is not st.hosts_by_slot[3]
        one, two = open_device("host", urls[1]), open_device("host", urls[2])
        assert isinstance(one, HostDevice) and isinstance(two, HostDevice)
        assert one.host is two.host is st.hosts_by_slot[1] and one.url == urls[1].split("?")[0]
        one.close()  # a slot's device is a view: the host goes on
        with Client(two.host.address) as unit:
            assert unit.request(auth("000001"))["39"] == "00"
        with Client(st.hosts_by_slot[3].address) as unit:
            assert unit.request(auth("000001"))["39"] == "51"
        address = two.host.address
    with pytest.raises(EquipmentError, match="no simulated bench host"):
        open_device("host", urls[1])
    with pytest.raises(OSError):
        Client(address, timeout=1).close()
