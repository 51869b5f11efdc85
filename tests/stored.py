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


#: What schema version 9 (languages) added, by table.
V9_COLUMNS = (("runs", "lang"), ("runs", "summary_text"), ("steps", "message_text"), ("measurements", "message_text"),
              ("findings", "texts"))
#: Takes a version 8 store back to schema version 7 as released (what migration 8, the fleet's, added, removed).
TO_VERSION_7 = (
    "DROP TABLE day_totals; DROP TABLE day_fault_totals; DROP TABLE day_yield; DROP TABLE day_pareto; "
    "DROP TABLE heartbeats; DROP INDEX ix_units_serial_lower; "
    "DROP INDEX ix_runs_model_started; DROP INDEX ix_lots_state_opened; ALTER TABLE runs DROP COLUMN model; "
    "DROP INDEX ix_runs_station_started; CREATE INDEX ix_runs_station_started ON runs (station_id, started_at); "
    "DROP INDEX ix_runs_lot; CREATE INDEX ix_runs_lot ON runs (lot); "
    "DELETE FROM schema_version WHERE version >= 8;"
)


def to_version_8(url: str) -> None:
    """Take a current store (SQLAlchemy URL, SQLite or PostgreSQL) back to schema version 8 as released."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table, column in V9_COLUMNS:
                conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 9"))
    finally:
        engine.dispose()


def to_version_7(url: str) -> None:
    """Take a current store (SQLAlchemy URL, SQLite or PostgreSQL) back to schema version 7 as released."""
    import sqlalchemy as sa

    to_version_8(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in TO_VERSION_7.split(";"):
                if statement.strip():
                    conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def to_version_6(url: str) -> None:
    """Take a current store (SQLAlchemy URL, SQLite or PostgreSQL) back to schema version 6 as released.

    SQLite cannot drop a column named in a table-level foreign key: the constraint is taken out of
    the table's stored definition first (``writable_schema``), then the column dropped.
    """
    import sqlite3

    import sqlalchemy as sa

    to_version_7(url)
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        assert path
        con = sqlite3.connect(path, isolation_level=None)
        (ddl,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'").fetchone()
        start = ddl.index("FOREIGN KEY(case_id)")
        cut = ddl[:start].rstrip().rstrip(",") + ddl[ddl.index(")", ddl.index("REFERENCES cases", start)) + 1:]
        con.execute("PRAGMA writable_schema = ON")
        con.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'runs'", (cut,))
        con.execute("PRAGMA writable_schema = OFF")
        con.close()
        con = sqlite3.connect(path, isolation_level=None)
        con.executescript("BEGIN; DROP INDEX ix_runs_case; ALTER TABLE runs DROP COLUMN case_id; "
                          "DROP TABLE case_repairs; DROP TABLE cases; DELETE FROM schema_version WHERE version >= 7; "
                          "COMMIT;")
        con.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for sql in ("ALTER TABLE runs DROP COLUMN case_id", "DROP TABLE case_repairs", "DROP TABLE cases",
                        "DELETE FROM schema_version WHERE version >= 7"):
                conn.execute(sa.text(sql))
    finally:
        engine.dispose()


#: Takes a version 6 store back to schema version 3 as released (what migrations 4 to 6 added, removed).
TO_VERSION_3 = (
    "ALTER TABLE runs DROP COLUMN slot; ALTER TABLE runs DROP COLUMN pid_start; ALTER TABLE runs DROP COLUMN boot_id; "
    "DELETE FROM schema_version WHERE version >= 4;"
)
#: Takes a version 6 SQLite store back to schema version 2 as released (what migrations 3 and 4 added, removed).
TO_VERSION_2 = TO_VERSION_3 + (
    "DROP TABLE run_totals; DROP TABLE fault_totals; DROP INDEX ix_measurements_name_model_at; "
    "ALTER TABLE measurements DROP COLUMN model; DELETE FROM schema_version WHERE version = 3;"
)
