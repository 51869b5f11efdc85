"""One pcscd for the whole test session, shared by every xdist worker.

pcscd is one daemon per machine. Left to the tests, the first one that needs it starts it and
stops it when it closes, unless another process holds a vpcd slot at that moment: with several
workers, two could start it at once, and one could stop it between another's start and lease.
So the session's first process (the xdist controller, or the only process of a serial run)
makes sure it runs before any test starts, and stops it after the last test; every test reuses
it and leases its own slots (tests/drivers/sim/cardfixtures.py).

The session holds one slot for as long as it runs: another suite that reused its pcscd then
leaves it running, and no bench replaces it by one with more slots (drivers.sim.cardbench does
that only while no slot is leased) under the tests that use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from drivers.errors import EquipmentError
from drivers.sim.cardbench import SimCardBench
from drivers.sim.pcscd import DEFAULT_SLOTS, list_readers_now

_LOG = logging.getLogger(__name__)


def start_for_session() -> SimCardBench | None:
    """pcscd running for the session (started, or reused and kept alive); None when it cannot be had here.

    Not having it is not an error at this point: the tests that need it skip (not root) or fail
    with the reason (root), as they do without this.
    """
    if os.geteuid() != 0 and list_readers_now() is None:
        return None
    try:
        bench = SimCardBench(slots=DEFAULT_SLOTS)
    except EquipmentError as exc:
        _LOG.warning("no pcscd for the test session: %s", exc)
        return None
    try:
        bench.lease()
    except EquipmentError as exc:  # every slot taken by other suites: our tests wait for theirs
        _LOG.warning("pcscd for the test session, without holding a slot: %s", exc)
    return bench


_HELD = {"depth": 0}
_HELD_LOCK = threading.Lock()


@contextlib.contextmanager
def many_slots() -> Iterator[None]:
    """Held by a test that starts several simulated units at once: one such test at a time, across workers.

    The session's pcscd has 14 vpcd slots; four xdist workers each in a multi-unit test could
    ask for more than are free. Single-slot tests lease as they go and do not take this lock.
    Re-entrant in a process (a module's station fixture holds it while its tests take it again):
    a second flock on the same file in one process would wait for itself.
    """
    import fcntl
    import tempfile

    with _HELD_LOCK:
        nested = _HELD["depth"] > 0
        _HELD["depth"] += 1
    try:
        if nested:
            yield
            return
        with open(Path(tempfile.gettempdir()) / "bench-tests-many-slots.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    finally:
        with _HELD_LOCK:
            _HELD["depth"] -= 1
