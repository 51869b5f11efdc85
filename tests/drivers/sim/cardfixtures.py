"""Fixtures for the card reader path through the real pcscd + vpcd (import them into a test module).

As root (here and in CI) pcscd is started when it is not running, so these never skip;
without root and without a running pcscd they skip with the reason.
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
from drivers.sim.cardbench import SimCardBench, operator_actions
from drivers.sim.pcscd import list_readers_now


def _skip_reason() -> str | None:
    if os.geteuid() == 0:
        return None
    if list_readers_now() is None:
        return "pcscd is not running and only root can start it (run the suite as root or start pcscd)"
    return None


@pytest.fixture(scope="session")
def cardbench() -> Iterator[SimCardBench]:
    """The simulated card bench (pcscd started or reused), for the whole session."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    bench = SimCardBench()
    try:
        yield bench
    finally:
        bench.close()


@pytest.fixture
def reader(cardbench: SimCardBench) -> Iterator[CardReaderClient]:
    """The driver opened on slot 0's reader; the slot is emptied afterwards."""
    client = open_card_reader(cardbench.reader_url(0))
    try:
        yield client
    finally:
        client.close()
        cardbench.remove(0)


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
