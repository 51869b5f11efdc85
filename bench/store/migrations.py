"""The store's numbered migrations: each brings a database from schema version ``n - 1`` to ``n``.

The tables of the current version are :mod:`bench.store.schema`'s; an empty database gets them
at once (:func:`bench.store.schema.baseline`). See ``docs/store.md`` for the policy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, text

from bench.store import langcols, totals
from bench.store.schema import LATEST, baseline, schema_version, serial_index
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.db import Db

_LOG = logging.getLogger(__name__)


#: The migrations, in order: ``MIGRATIONS[n - 1]`` brings an existing database from version
#: ``n - 1`` to ``n``. Version 1 is the baseline. An empty database is not walked through them:
#: it gets the current tables above (:func:`baseline`) and every version stamped as applied,
#: so the table definitions in this module are always the truth for a new store.
def _v2(conn: Connection) -> None:
    """Version 1 -> 2: the ``lots`` table and an index on ``runs.lot``."""
    conn.execute(text(
        "CREATE TABLE lots ("
        " id VARCHAR(200) NOT NULL PRIMARY KEY,"
        " supplier VARCHAR(200) NOT NULL,"
        " part VARCHAR(200) NOT NULL,"
        " lot_size INTEGER NOT NULL,"
        " aql FLOAT NOT NULL,"
        " level VARCHAR(8) NOT NULL,"
        " severity VARCHAR(16) NOT NULL,"
        " plan_file TEXT NOT NULL,"
        " code_letter VARCHAR(2) NOT NULL,"
        " sample_size INTEGER NOT NULL,"
        " ac INTEGER NOT NULL,"
        " re INTEGER NOT NULL,"
        " state VARCHAR(16) NOT NULL,"
        " decision VARCHAR(16),"
        " inspector VARCHAR(200) NOT NULL,"
        f" opened_at {_ts(conn)} NOT NULL,"
        f" decided_at {_ts(conn)})"
    ))
    conn.execute(text("CREATE INDEX ix_lots_supplier_part ON lots (supplier, part, decided_at)"))
    conn.execute(text("CREATE INDEX ix_runs_lot ON runs (lot)"))


def _v3(conn: Connection) -> None:
    """Version 2 -> 3: measurements carry their unit's model (trends by model); summary rows for stats."""
    conn.execute(text("ALTER TABLE measurements ADD COLUMN model VARCHAR(200)"))
    conn.execute(text(
        "UPDATE measurements SET model = (SELECT u.model FROM steps s JOIN runs r ON r.id = s.run_id "
        "JOIN units u ON u.id = r.unit_id WHERE s.id = measurements.step_id)"
    ))
    conn.execute(text("CREATE INDEX ix_measurements_name_model_at ON measurements (name, model, measured_at, id)"))
    conn.execute(text(
        "CREATE TABLE run_totals ("
        " model VARCHAR(200) NOT NULL, station_id INTEGER NOT NULL REFERENCES stations (id),"
        " verdict VARCHAR(16) NOT NULL, runs BIGINT NOT NULL, firsts BIGINT NOT NULL, firsts_here BIGINT NOT NULL,"
        " duration_us BIGINT NOT NULL, PRIMARY KEY (model, station_id, verdict))"
    ))
    conn.execute(text(
        "CREATE TABLE fault_totals ("
        " model VARCHAR(200) NOT NULL, station_id INTEGER NOT NULL REFERENCES stations (id),"
        " fault VARCHAR(64) NOT NULL, runs BIGINT NOT NULL, PRIMARY KEY (model, station_id, fault))"
    ))


def _v4(conn: Connection) -> None:
    """Version 3 -> 4: a run's owner is its pid, its start time and its boot (the host was there)."""
    conn.execute(text("ALTER TABLE runs ADD COLUMN pid_start BIGINT"))
    conn.execute(text("ALTER TABLE runs ADD COLUMN boot_id VARCHAR(64)"))


def _v5(conn: Connection) -> None:
    """Version 4 -> 5: no table changes; ``migrate`` recomputes the summary rows (ABORTED runs are no first run)."""


def _v6(conn: Connection) -> None:
    """Version 5 -> 6: ``runs.slot``, the fixture slot of a unit tested on a multi-up station."""
    conn.execute(text("ALTER TABLE runs ADD COLUMN slot INTEGER"))


