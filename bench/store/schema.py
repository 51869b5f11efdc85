"""The store's tables (SQLAlchemy Core) and its numbered migrations.

The schema is described once, here, as the tables of the *current* version; each
migration is a function that brings a database from version ``n - 1`` to ``n``.
``schema_version`` holds one row per applied migration. See ``docs/store.md`` for the
policy (how to add version 2).

Times are stored in UTC: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, ISO text on SQLite
(see :class:`UtcDateTime`), so they sort and compare correctly on both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
    text,
)

from bench.store import langcols, totals
from bench.store.queries import SCHEMA_VERSION

if TYPE_CHECKING:
    from bench.store.db import Db

_LOG = logging.getLogger(__name__)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, always stored and returned in UTC.

    SQLite has no time zone type: the value is stored as naive UTC text and given back
    its ``UTC`` tzinfo on the way out. PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC (naive for SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only makes INTEGER PRIMARY KEY columns rowid aliases (autoincrement); BIGINT on PostgreSQL.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UtcDateTime, nullable=False),
    Column("description", Text, nullable=False),
)

stations = Table(
    "stations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(200), nullable=False),
    Column("serial", String(200), nullable=False),
    UniqueConstraint("model", "serial", name="uq_units_model_serial"),
    Index("ix_units_serial", "serial"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),  # the run's uuid, as text
    Column("unit_id", ForeignKey("units.id"), nullable=True),
    Column("unit_hw_revision", String(200), nullable=False, default=""),
    Column("unit_firmware", String(200), nullable=False, default=""),
    Column("station_id", ForeignKey("stations.id"), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("plan_version", String(100), nullable=False),
    Column("plan_hash", String(128), nullable=False),
    Column("lot", String(200), nullable=True),
    Column("scenario", String(200), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("verdict", String(16), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("pid", Integer, nullable=True),
    # version 4: with pid and hostname, who owns a RUNNING run (drivers/owner.py): pid reuse, reboots
    Column("pid_start", BigInteger, nullable=True),  # the process's start, clock ticks after boot
    Column("boot_id", String(64), nullable=True),
    Column("hostname", String(255), nullable=True),
    Column("bench_version", String(50), nullable=False, default=""),
    Column("slot", Integer, nullable=True),  # version 6: the fixture slot on a multi-up station
    Column("case_id", ForeignKey("cases.id"), nullable=True),  # version 7: the repair case it belongs to
    Column("lang", String(16), nullable=False, server_default="en"),  # version 9: the run's language (its reports')
    Column("summary_text", Text, nullable=True),  # version 9: the summary as a translatable text (JSON)
    Index("ix_runs_unit_started", "unit_id", "started_at"),
    Index("ix_runs_started", "started_at"),
    Index("ix_runs_station_started", "station_id", "started_at"),
    Index("ix_runs_lot", "lot"),  # version 2: a lot's units (incoming inspection)
    Index("ix_runs_case", "case_id"),  # version 7: a case's runs
    # Only the open runs (what mark_abandoned looks for): a partial index, tiny and exact.
    Index(
        "ix_runs_running",
        "hostname",
        sqlite_where=text("verdict = 'RUNNING'"),
        postgresql_where=text("verdict = 'RUNNING'"),
    ),
)

steps = Table(
    "steps",
    metadata,
    Column("id", _BigId, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("check_name", String(200), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("fault", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("log", Text, nullable=False),  # JSON array of lines
    Column("message_text", Text, nullable=True),  # version 9: the message as a translatable text (JSON)
    UniqueConstraint("run_id", "idx", name="uq_steps_run_idx"),
)

measurements = Table(
    "measurements",
    metadata,
    Column("id", _BigId, primary_key=True),
    Column("step_id", ForeignKey("steps.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("value_json", Text, nullable=False),
    Column("value_num", Float, nullable=True),  # the value when it is a finite number (trends)
    Column("unit", String(50), nullable=True),
    Column("limit_json", Text, nullable=True),
    Column("limit_min", Float, nullable=True),
    Column("limit_max", Float, nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("fault", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("measured_at", UtcDateTime, nullable=False),  # the step's start: trends order by it
    Column("model", String(200), nullable=True),  # version 3: the unit's model, for trends by model
    Column("message_text", Text, nullable=True),  # version 9
    UniqueConstraint("step_id", "seq", name="uq_measurements_step_seq"),
    Index("ix_measurements_name_at", "name", "measured_at"),
    Index("ix_measurements_name_model_at", "name", "model", "measured_at", "id"),  # version 3
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", _BigId, primary_key=True),
    Column("step_id", ForeignKey("steps.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("name", String(255), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
    UniqueConstraint("step_id", "seq", name="uq_attachments_step_seq"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", _BigId, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("fault", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("part", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("in_unit", Boolean, nullable=False),
    Column("steps", Text, nullable=False),  # JSON array
    Column("consequences", Text, nullable=False),  # JSON array
    Column("texts", Text, nullable=True),  # version 9: {"title"|"part"|"action": translatable text JSON}
    UniqueConstraint("run_id", "seq", name="uq_findings_run_seq"),
    Index("ix_findings_fault", "fault"),
)

# Version 2: incoming inspection lots (ISO 2859-1 sampling; bench/lots/store.py).
lots = Table(
    "lots",
    metadata,
    Column("id", String(200), primary_key=True),  # the lot number runs carry in runs.lot
    Column("supplier", String(200), nullable=False),
    Column("part", String(200), nullable=False),
    Column("lot_size", Integer, nullable=False),
    Column("aql", Float, nullable=False),
    Column("level", String(8), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("plan_file", Text, nullable=False),
    Column("code_letter", String(2), nullable=False),
    Column("sample_size", Integer, nullable=False),
    Column("ac", Integer, nullable=False),
    Column("re", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # OPEN, DECIDED
    Column("decision", String(16), nullable=True),  # ACCEPT, REJECT
    Column("inspector", String(200), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Index("ix_lots_supplier_part", "supplier", "part", "decided_at"),
)

# Version 3: summary rows kept as runs finish (bench/store/totals.py), so stats over every run is a few rows.
run_totals = Table(
    "run_totals",
    metadata,
    Column("model", String(200), primary_key=True),  # '' for runs without a unit
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("verdict", String(16), primary_key=True),
    Column("runs", BigInteger, nullable=False),
    Column("firsts", BigInteger, nullable=False),  # runs that were their unit's first judged (not ABORTED) run
    Column("firsts_here", BigInteger, nullable=False),  # ... its first judged run at this station
    Column("duration_us", BigInteger, nullable=False),
)

fault_totals = Table(
    "fault_totals",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("fault", String(64), primary_key=True),
    Column("runs", BigInteger, nullable=False),  # FAIL runs showing this fault code
)

# Version 7: repair cases (bench/cases/store.py): a unit from intake to sign-off, and what was done to it.
cases = Table(
    "cases",
    metadata,
    Column("id", _BigId, primary_key=True),  # shown as C<id>
    Column("serial", String(200), nullable=False),
    Column("model", String(200), nullable=True),
    Column("complaint", Text, nullable=False),
    Column("customer_ref", String(200), nullable=True),
    Column("last_worked", Text, nullable=True),  # as the customer said it
    Column("software_update", Text, nullable=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # open, closed
    Column("closed_at", UtcDateTime, nullable=True),
    Column("result", String(16), nullable=True),  # repaired, unrepaired, returned
    Column("close_reason", Text, nullable=True),
    Index("ix_cases_serial", "serial", "opened_at"),
    Index("ix_cases_status", "status", "opened_at"),
    # One open case per unit, even when two PostgreSQL stations open one at the same moment.
    Index("uq_cases_open_serial", "serial", unique=True, sqlite_where=text("status = 'open'"),
          postgresql_where=text("status = 'open'")),
)

case_repairs = Table(
    "case_repairs",
    metadata,
    Column("id", _BigId, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("technician", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("part_number", String(200), nullable=True),
    Column("note", Text, nullable=False),
    Index("ix_case_repairs_case", "case_id", "at"),
)

_DATA_TABLES = (stations, units, cases, runs, steps, measurements, attachments, findings, lots, run_totals, fault_totals,
                case_repairs)


def _baseline(conn: Connection) -> None:
    """Create every table and index of the *current* schema (an empty database only)."""
    for table in _DATA_TABLES:
        table.create(conn)


#: The migrations, in order: ``MIGRATIONS[n - 1]`` brings an existing database from version
#: ``n - 1`` to ``n``. Version 1 is the baseline. An empty database is not walked through them:
#: it gets the current tables above (:func:`_baseline`) and every version stamped as applied,
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


def _big_id(conn: Connection) -> str:
    """An autoincrement integer primary key, as ``_BigId`` creates it."""
    return "BIGSERIAL NOT NULL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER NOT NULL PRIMARY KEY"


def _id_type(conn: Connection) -> str:
    return "BIGINT" if conn.dialect.name == "postgresql" else "INTEGER"


def _ts(conn: Connection) -> str:
    return "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"


MIGRATIONS: tuple[tuple[str, Callable[[Connection], None]], ...] = (
    ("baseline: stations, units, runs, steps, measurements, attachments, findings", _baseline),
    ("lots (incoming inspection) and an index on runs.lot", _v2),
    ("measurements.model for trends by model; run_totals and fault_totals for stats", _v3),
    ("runs.pid_start and runs.boot_id: who owns a RUNNING run, beyond its pid", _v4),
    ("run_totals recomputed: an ABORTED run is not a unit's first run for the first-pass yield", _v5),
    ("runs.slot: the fixture slot on a multi-up station", _v6),
    ("repair cases: cases, case_repairs, runs.case_id", _v7),
    ("fleet: heartbeats and day summary rows (placeholder until the fleet's version 8 lands)", langcols.v8),
    ("languages: runs.lang, and translatable texts beside the English of messages, findings, summaries", langcols.v9),
)
#: Migrations after which the summary rows are recomputed from the runs (they changed what they count).
_REBUILDS = frozenset({3, 5})

LATEST = len(MIGRATIONS)
if LATEST != SCHEMA_VERSION:  # pragma: no cover - caught by the first test that opens a store
    raise RuntimeError(f"bench.store.queries.SCHEMA_VERSION is {SCHEMA_VERSION}, the migrations reach {LATEST}")


def current_version(conn: Connection) -> int:
    """The highest applied version (0 for an empty database; ``schema_version`` must exist)."""
    from sqlalchemy import func

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
        raise RuntimeError(f"store schema version {have} is newer than this bench supports ({LATEST})")
    applied: list[int] = []
    now = datetime.now(UTC)
    if have == 0:
        _LOG.info("store: creating schema version %d", LATEST)
        _baseline(conn)
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
