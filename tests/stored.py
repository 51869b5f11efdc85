"""Put a finished run record into a store the way the runner does (a helper module for tests)."""

from __future__ import annotations

from bench.record import RunRecord, Verdict
from bench.store.engine import Store


def store_run(store: Store, rec: RunRecord) -> RunRecord:
    """Start the run, add each step, and finish it (unless it is still RUNNING); returns ``rec``."""
    store.start_run(rec)
    for step in rec.steps:
        store.add_step(rec.run_id, step)
    if rec.verdict is not Verdict.RUNNING:
        assert rec.ended_at is not None
        store.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)
    return rec


#: Takes a current store back to schema version 3 as released (what migrations 4 to 6 added, removed).
TO_VERSION_3 = (
    "ALTER TABLE runs DROP COLUMN slot; ALTER TABLE runs DROP COLUMN pid_start; ALTER TABLE runs DROP COLUMN boot_id; "
    "DELETE FROM schema_version WHERE version >= 4;"
)
#: Takes a current SQLite store back to schema version 2 as released (what migrations 3 and 4 added, removed).
TO_VERSION_2 = TO_VERSION_3 + (
    "DROP TABLE run_totals; DROP TABLE fault_totals; DROP INDEX ix_measurements_name_model_at; "
    "ALTER TABLE measurements DROP COLUMN model; DELETE FROM schema_version WHERE version = 3;"
)