def _v7(conn: Connection) -> None:
    """Version 6 -> 7: repair cases, their repair records, and ``runs.case_id``."""
    ts, big_id = _ts(conn), _big_id(conn)
    conn.execute(text(
        f"CREATE TABLE cases (id {big_id}, serial VARCHAR(200) NOT NULL, model VARCHAR(200), complaint TEXT NOT NULL,"
        " customer_ref VARCHAR(200), last_worked TEXT, software_update TEXT,"
        f" opened_at {ts} NOT NULL, opened_by VARCHAR(200) NOT NULL, status VARCHAR(16) NOT NULL,"
        f" closed_at {ts}, result VARCHAR(16), close_reason TEXT)"
    ))
    conn.execute(text("CREATE INDEX ix_cases_serial ON cases (serial, opened_at)"))
    conn.execute(text("CREATE INDEX ix_cases_status ON cases (status, opened_at)"))
    conn.execute(text("CREATE UNIQUE INDEX uq_cases_open_serial ON cases (serial) WHERE status = 'open'"))
    conn.execute(text(
        f"CREATE TABLE case_repairs (id {big_id}, case_id {_id_type(conn)} NOT NULL REFERENCES cases (id) ON DELETE CASCADE,"
        f" at {ts} NOT NULL, technician VARCHAR(200) NOT NULL, action VARCHAR(32) NOT NULL,"
        " part_number VARCHAR(200), note TEXT NOT NULL)"
    ))
    conn.execute(text("CREATE INDEX ix_case_repairs_case ON case_repairs (case_id, at)"))
    conn.execute(text(f"ALTER TABLE runs ADD COLUMN case_id {_id_type(conn)} REFERENCES cases (id)"))
    conn.execute(text("CREATE INDEX ix_runs_case ON runs (case_id)"))


def _v8(conn: Connection) -> None:
    """Version 7 -> 8: the fleet: day summary rows, heartbeats, ``runs.model`` and the dashboard's indexes."""
    ts = _ts(conn)
    conn.execute(text(
        "CREATE TABLE day_totals (day VARCHAR(10) NOT NULL, model VARCHAR(200) NOT NULL,"
        " station_id INTEGER NOT NULL REFERENCES stations (id), verdict VARCHAR(16) NOT NULL,"
        " runs BIGINT NOT NULL, firsts BIGINT NOT NULL, firsts_here BIGINT NOT NULL,"
        " PRIMARY KEY (day, model, station_id, verdict))"
    ))
    conn.execute(text(
        "CREATE TABLE day_fault_totals (day VARCHAR(10) NOT NULL, model VARCHAR(200) NOT NULL,"
        " station_id INTEGER NOT NULL REFERENCES stations (id), fault VARCHAR(64) NOT NULL, runs BIGINT NOT NULL,"
        " PRIMARY KEY (day, model, station_id, fault))"
    ))
    for table in ("day_totals", "day_fault_totals"):
        conn.execute(text(f"CREATE INDEX ix_{table}_model ON {table} (model, day)"))
        conn.execute(text(f"CREATE INDEX ix_{table}_station ON {table} (station_id, day)"))
    conn.execute(text(
        "CREATE TABLE day_yield (kind VARCHAR(16) NOT NULL, day VARCHAR(10) NOT NULL, name VARCHAR(200) NOT NULL,"
        " runs BIGINT NOT NULL, passed BIGINT NOT NULL, failed BIGINT NOT NULL, firsts BIGINT NOT NULL,"
        " first_passed BIGINT NOT NULL, PRIMARY KEY (kind, day, name))"
    ))
    conn.execute(text(
        "CREATE TABLE day_pareto (kind VARCHAR(16) NOT NULL, day VARCHAR(10) NOT NULL, name VARCHAR(200) NOT NULL,"
        " fault VARCHAR(64) NOT NULL, runs BIGINT NOT NULL, PRIMARY KEY (kind, day, name, fault))"
    ))
    conn.execute(text("CREATE INDEX ix_day_yield_name ON day_yield (kind, name, day)"))
    conn.execute(text("CREATE INDEX ix_day_pareto_name ON day_pareto (kind, name, day)"))
    conn.execute(text(
        "CREATE TABLE heartbeats (station VARCHAR(200) NOT NULL, host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL,"
        f" bench_version VARCHAR(50) NOT NULL, started_at {ts} NOT NULL, last_seen {ts} NOT NULL,"
        " state VARCHAR(16) NOT NULL, run_id VARCHAR(64), doing TEXT NOT NULL, slots INTEGER NOT NULL,"
        " PRIMARY KEY (station, host))"
    ))
    conn.execute(text("ALTER TABLE runs ADD COLUMN model VARCHAR(200)"))
    conn.execute(text("UPDATE runs SET model = (SELECT u.model FROM units u WHERE u.id = runs.unit_id) "
                      "WHERE unit_id IS NOT NULL"))
    conn.execute(text("DROP INDEX ix_runs_station_started"))
    conn.execute(text("CREATE INDEX ix_runs_station_started ON runs (station_id, started_at, id)"))
    conn.execute(text("CREATE INDEX ix_runs_model_started ON runs (model, started_at, id)"))
    conn.execute(text("CREATE INDEX ix_lots_state_opened ON lots (state, opened_at)"))
    conn.execute(text("DROP INDEX ix_runs_lot"))
    conn.execute(text("CREATE INDEX ix_runs_lot ON runs (lot, verdict, unit_id, id)"))
    serial_index(conn)


