"""Simulated instruments (PyVISA-sim, the package's descriptions) for the instrument driver tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.sim.instrumentbench import SimInstruments


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimInstruments]:
    """A fresh set of simulated instruments (a copy of the descriptions of its own: its own state)."""
    instruments = SimInstruments(tmp_path)
    yield instruments
    instruments.close()


def control(sim: SimInstruments, resource: str) -> object:
    """A VISA session of the test's own on a simulated instrument, to read back what a driver set."""
    import pyvisa

    return pyvisa.ResourceManager(sim.backend).open_resource(resource, write_termination="\n",
                                                              read_termination="\n")
