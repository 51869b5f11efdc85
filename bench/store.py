"""The run store: every run, step, measurement and finding, in SQLite or PostgreSQL.

One :class:`Store` per process (or thread) and station. The runner calls
:meth:`Store.start_run`, then :meth:`Store.add_step` as each step ends (one committed
transaction per step, so ``kill -9`` loses nothing already measured), then
:meth:`Store.finish_run`. On the next start :meth:`Store.mark_abandoned` turns the runs
of crashed processes into ABORTED. History, trends and yield are queries on the store.

The URL chooses the backend (``docs/store.md``):

* ``None``: SQLite file ``bench.db`` in ``platformdirs.user_data_dir("bench")``;
* ``sqlite:///path/to/file.db``;
* ``postgresql://user:pass@host/db`` (driven by psycopg 3).

SQLite runs in WAL mode with ``synchronous=NORMAL``, a busy timeout and ``BEGIN IMMEDIATE``
for writes, so several stations (processes) can write to one file at once.

No full PAN is ever written: every free text (messages, log lines, string values, summaries,
text attachments) goes through :func:`redact` first.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from bench import storequery
from bench.errors import EquipmentError, UsageError
from bench.measure import Limit, Measurement
from bench.record import AttachmentRecord, Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict, iso
from bench.storequery import RunSummary, TrendPoint, default_url
from bench.storeschema import (
    attachments,
    measurements,
    migrate,
    runs,
    stations,
    steps,
    units,
)
from bench.storeschema import findings as findings_table
from drivers.codecs.pan import redact, redact_data

_LOG = logging.getLogger(__name__)

#: SQLite waits this long for another writer before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 60_000
#: PostgreSQL connection timeout (seconds).
PG_CONNECT_TIMEOUT_S = 10
#: Any constant: the advisory lock that serialises migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x62656E6368  # "bench"

_SCHEMES = ("sqlite", "postgresql")


class RunNotFoundError(UsageError):
    """No stored run has the given id (or id prefix), or the prefix matches several."""


# --------------------------------------------------------------------------- result types


@dataclass
class Stats:
    """Yield figures over the finished runs in a window."""

    runs: int
    units: int
    first_pass_yield: float | None  # share of units whose first run in the window passed
    verdicts: dict[str, int]
    failures_by_fault: list[tuple[str, int]]  # FAIL runs per fault code, descending (pareto)
    mean_duration_s: float | None
    since: datetime | None = None
    model: str | None = None
    station: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "runs": self.runs,
            "units": self.units,
            "first_pass_yield": self.first_pass_yield,
            "verdicts": dict(self.verdicts),
            "failures_by_fault": [{"fault": f, "count": n} for f, n in self.failures_by_fault],
            "mean_duration_s": self.mean_duration_s,
            "since": iso(self.since) if self.since else None,
            "model": self.model,
            "station": self.station,
        }


# --------------------------------------------------------------------------- URLs and engines


def parse_url(url: str) -> URL:
    """Check a store URL and pick the driver (psycopg 3 for PostgreSQL).

    Raises:
        UsageError: the URL is malformed or names another kind of database.
    """
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise UsageError(f"bad store URL {url!r}: expected sqlite:///path or postgresql://...") from exc
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name() if "+" in parsed.drivername else ""
    if backend == "postgres":
        backend = "postgresql"
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise UsageError(
        f"bad store URL {parsed.render_as_string(hide_password=True)!r}: unknown scheme "
        f"{parsed.drivername!r} (known: {', '.join(_SCHEMES)})"
    )


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text or type(orig).__name__


class _SqliteTx:
    """Which BEGIN the next SQLite transaction uses (IMMEDIATE for writes)."""

    def __init__(self) -> None:
        self.immediate = False


def _enable_wal(cur: Any) -> None:
    """Switch a SQLite database to WAL, waiting out other processes doing the same.

    Changing the journal mode needs an exclusive lock and SQLite does not always run the
    busy handler for it, so several processes opening a new store at once would see
    "database is locked"; once the file is in WAL mode the switch is never needed again.
    """
    import sqlite3

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _make_engine(url: URL) -> tuple[Engine, _SqliteTx]:
    tx = _SqliteTx()
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, insertmanyvalues_page_size=1000
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that read first
            # would fail with SQLITE_BUSY instead of waiting when another process writes.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if tx.immediate else "BEGIN")

    else:
        engine = create_engine(url, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S})
    return engine, tx


# --------------------------------------------------------------------------- the store


class Store:
    """A connection to the run store. Not thread-safe: one per thread.

    Open with :meth:`open`; close with :meth:`close` or use it as a context manager.
    """

    def __init__(self, engine: Engine, conn: Connection, tx: _SqliteTx, url: str) -> None:
        self._engine = engine
        self._conn = conn
        self._tx = tx
        self.url = url
        self._is_pg = engine.dialect.name == "postgresql"
        self._station_ids: dict[str, int] = {}
        self._unit_ids: dict[tuple[str, str], int] = {}
        self._hostname = socket.gethostname()
        self._fast = None if self._is_pg else _SqliteInserts(engine.dialect)

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (and create or migrate) the store at ``url``.

        Args:
            url: ``None`` for the per-user SQLite file, ``sqlite:///path``, or ``postgresql://...``.

        Raises:
            UsageError: the URL is malformed.
            EquipmentError: the database cannot be reached, opened or migrated.
        """
        parsed = parse_url(url if url is not None else default_url())
        shown = parsed.render_as_string(hide_password=True)
        engine, tx = _make_engine(parsed)
        try:
            conn = engine.connect()
        except sa_exc.SQLAlchemyError as exc:
            engine.dispose()
            raise EquipmentError(f"cannot open store {shown}: {_one_line(exc)}") from exc
        store = cls(engine, conn, tx, shown)
        try:
            with store._write() as c:
                if store._is_pg:
                    c.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                applied = migrate(c)
        except BaseException as exc:
            store.close()
            if isinstance(exc, sa_exc.SQLAlchemyError | RuntimeError | ValueError):
                raise EquipmentError(f"cannot open store {shown}: {_one_line(exc)}") from exc
            raise
        if applied:
            _LOG.info("store %s: schema now at version %d", shown, applied[-1])
        _LOG.debug("store %s open", shown)
        return store

    def close(self) -> None:
        """Close the connection and release the engine."""
        self._conn.close()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on exit (``BEGIN IMMEDIATE`` on SQLite)."""
        conn = self._conn
        self._tx.immediate = True
        try:
            with conn.begin():
                self._tx.immediate = False
                yield conn
        except BaseException as exc:
            # Ids cached during a rolled-back transaction may name rows that are not there.
            self._station_ids.clear()
            self._unit_ids.clear()
            if isinstance(exc, sa_exc.IntegrityError):
                raise ValueError(f"store: {_one_line(exc)}") from exc
            if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
                raise EquipmentError(f"store {self.url}: {_one_line(exc)}") from exc
            raise
        finally:
            self._tx.immediate = False

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction (a consistent snapshot)."""
        try:
            with self._conn.begin():
                yield self._conn
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise EquipmentError(f"store {self.url}: {_one_line(exc)}") from exc

    # ----------------------------------------------------------------- ids

    def _upsert_id(self, conn: Connection, table: Any, values: dict[str, Any]) -> int:
        if self._is_pg:
            from sqlalchemy.dialects import postgresql

            conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects import sqlite

            conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
        where = [table.c[k] == v for k, v in values.items()]
        return int(conn.execute(select(table.c.id).where(*where)).scalar_one())

    def _station_id(self, conn: Connection, name: str) -> int:
        sid = self._station_ids.get(name)
        if sid is None:
            sid = self._station_ids[name] = self._upsert_id(conn, stations, {"name": name})
        return sid

    def _unit_id(self, conn: Connection, unit: UnitInfo) -> int:
        key = (unit.model, unit.serial)
        uid = self._unit_ids.get(key)
        if uid is None:
            values = {"model": unit.model, "serial": unit.serial}
            uid = self._unit_ids[key] = self._upsert_id(conn, units, values)
        return uid

    # ----------------------------------------------------------------- writes

    def start_run(self, run: RunRecord) -> None:
        """Write the run's row with verdict RUNNING and this process's pid and hostname.

        Steps, findings, ended_at and verdict already on ``run`` are not written: steps come
        through :meth:`add_step`, the end through :meth:`finish_run`.
        """
        with self._write() as conn:
            unit = run.unit
            conn.execute(
                runs.insert(),
                {
                    "id": run.run_id,
                    "unit_id": self._unit_id(conn, unit) if unit else None,
                    "unit_hw_revision": unit.hw_revision if unit else "",
                    "unit_firmware": unit.firmware if unit else "",
                    "station_id": self._station_id(conn, run.station),
                    "operator": run.operator,
                    "plan_name": run.plan_name,
                    "plan_version": run.plan_version,
                    "plan_hash": run.plan_hash,
                    "lot": run.lot,
                    "scenario": run.scenario,
                    "started_at": run.started_at,
                    "ended_at": None,
                    "verdict": Verdict.RUNNING.value,
                    "summary": redact(run.summary),
                    "pid": os.getpid(),
                    "hostname": self._hostname,
                    "bench_version": run.bench_version,
                },
            )
        _LOG.debug("store: run %s started", run.run_id)

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Record which unit a run is testing (known once the unit has identified itself)."""
        with self._write() as conn:
            res = conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    unit_id=self._unit_id(conn, unit),
                    unit_hw_revision=unit.hw_revision,
                    unit_firmware=unit.firmware,
                )
            )
            if res.rowcount != 1:
                raise RunNotFoundError(f"no run {run_id!r} in the store")

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store one finished step with its measurements and attachments, committed on return."""
        conn = self._conn
        m_rows = [_measurement_row(i, m, step.started_at) for i, m in enumerate(step.measurements)]
        a_rows = [
            {"seq": i, "name": a.name, "mime": a.mime, "data": _redact_attachment(a)}
            for i, a in enumerate(step.attachments)
        ]
        step_row = {
            "run_id": run_id,
            "idx": step.index,
            "name": step.name,
            "check_name": step.check,
            "outcome": step.outcome.value,
            "started_at": step.started_at,
            "duration_s": step.duration_s,
            "attempts": step.attempts,
            "fault": step.fault,
            "message": redact(step.message),
            "log": json.dumps([redact(line) for line in step.log], ensure_ascii=False) if step.log else "[]",
        }
        if self._fast is not None:
            self._add_step_sqlite(self._fast, step_row, m_rows, a_rows)
            return
        with self._write():
            res = conn.execute(_INSERT_STEP, step_row)
            step_id = res.inserted_primary_key[0] if res.inserted_primary_key else None
            if m_rows:
                for row in m_rows:
                    row["step_id"] = step_id
                conn.execute(_INSERT_MEASUREMENT, m_rows)
            if a_rows:
                for row in a_rows:
                    row["step_id"] = step_id
                conn.execute(_INSERT_ATTACHMENT, a_rows)

    def _add_step_sqlite(
        self,
        fast: _SqliteInserts,
        step_row: dict[str, Any],
        m_rows: list[dict[str, Any]],
        a_rows: list[dict[str, Any]],
    ) -> None:
        """:meth:`add_step` on the raw sqlite3 connection: same SQL, a third of the overhead."""
        import sqlite3

        raw: Any = self._conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            cur.execute(fast.step.sql, fast.step.params(step_row))
            step_id = cur.lastrowid
            if m_rows:
                for row in m_rows:
                    row["step_id"] = step_id
                cur.executemany(fast.measurement.sql, [fast.measurement.params(r) for r in m_rows])
            if a_rows:
                for row in a_rows:
                    row["step_id"] = step_id
                cur.executemany(fast.attachment.sql, [fast.attachment.params(r) for r in a_rows])
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            if raw.in_transaction:
                raw.rollback()
            if isinstance(exc, sqlite3.IntegrityError):
                raise ValueError(f"store: {_one_line(exc)}") from exc
            raise EquipmentError(f"store {self.url}: {_one_line(exc)}") from exc
        finally:
            cur.close()

    def finish_run(
        self,
        run_id: str,
        verdict: Verdict,
        ended_at: datetime,
        summary: str = "",
        findings: Sequence[Finding] = (),
    ) -> None:
        """Close a run: its verdict, end time, summary and diagnosis (replacing any earlier ones)."""
        with self._write() as conn:
            res = conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(verdict=verdict.value, ended_at=ended_at, summary=redact(summary))
            )
            if res.rowcount != 1:
                raise RunNotFoundError(f"no run {run_id!r} in the store")
            conn.execute(findings_table.delete().where(findings_table.c.run_id == run_id))
            rows = [
                {
                    "run_id": run_id,
                    "seq": i,
                    "fault": f.fault,
                    "title": redact(f.title),
                    "category": f.category,
                    "part": f.part,
                    "action": redact(f.action),
                    "in_unit": f.in_unit,
                    "steps": json.dumps(list(f.steps), ensure_ascii=False),
                    "consequences": json.dumps([redact(c) for c in f.consequences], ensure_ascii=False),
                }
                for i, f in enumerate(findings)
            ]
            if rows:
                conn.execute(findings_table.insert(), rows)
        _LOG.debug("store: run %s finished %s", run_id, verdict.value)

    def mark_abandoned(self) -> list[str]:
        """Mark ABORTED the RUNNING runs of this host whose process is gone.

        A run's ``ended_at`` becomes the end of its last step (its start when it has none).
        Runs of live processes and of other hosts are left alone.

        Returns:
            The ids of the runs marked.
        """
        with self._read() as conn:
            candidates = conn.execute(
                select(runs.c.id, runs.c.pid, runs.c.started_at).where(
                    runs.c.verdict == Verdict.RUNNING.value, runs.c.hostname == self._hostname
                )
            ).all()
        dead = [(rid, started) for rid, pid, started in candidates if pid is None or not _pid_alive(pid)]
        marked: list[str] = []
        for run_id, started in dead:
            with self._write() as conn:
                ends = conn.execute(
                    select(steps.c.started_at, steps.c.duration_s).where(steps.c.run_id == run_id)
                ).all()
                ended = max((s + timedelta(seconds=d) for s, d in ends), default=started)
                res = conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id, runs.c.verdict == Verdict.RUNNING.value)
                    .values(verdict=Verdict.ABORTED.value, ended_at=ended)
                )
            if res.rowcount == 1:
                marked.append(run_id)
                _LOG.warning("store: run %s was abandoned by a dead process: marked ABORTED", run_id)
        return marked

    # ----------------------------------------------------------------- reads

    def get_run(self, run_id: str) -> RunRecord:
        """The whole run, by id or by a unique id prefix.

        Raises:
            RunNotFoundError: no run, or several, match.
        """
        with self._read() as conn:
            rid = self._resolve(conn, run_id)
            row = conn.execute(_RUN_SELECT.where(runs.c.id == rid)).one()
            step_rows = conn.execute(select(steps).where(steps.c.run_id == rid).order_by(steps.c.idx)).all()
            m_rows = conn.execute(
                select(measurements)
                .join(steps, steps.c.id == measurements.c.step_id)
                .where(steps.c.run_id == rid)
                .order_by(measurements.c.step_id, measurements.c.seq)
            ).all()
            a_rows = conn.execute(
                select(attachments)
                .join(steps, steps.c.id == attachments.c.step_id)
                .where(steps.c.run_id == rid)
                .order_by(attachments.c.step_id, attachments.c.seq)
            ).all()
            f_rows = conn.execute(
                select(findings_table).where(findings_table.c.run_id == rid).order_by(findings_table.c.seq)
            ).all()
        by_step: dict[int, StepRecord] = {}
        record_steps: list[StepRecord] = []
        for s in step_rows:
            rec = StepRecord(
                index=s.idx,
                name=s.name,
                check=s.check_name,
                outcome=Outcome(s.outcome),
                started_at=s.started_at,
                duration_s=s.duration_s,
                attempts=s.attempts,
                fault=s.fault,
                message=s.message,
                log=json.loads(s.log),
            )
            by_step[s.id] = rec
            record_steps.append(rec)
        for m in m_rows:
            by_step[m.step_id].measurements.append(_measurement(m))
        for a in a_rows:
            by_step[a.step_id].attachments.append(AttachmentRecord(a.name, a.mime, bytes(a.data)))
        return RunRecord(
            run_id=row.id,
            plan_name=row.plan_name,
            plan_version=row.plan_version,
            plan_hash=row.plan_hash,
            station=row.station,
            operator=row.operator,
            started_at=row.started_at,
            ended_at=row.ended_at,
            verdict=Verdict(row.verdict),
            unit=(
                UnitInfo(row.model, row.serial, row.unit_hw_revision, row.unit_firmware)
                if row.model is not None
                else None
            ),
            steps=record_steps,
            findings=[
                Finding(
                    fault=f.fault,
                    title=f.title,
                    category=f.category,
                    part=f.part,
                    action=f.action,
                    in_unit=bool(f.in_unit),
                    steps=json.loads(f.steps),
                    consequences=json.loads(f.consequences),
                )
                for f in f_rows
            ],
            summary=row.summary,
            lot=row.lot,
            scenario=row.scenario,
            bench_version=row.bench_version,
        )

    def latest_run(self) -> RunRecord | None:
        """The most recently started run, or ``None`` on an empty store."""
        with self._read() as conn:
            rid = conn.execute(
                select(runs.c.id).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1)
            ).scalar()
        return self.get_run(rid) if rid is not None else None

    def _query(self, conn: Connection) -> storequery.Query:
        """Run :mod:`bench.storequery`'s plain SQL on ``conn``."""
        return lambda sql, params: conn.execute(text(sql), params).all()

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first (every model with that serial)."""
        with self._read() as conn:
            return storequery.history(self._query(conn), serial, limit)

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run, or ``None``."""
        with self._read() as conn:
            return storequery.last_pass(self._query(conn), serial)

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest ``limit`` numeric values of a measurement, in chronological order.

        Args:
            measurement: the measurement's name, e.g. ``battery_voltage``.
            model: only units of this model.
            serial: only this unit.
            limit: at most this many points (the newest).
        """
        with self._read() as conn:
            return storequery.trend(self._query(conn), measurement, model, serial, limit)

    def stats(
        self, since: datetime | None = None, model: str | None = None, station: str | None = None
    ) -> Stats:
        """Yield over the finished runs started at or after ``since``.

        ``first_pass_yield`` is the share of units whose first run in the window passed;
        ``failures_by_fault`` counts FAIL runs per fault code (steps' and findings' codes, each
        once per run), most frequent first.
        """
        query = (
            select(runs.c.id, runs.c.unit_id, runs.c.started_at, runs.c.ended_at, runs.c.verdict)
            .select_from(runs)
            .where(runs.c.verdict != Verdict.RUNNING.value)
            .order_by(runs.c.started_at, runs.c.id)
        )
        if since is not None:
            query = query.where(runs.c.started_at >= since)
        if model is not None:
            query = query.join(units, units.c.id == runs.c.unit_id).where(units.c.model == model)
        if station is not None:
            query = query.join(stations, stations.c.id == runs.c.station_id).where(stations.c.name == station)
        with self._read() as conn:
            rows = conn.execute(query).all()
            failed = [r.id for r in rows if r.verdict == Verdict.FAIL.value]
            faults = storequery.run_faults(self._query(conn), failed)
        verdicts = Counter(r.verdict for r in rows)
        first: dict[int, str] = {}
        for r in rows:
            if r.unit_id is not None:
                first.setdefault(r.unit_id, r.verdict)
        fpy = sum(v == Verdict.PASS.value for v in first.values()) / len(first) if first else None
        pareto = Counter(code for rid in failed for code in faults.get(rid, ()))
        durations = [(r.ended_at - r.started_at).total_seconds() for r in rows if r.ended_at is not None]
        return Stats(
            runs=len(rows),
            units=len(first),
            first_pass_yield=fpy,
            verdicts=dict(sorted(verdicts.items())),
            failures_by_fault=sorted(pareto.items(), key=lambda kv: (-kv[1], kv[0])),
            mean_duration_s=sum(durations) / len(durations) if durations else None,
            since=since,
            model=model,
            station=station,
        )

    # ----------------------------------------------------------------- helpers

    def _resolve(self, conn: Connection, run_id: str) -> str:
        if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).scalar() is not None:
            return run_id
        if not run_id:
            raise RunNotFoundError("no run id given")
        found = (
            conn.execute(select(runs.c.id).where(runs.c.id.startswith(run_id, autoescape=True)).limit(6))
            .scalars()
            .all()
        )
        if not found:
            raise RunNotFoundError(f"no run {run_id!r} in the store")
        if len(found) > 1:
            more = ", ..." if len(found) > 5 else ""
            raise RunNotFoundError(f"run id prefix {run_id!r} is ambiguous: {', '.join(found[:5])}{more}")
        return str(found[0])


# --------------------------------------------------------------------------- statements and rows


class _Prepared:
    """One INSERT as plain DB-API SQL (qmark) with the SQLAlchemy type processors of its columns."""

    def __init__(self, table: Any, columns: Sequence[str], dialect: Any) -> None:
        quote = dialect.identifier_preparer.quote
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        self._cols = [(c, table.c[c].type.bind_processor(dialect)) for c in columns]

    def params(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The row as a positional tuple, each value converted as SQLAlchemy would."""
        return tuple(proc(row[c]) if proc else row[c] for c, proc in self._cols)