def _big_id(conn: Connection) -> str:
    """An autoincrement integer primary key, as ``_BigId`` creates it."""
    return "BIGSERIAL NOT NULL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER NOT NULL PRIMARY KEY"


def _id_type(conn: Connection) -> str:
    return "BIGINT" if conn.dialect.name == "postgresql" else "INTEGER"


def _ts(conn: Connection) -> str:
    return "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"


MIGRATIONS: tuple[tuple[str, Callable[[Connection], None]], ...] = (
    ("baseline: stations, units, runs, steps, measurements, attachments, findings", baseline),
    ("lots (incoming inspection) and an index on runs.lot", _v2),
    ("measurements.model for trends by model; run_totals and fault_totals for stats", _v3),
    ("runs.pid_start and runs.boot_id: who owns a RUNNING run, beyond its pid", _v4),
    ("run_totals recomputed: an ABORTED run is not a unit's first run for the first-pass yield", _v5),
    ("runs.slot: the fixture slot on a multi-up station", _v6),
    ("repair cases: cases, case_repairs, runs.case_id", _v7),
    ("the fleet: day_totals, day_fault_totals, day_yield, day_pareto, heartbeats, runs.model, indexes", _v8),
    ("languages: runs.lang, and translatable texts beside the English of messages, findings, summaries", langcols.v9),
)
#: Migrations after which the summary rows are recomputed from the runs (they changed what they count).
_REBUILDS = frozenset({3, 5, 8})

if len(MIGRATIONS) != LATEST:  # pragma: no cover - caught by the first test that opens a store
    raise RuntimeError(f"bench.store.queries.SCHEMA_VERSION is {LATEST}, the migrations reach {len(MIGRATIONS)}")


def current_version(conn: Connection) -> int:
    """The highest applied version (0 for an empty database; ``schema_version`` must exist)."""
    value: Any = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return int(value or 0)


def migrate(conn: Connection, db: Db) -> list[int]:
    """Apply the pending migrations on ``conn`` (inside the caller's transaction).

    ``db`` runs plain SQL on the same connection: the summary rows of version 3 are
    recomputed from the runs through it (:func:`bench.store.totals.rebuild`).

    The caller holds the write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock
    on PostgreSQL), so two processes opening a new store at once cannot both migrate.

    Returns:
        The versions applied (empty when the database was current).

    Raises:
        RuntimeError: the database is newer than this code knows.
    """
    schema_version.create(conn, checkfirst=True)
    have = current_version(conn)
    if have > LATEST:
        raise RuntimeError(N_("store schema version {have} is newer than this bench supports ({latest})", have=have,
                              latest=LATEST))
    applied: list[int] = []
    now = datetime.now(UTC)
    if have == 0:
        _LOG.info("store: creating schema version %d", LATEST)
        baseline(conn)
        applied = list(range(1, LATEST + 1))
    else:
        for version in range(have + 1, LATEST + 1):
            description, step = MIGRATIONS[version - 1]
            _LOG.info("store: applying schema migration %d (%s)", version, description)
            step(conn)
            applied.append(version)
    if have and _REBUILDS.intersection(applied):
        totals.rebuild(db)
    if applied:
        conn.execute(
            schema_version.insert(),
            [{"version": v, "applied_at": now, "description": MIGRATIONS[v - 1][0]} for v in applied],
        )
    return applied
