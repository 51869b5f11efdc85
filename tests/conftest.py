"""Shared fixtures. Tests mirror the package layout: tests/bench for bench/, tests/drivers for drivers/."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "tests"))  # helper modules (pgcluster, ...); after the real packages


@pytest.fixture
def tmp_db(tmp_path: Path) -> str:
    """A fresh SQLite store URL in a temp dir."""
    return f"sqlite:///{tmp_path / 'bench.db'}"


@pytest.fixture(autouse=True)
def _isolated_data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Never write into the user's real data directory from a test.

    Except the station check on a real bench (``--bench-station``, tests/station): its runs belong
    in bench's own store when neither ``--bench-db`` nor the station file names another.
    """
    if request.config.getoption("bench_station", None) is not None:
        return
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))


_SESSION_PCSCD = pytest.StashKey[Any]()  # a SimCardBench, or None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """pcscd runs before the first test and until the last one (tests/simpcscd.py says why).

    Under xdist the controller does it, before it starts the workers; the workers only reuse it.
    Not on a real station (``--bench-station``, tests/station): its pcscd serves its real readers.
    """
    if hasattr(session.config, "workerinput") or session.config.option.collectonly:
        return
    if session.config.getoption("bench_station", None) is not None:
        return
    from simpcscd import start_for_session

    session.config.stash[_SESSION_PCSCD] = start_for_session()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """Stop the session's pcscd (if it started it and no other suite holds a slot).

    After every other finisher: xdist's stops the workers, and with them any lease a test left open.
    """
    try:
        return (yield)
    finally:
        bench = session.config.stash.get(_SESSION_PCSCD, None)
        if bench is not None:
            bench.close()


@pytest.fixture
def many_slots() -> Iterator[None]:
    """For a test that starts several simulated units at once: one such test at a time (simpcscd.many_slots)."""
    from simpcscd import many_slots

    with many_slots():
        yield


def is_root() -> bool:
    """True when the tests may start system daemons (CI runs as root)."""
    return os.geteuid() == 0


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster for the session (skipped only when not root and no binaries)."""
    from pgcluster import pg_reason_to_skip, start_pg_cluster

    reason = pg_reason_to_skip()
    if reason:
        pytest.skip(f"PostgreSQL tests need the server binaries: {reason}")
    with start_pg_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty store on each backend (a fresh PostgreSQL database in the session's cluster)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bench.db'}"
    import uuid

    from pgcluster import create_database

    return create_database(request.getfixturevalue("pg_url"), f"t_{uuid.uuid4().hex[:12]}")
