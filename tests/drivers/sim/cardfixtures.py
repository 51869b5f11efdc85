"""Fixtures for the card reader path through the real pcscd + vpcd (import them into a test module).

As root (here and in CI) pcscd is running for the whole session (tests/simpcscd.py starts it), so
these never skip; without root and without a running pcscd they skip with the reason.

pcscd and its vpcd slots are shared by every xdist worker (and by any other suite on the machine):
a test touches only the slot it leased (:func:`card_slot`), never a fixed one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.checks.base import CheckSpec, StepContext
from bench.operator import ScriptedOperator
from drivers.cardreader import CardReaderClient, open_card_reader
from drivers.errors import EquipmentError
from drivers.sim.cardbench import SimCardBench, operator_actions
from drivers.sim.pcscd import list_readers_now

#: Seconds a test waits for a free vpcd slot while other workers or suites hold them all.
LEASE_WAIT = 120.0


def _skip_reason() -> str | None:
    if os.geteuid() == 0:
        return None
    if list_readers_now() is None:
        return "pcscd is not running and only root can start it (run the suite as root or start pcscd)"
    return None


@pytest.fixture
def cardbench() -> Iterator[SimCardBench]:
    """The simulated card bench for one test: the session's pcscd, and the slots this test leases."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with SimCardBench() as bench:  # closing it releases its leases
        yield bench


def lease_slot(cardbench: SimCardBench, timeout: float = LEASE_WAIT) -> int:
    """Lease a free slot (empty), waiting while other workers or suites hold them all."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return cardbench.lease()
        except EquipmentError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def card_slot(cardbench: SimCardBench) -> Iterator[int]:
    """A vpcd slot leased for this test alone; emptied afterwards (so the next lessee starts empty)."""
    slot = lease_slot(cardbench)
    try:
        yield slot
    finally:
        cardbench.remove(slot)


@pytest.fixture
def reader(cardbench: SimCardBench, card_slot: int) -> Iterator[CardReaderClient]:
    """The driver opened on the leased slot's reader."""
    client = open_card_reader(cardbench.reader_url(card_slot))
    try:
        yield client
    finally:
        client.close()


def make_ctx(
    spec: CheckSpec,
    reader: CardReaderClient,
    cardbench: SimCardBench,
    params: dict[str, Any] | None = None,
    timeout: float = 30.0,
    state: dict[str, Any] | None = None,
) -> StepContext:
    """A StepContext for ``spec`` with defaults applied and the simulated operator."""
    merged = {name: p.default for name, p in spec.params.items() if not p.required}
    merged.update(params or {})
    return StepContext(
        step=spec.name,
        spec=spec,
        params=merged,
        limits=dict(spec.measurements),
        devices={"card_reader": reader},
        operator=ScriptedOperator(actions=operator_actions(cardbench)),
        deadline=time.monotonic() + timeout,
        state=state,
    )