class _SqliteInserts:
    """The INSERTs of :meth:`Store.add_step`, prepared once for the raw sqlite3 connection."""

    def __init__(self, dialect: Any) -> None:
        self.step = _Prepared(steps, _STEP_COLUMNS, dialect)
        self.measurement = _Prepared(measurements, ("step_id", *_MEASUREMENT_COLUMNS), dialect)
        self.attachment = _Prepared(attachments, ("step_id", "seq", "name", "mime", "data"), dialect)


_STEP_COLUMNS = (
    "run_id",
    "idx",
    "name",
    "check_name",
    "outcome",
    "started_at",
    "duration_s",
    "attempts",
    "fault",
    "message",
    "log",
)
_MEASUREMENT_COLUMNS = (
    "seq",
    "name",
    "value_json",
    "value_num",
    "unit",
    "limit_json",
    "limit_min",
    "limit_max",
    "passed",
    "fault",
    "message",
    "measured_at",
)
_INSERT_STEP = steps.insert()
_INSERT_MEASUREMENT = measurements.insert()
_INSERT_ATTACHMENT = attachments.insert()

_RUN_SELECT = (
    select(runs, stations.c.name.label("station"), units.c.model, units.c.serial)
    .join(stations, stations.c.id == runs.c.station_id)
    .outerjoin(units, units.c.id == runs.c.unit_id)
)

