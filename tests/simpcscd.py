"""One pcscd for the whole test session, shared by every xdist worker.

pcscd is one daemon per machine. Left to the tests, the first one that needs it starts it and
stops it when it closes, unless another process holds a vpcd slot at that moment: with several
workers, two could start it at once, and one could stop it between another's start and lease.
So the session's first process (the xdist controller, or the only process of a serial run)
makes sure it runs before any test starts, with :data:`SESSION_SLOTS` slots, and stops it after
the last test; every test then reuses it and leases its own slots (tests/drivers/sim/cardfixtures.py).

When another suite on the machine started pcscd, this session reuses it and holds one slot
for as long as it runs: that suite then leaves pcscd running when it ends before this one.
"""

from __future__ import annotations

import logging
import os

from drivers.errors import EquipmentError
from drivers.sim.cardbench import SimCardBench
from drivers.sim.pcscd import list_readers_now

_LOG = logging.getLogger(__name__)

#: vpcd slots when this session starts pcscd: several workers each lease one or more at a time.
#: pcsc-lite serves 16 readers at most; 4 are left for a real reader plugged in meanwhile.
SESSION_SLOTS = 12


def start_for_session() -> SimCardBench | None:
    """pcscd running for the session (started, or reused and kept alive); None when it cannot be had here.

    Not having it is not an error at this point: the tests that need it skip (not root) or fail
    with the reason (root), as they do without this.
    """
    if os.geteuid() != 0 and list_readers_now() is None:
        return None
    try:
        bench = SimCardBench(slots=SESSION_SLOTS)
    except EquipmentError as exc:
        _LOG.warning("no pcscd for the test session: %s", exc)
        return None
    if not bench.pcscd.started:
        try:
            bench.lease()
        except EquipmentError as exc:  # every slot taken by other suites: our tests wait for theirs
            _LOG.warning("reusing pcscd without holding a slot: %s", exc)
    return bench
