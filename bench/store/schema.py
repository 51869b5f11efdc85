"""The store's tables (SQLAlchemy Core), as the *current* schema version has them.

The schema is described once, here; :mod:`bench.store.migrations` holds the numbered
migrations, each a function that brings a database from version ``n - 1`` to ``n``.
``schema_version`` holds one row per applied migration. See ``docs/store.md`` for the
policy (how to add a version).

Times are stored in UTC: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, ISO text on SQLite
(see :class:`UtcDateTime`), so they sort and compare correctly on both.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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
    text,
)

from bench.store.queries import SCHEMA_VERSION

_LOG = logging.getLogger(__name__)

#: The schema version these tables are (:mod:`bench.store.migrations` brings older stores to it).
LATEST = SCHEMA_VERSION


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
    Column("model", String(200), nullable=True),  # version 8: the unit's model, for a model's newest runs
    Column("lang", String(16), nullable=False, server_default="en"),  # version 9: the run's language (its reports')
    Column("summary_text", Text, nullable=True),  # version 9: the summary as a translatable text (JSON)
    Index("ix_runs_unit_started", "unit_id", "started_at"),
    Index("ix_runs_started", "started_at"),
    Index("ix_runs_station_started", "station_id", "started_at", "id"),  # version 8: with id (a bench's newest)
    Index("ix_runs_model_started", "model", "started_at", "id"),  # version 8: a model's newest runs
    # version 2: a lot's units (incoming inspection); version 8: covering what a lot's progress reads
    Index("ix_runs_lot", "lot", "verdict", "unit_id", "id"),
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
    Index("ix_lots_state_opened", "state", "opened_at"),  # version 8: the dashboard's open lots, newest first
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

# Version 8: the fleet (bench/store/dashboard.py). The same summary rows per UTC day of the run's start.
day_totals = Table(
    "day_totals",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC) of the run's start
    Column("model", String(200), primary_key=True),
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("verdict", String(16), primary_key=True),
    Column("runs", BigInteger, nullable=False),
    Column("firsts", BigInteger, nullable=False),  # as in run_totals, counted on the day of that first run
    Column("firsts_here", BigInteger, nullable=False),
    Index("ix_day_totals_model", "model", "day"),
    Index("ix_day_totals_station", "station_id", "day"),
)

day_fault_totals = Table(
    "day_fault_totals",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("fault", String(64), primary_key=True),
    Column("runs", BigInteger, nullable=False),
    Index("ix_day_fault_totals_model", "model", "day"),
    Index("ix_day_fault_totals_station", "station_id", "day"),
)

# Version 8: the day rows rolled up per kind: the whole fleet (kind '', name ''), a model (kind 'model')
# or a bench (kind 'station', its name; ``firsts`` is then day_totals.firsts_here): a window of days
# reads days x models or days x benches rows, never days x models x benches.
day_yield = Table(
    "day_yield",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("runs", BigInteger, nullable=False),  # finished runs
    Column("passed", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),  # the rest were INCOMPLETE, ERROR or ABORTED
    Column("firsts", BigInteger, nullable=False),
    Column("first_passed", BigInteger, nullable=False),
    Index("ix_day_yield_name", "kind", "name", "day"),
)

day_pareto = Table(
    "day_pareto",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("fault", String(64), primary_key=True),
    Column("runs", BigInteger, nullable=False),
    Index("ix_day_pareto_name", "kind", "name", "day"),
)

# Version 8: one row per bench (station name and host), rewritten by its heartbeat (bench/store/heartbeat.py).
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("station", String(200), primary_key=True),
    Column("host", String(255), primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("bench_version", String(50), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),  # the process's start
    Column("last_seen", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # idle, running, stopped
    Column("run_id", String(64), nullable=True),
    Column("doing", Text, nullable=False),
    Column("slots", Integer, nullable=False),
)

_DATA_TABLES = (stations, units, cases, runs, steps, measurements, attachments, findings, lots, run_totals, fault_totals,
                case_repairs, day_totals, day_fault_totals, day_yield, day_pareto, heartbeats)


def baseline(conn: Connection) -> None:
    """Create every table and index of the *current* schema (an empty database only)."""
    for table in _DATA_TABLES:
        table.create(conn)
    serial_index(conn)


def serial_index(conn: Connection) -> None:
    """Version 8: serials by case-insensitive prefix (the dashboard's search), in byte order on PostgreSQL.

    A range on ``lower(serial) COLLATE "C"`` is a prefix match whatever the database's collation
    (a language's collation orders ``AB-1`` and ``AB1`` by letters first); SQLite compares bytes already.
    """
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    conn.execute(text(f"CREATE INDEX ix_units_serial_lower ON units ((lower(serial){collate}), model)"))
