"""A lot's sample tested on a multi-up station: units loaded a slotful at a time, tested in parallel.

Each batch is one multi-up run (:func:`bench.multirun.execute_many`) with ``--lot``: every unit
is recorded against the lot like a one-unit ``bench run --lot``, and the lot's status is
worked out again as each unit finishes, so the lot is decided (and the operator told) the
moment its sample says so. No batch starts once the lot is decided; the units of a batch
already on the fixture finish their runs and stay recorded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bench import interrupts
from bench.lots.store import LotStatus, LotStore, check_lot_open
from bench.multirun import MultiRequest, MultiResult, SlotRun, execute_many

if TYPE_CHECKING:
    from bench.run import RunRequest

_LOG = logging.getLogger(__name__)


@dataclass
class Batch:
    """The units on the fixture for one round: slot -> serial, and (simulated) slot -> fault scenario."""

    serials: dict[int, str]
    scenarios: dict[int, str]


def test_in_batches(request: MultiRequest, lot: str, batches: Iterator[Batch] | Callable[[LotStatus], Batch | None],
                    unit_done: Callable[[SlotRun, LotStatus], None] | None = None,
                    idle: Callable[[], None] | None = None) -> tuple[LotStatus, list[MultiResult]]:
    """Test batches of units for ``lot`` until it is decided or no batch comes; its final status and every batch's result.

    Args:
        request: the multi-up run to repeat for each batch (station or ``--sim --units``; its
            ``base.lot`` is set to ``lot``).
        lot: the open lot.
        batches: the next batch, from an iterator or from a function of the lot's status (None: stop).
        unit_done: called as each unit's run ends, with the lot's status right after it.
        idle: called when a round added no tested unit to the lot (the rounds stop there).

    Raises:
        UsageError: the lot is unknown or already decided before the first batch.
        Interrupted: a signal stopped a batch (its units are stored ABORTED; the lot stays open).
    """
    from bench.errors import Interrupted
    from bench.store.connect import open_store

    base: RunRequest = replace(request.base, lot=lot)
    results: list[MultiResult] = []
    lock = threading.Lock()  # units of one batch end on their own threads: one status at a time
    with open_store(base.db) as store:
        check_lot_open(store, lot)
        lots = LotStore(store)
        status = lots.status(lot)

        def done(run: SlotRun) -> None:
            nonlocal status
            if request.slot_done is not None:
                request.slot_done(run)
            with lock:
                status = lots.status(lot)  # decides the lot the moment its sample says so
                if unit_done is not None:
                    unit_done(run, status)

        while status.lot.decision is None:
            batch = batches(status) if callable(batches) else next(batches, None)
            if batch is None or not batch.serials:
                break
            slots = tuple(sorted(batch.serials))
            req = replace(request, base=base, slots=slots if not base.sim else (),
                          units=len(slots) if base.sim else request.units,
                          serials=batch.serials, scenarios=batch.scenarios, slot_done=done)
            before = status.tested
            result = execute_many(req)
            results.append(result)
            came = interrupts.release()  # the round's verdicts are stored; a signal meanwhile stops the rounds
            with lock:
                status = lots.status(lot)
            if result.interrupted or came:
                raise Interrupted(interrupts.interrupted_by())
            if status.lot.decision is None and status.tested == before:
                # The units on the fixture were tested already, or never counted (ERROR,
                # ABORTED): another round of the same would loop; the operator decides.
                _LOG.info("lot %s: a round added no tested unit; stopping", lot)
                if idle is not None:
                    idle()
                break
    return status, results
