"""Fixtures for the drivers' tests: the simulated unit served in-process on a real pty."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.unit import PtyServer
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim
from drivers.unit import UnitClient, open_unit

ServeUnit = Callable[..., tuple[UnitClient, UnitSim]]


@pytest.fixture
def serve_unit(tmp_path: Path) -> Iterator[ServeUnit]:
    """``serve_unit(profile="good", overrides=None, **link_options) -> (client, sim)``: a unit on a pty
    (boot time 0.2 s unless overridden), its client open; both closed after the test."""
    servers: list[tuple[PtyServer, threading.Thread]] = []
    clients: list[UnitClient] = []

    def start(profile: str = "good", overrides: dict[str, Any] | None = None,
              **options: Any) -> tuple[UnitClient, UnitSim]:
        sim = UnitSim(load_profile(profile, {"boot_time": 0.2, **(overrides or {})}))
        server = PtyServer(sim, tmp_path / f"unit{len(servers)}")
        server.open()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        servers.append((server, thread))
        client = open_unit(str(server.link), **options)
        clients.append(client)
        return client, sim

    yield start
    for client in clients:
        client.close()
    for server, thread in servers:
        server.stop()
        thread.join(2)
        server.close()
