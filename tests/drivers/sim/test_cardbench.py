# ruff: noqa: F811  (pytest fixtures imported from cardfixtures are used as parameters)
"""Leasing vpcd slots: several at once, all or none, several benches in one process, and clear refusals;
a slot is empty when leased, and its lock is the machine's whatever TMPDIR says."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cardfixtures import cardbench, lease_slot  # noqa: F401

from drivers.cardreader import open_card_reader
from drivers.errors import EquipmentError
from drivers.sim import cardbench as cardbench_module
from drivers.sim.cardbench import SimCardBench
from drivers.sim.pcscd import list_readers_now
from drivers.sim.vcard import VirtualCard


@pytest.fixture
def cards() -> Iterator[SimCardBench]:
    if os.geteuid() != 0 and list_readers_now() is None:
        pytest.skip("pcscd is not running and only root can start it")
    bench = SimCardBench()
    try:
        yield bench
    finally:
        bench.close()


@pytest.mark.slow
def test_two_benches_in_one_process_lease_different_slots_and_pcscd_outlives_the_first(cards: SimCardBench) -> None:
    other = SimCardBench()
    try:
        mine, theirs = cards.lease_slots(2), other.lease_slots(2)
        assert len(set(mine) | set(theirs)) == 4
        cards.insert("emv-visa-contact", mine[0])
        assert other.card_in(mine[0]) is None  # each bench knows only its own cards
    finally:
        other.close()
    assert list_readers_now(), "closing one bench stopped pcscd under the other"


@pytest.mark.slow
def test_more_slots_than_pcscd_has_is_one_clear_error(cards: SimCardBench) -> None:
    with pytest.raises(EquipmentError, match=f"^{cards.slots + 1} simulated card reader slots needed, but "):
        cards.lease_slots(cards.slots + 1)


@pytest.mark.slow
def test_a_lease_is_all_or_none_and_says_how_many_are_free(cards: SimCardBench,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    real = cardbench_module._try_lock
    free = set()
    for slot in range(cards.slots):  # the first slot nobody holds: the only one left "free"
        fd = real(slot)
        if fd is not None:
            os.close(fd)
            free.add(slot)
            break
    monkeypatch.setattr(cardbench_module, "_try_lock", lambda slot: real(slot) if slot in free else None)
    with pytest.raises(EquipmentError, match=f"^2 simulated card reader slots needed, 1 of {cards.slots} free"):
        cards.lease_slots(2)
    assert cards.lease_slots(1) == sorted(free)  # the one it could take was given back


def _take_over(slot: int) -> SimCardBench | None:
    """A bench holding ``slot`` (free slots are leased lowest first); None when another process took it first.

    The slots below it, leased on the way, are let go at once: other workers may need them.
    """
    on_the_way: list[SimCardBench] = []
    try:
        while True:
            bench = SimCardBench()
            try:
                got = bench.lease()
            except EquipmentError:
                bench.close()
                return None
            if got == slot:
                return bench
            on_the_way.append(bench)
    finally:
        for bench in on_the_way:
            bench.close()


@pytest.mark.slow
def test_a_slot_let_go_with_its_card_still_in_is_empty_for_the_next_holder(cardbench: SimCardBench) -> None:
    """Else pcscd takes the next card for the one that left: the reader keeps the old ATR."""
    for _attempt in range(5):  # another worker may lease the slot between its release and ours: again
        slot = lease_slot(cardbench)
        cardbench.insert("emv-visa-contact", slot)
        with open_card_reader(cardbench.reader_url(slot)) as reader:
            reader.wait_for_insert(5)
        cardbench.close()  # the card goes, the lease too, without waiting for pcscd to see the card leave
        nxt = _take_over(slot)
        if nxt is not None:
            break
    else:
        pytest.fail("other processes took the released slot five times")
    with nxt:
        nxt.insert("emv-mastercard-contact", slot)
        with open_card_reader(nxt.reader_url(slot)) as reader:
            reader.wait_for_insert(5)
            assert reader.connect(5).atr == VirtualCard("emv-mastercard-contact").profile.atr


@pytest.mark.slow
def test_a_process_with_a_tmpdir_of_its_own_never_leases_a_slot_held_elsewhere(
    cardbench: SimCardBench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pcscd is one per machine: its slots' locks are too, whatever TMPDIR says (bench tests set their own)."""
    ours = lease_slot(cardbench)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    other = SimCardBench()
    try:
        while True:  # free slots are leased lowest first: up to the first one past ours
            try:
                got = other.lease()
            except EquipmentError:
                break
            assert got != ours
            if got > ours:
                break
    finally:
        other.close()
