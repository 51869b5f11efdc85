"""Leasing vpcd slots: several at once, all or none, several benches in one process, and clear refusals."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from drivers.errors import EquipmentError
from drivers.sim import cardbench as cardbench_module
from drivers.sim.cardbench import SimCardBench
from drivers.sim.pcscd import list_readers_now


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
