"""A lot's sample, taken one place at a time: several benches testing one lot never test more than its sample.

``bench run --lot`` starts its run through :func:`reserve`, inside the transaction that writes
the run's row: the lot's row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already lets one writer in at a time), then the places taken are counted:
units with a counted result (PASS or FAIL) and runs of the lot still RUNNING for a unit without
one. A run that would test more units than the sample is refused before it starts (its row is
never written). So benches that reach the sample size together test exactly the sample, and the
lot is decided once (:meth:`bench.lots.store.LotStore.status`). A RUNNING run of a bench that
died holds its place until it is marked ABORTED (its host's next command, or ``bench runs abandon``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.errors import UsageError
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.db import Db

_LOT = "SELECT sample_size, decision FROM lots WHERE id = :lot"
# units with a counted result, and the lot's running runs of units without one (or not identified yet)
_TAKEN = (
    "SELECT count(DISTINCT r.unit_id) FROM runs r WHERE r.lot = :lot AND r.verdict IN ('PASS', 'FAIL')"
)
_RUNNING = (
    "SELECT count(*) FROM runs r WHERE r.lot = :lot AND r.verdict = 'RUNNING' AND (r.unit_id IS NULL OR "
    "r.unit_id NOT IN (SELECT t.unit_id FROM runs t WHERE t.lot = :lot AND t.verdict IN ('PASS', 'FAIL') "
    "AND t.unit_id IS NOT NULL))"
)


def lock_lot(db: Db, lot: str) -> tuple[int, str | None] | None:
    """Lock the lot's row until the transaction ends; its sample size and decision (None: no such lot)."""
    found = db.query(_LOT + db.row_lock, {"lot": lot})
    return (int(found[0][0]), found[0][1]) if found else None


def reserve(db: Db, lot: str) -> None:
    """Take a place in the lot's sample for a run about to start (inside the caller's write transaction).

    Raises:
        UsageError: the lot is unknown or decided, or its sample is complete or being tested on other benches.
    """
    found = lock_lot(db, lot)
    if found is None:
        raise UsageError(N_("no lot {lot!r} in the store; open it with: bench inspect start --lot {name} ...",
                            lot=lot, name=lot))
    sample, decision = found
    if decision is not None:
        raise UsageError(N_("lot {lot} is already decided: {decision}; no more units are tested for it",
                            lot=lot, decision=decision))
    tested = int(db.query(_TAKEN, {"lot": lot})[0][0])
    running = int(db.query(_RUNNING, {"lot": lot})[0][0])
    if tested + running >= sample:
        raise UsageError(N_("lot {lot}: its sample of {sample} unit(s) is complete or being tested ({tested} tested, "
                            "{running} running on other benches); no more units are tested for it",
                            lot=lot, sample=sample, tested=tested, running=running))