def _measurement_row(seq: int, m: Measurement, at: datetime) -> dict[str, Any]:
    value = m.value
    kind = type(value)
    number: float | None
    # Most values are plain numbers: their JSON is their repr, and there is nothing to redact.
    if (kind is float and math.isfinite(value)) or kind is int:
        value_json, number = repr(value), float(value)
    else:
        value = redact_data(value)
        value_json = json.dumps(value, ensure_ascii=False)
        number = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            else None
        )
    limit = m.limit
    return {
        "seq": seq,
        "name": m.name,
        "value_json": value_json,
        "value_num": number,
        "unit": m.unit,
        "limit_json": _limit_json(limit) if limit else None,
        "limit_min": limit.min if limit else None,
        "limit_max": limit.max if limit else None,
        "passed": m.passed,
        "fault": m.fault,
        "message": redact(m.message),
        "measured_at": at,
    }


_LIMIT_JSON: dict[int, tuple[Limit, str]] = {}


def _limit_json(limit: Limit) -> str:
    """A limit's JSON, remembered per limit object (a plan's steps share theirs)."""
    hit = _LIMIT_JSON.get(id(limit))
    if hit is not None and hit[0] is limit:
        return hit[1]
    text = json.dumps(redact_data(limit.to_dict()), ensure_ascii=False)
    if len(_LIMIT_JSON) >= 4096:
        _LIMIT_JSON.clear()
    _LIMIT_JSON[id(limit)] = (limit, text)
    return text


def _measurement(row: Any) -> Measurement:
    limit = None
    if row.limit_json is not None:
        d = json.loads(row.limit_json)
        if "one_of" in d:
            d["one_of"] = tuple(d["one_of"])
        limit = Limit(**d)
    return Measurement(
        name=row.name,
        value=json.loads(row.value_json),
        unit=row.unit,
        limit=limit,
        passed=bool(row.passed),
        fault=row.fault,
        message=row.message,
    )


def _redact_attachment(a: AttachmentRecord) -> bytes:
    if not a.mime.startswith("text/"):
        return a.data
    try:
        text = a.data.decode("utf-8")
    except UnicodeDecodeError:
        return a.data
    masked = redact(text)
    return a.data if masked == text else masked.encode("utf-8")


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


__all__ = [
    "RunNotFoundError",
    "RunSummary",
    "Stats",
    "Store",
    "TrendPoint",
    "default_url",
    "parse_url",
    "redact",
]
