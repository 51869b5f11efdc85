"""``bench sync``: upload the runs an outbox holds to their database, without duplicates.

Run ids are uuids, so a run is the same run in both places. For each finished run of the
outbox, oldest first: its row is written unless the database has it (a run that lost the
database mid-run started there), its unit is set, the steps the database lacks are added (by
index: a step the database took just before it went is not written twice), and the run is
finished (verdict, summary, findings; the summary rows by difference, so they stay exact).
Only then is it deleted from the outbox. Each of these writes is idempotent, so a sync that is
interrupted anywhere and run again ends the same. An emptied outbox is removed.

A run still RUNNING in the outbox is left there when its bench is still running it; one whose
process is gone is marked ABORTED first (as every store does on opening).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from bench.errors import EquipmentError
from bench.record import RunRecord, Verdict
from bench.store import outbox
from bench.store.base import StoreBase
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

_OUTBOX_RUNS = "SELECT id, verdict FROM runs ORDER BY started_at, id"
_HAS_RUN = "SELECT verdict FROM runs WHERE id = :id"
_HAS_STEPS = "SELECT idx FROM steps WHERE run_id = :id"
_DELETE_RUN = "DELETE FROM runs WHERE id = :id"


@dataclass
class SyncResult:
    """What one sync did for one database."""

    url: str  # the database, password hidden
    uploaded: list[str] = field(default_factory=list)  # run ids, in upload order
    completed: list[str] = field(default_factory=list)  # of those, runs the database held in part
    steps: int = 0  # steps written to the database
    running: list[str] = field(default_factory=list)  # runs a bench is still writing: left in the outbox
    removed: bool = True  # the outbox is gone (empty and nobody holding it)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"db": self.url, "uploaded": self.uploaded, "completed": self.completed, "steps": self.steps,
                "still_running": self.running, "outbox_removed": self.removed}


def sync(url: str) -> SyncResult:
    """Upload the outbox of the database at ``url``.

    Raises:
        UsageError: a malformed URL.
        EquipmentError: the database cannot be reached (nothing is lost: run it again later).
    """
    from bench.store.connect import open_store

    box = outbox.for_url(url)
    result = SyncResult(box.url)
    if not box.exists:
        return result
    with _one_sync(box):
        with contextlib.closing(open_store(url)) as db_store, contextlib.closing(open_store(box.store_url)) as local:
            with local.db.read():
                found = local.db.query(_OUTBOX_RUNS, {})
            for run_id, verdict in found:
                if verdict == Verdict.RUNNING.value:
                    result.running.append(run_id)
                    continue
                rec = local.get_run(run_id)
                partly, steps = upload(db_store, rec)
                with local.db.write():
                    local.db.execute(_DELETE_RUN, {"id": run_id})
                result.uploaded.append(run_id)
                result.steps += steps
                if partly:
                    result.completed.append(run_id)
                _LOG.info("sync: run %s uploaded to %s (%d step(s))", run_id, box.url, steps)
        result.removed = outbox.remove_if_empty(box, lambda: _empty(box))
    return result


def upload(store: StoreBase, rec: RunRecord) -> tuple[bool, int]:
    """Write a finished run into ``store`` as the outbox holds it; whether the store had it already, and
    how many steps it lacked."""
    db = store.db
    with db.read():
        present = bool(db.query(_HAS_RUN, {"id": rec.run_id}))
        have = {int(idx) for (idx,) in db.query(_HAS_STEPS, {"id": rec.run_id})} if present else set()
    if not present:
        store.start_run(rec)
    if rec.unit is not None:
        store.set_unit(rec.run_id, rec.unit)
    missing = [s for s in rec.steps if s.index not in have]
    for step in missing:
        store.add_step(rec.run_id, step)
    if rec.ended_at is None:  # pragma: no cover - only finished runs are uploaded
        raise EquipmentError(N_("run {run} in the outbox has no end", run=rec.run_id))
    store.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)
    return present, len(missing)


def _one_sync(box: outbox.Outbox) -> contextlib.AbstractContextManager[None]:
    """One ``bench sync`` at a time per outbox (two would both write a run the database lacks)."""
    return outbox.locked(box.path.with_suffix(".sync"), fcntl.LOCK_EX, remove=True)


def _empty(box: outbox.Outbox) -> bool:
    conn = sqlite3.connect(box.path, timeout=60)
    try:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    finally:
        conn.close()
