"""The run store through SQLAlchemy: any URL, creates and migrates the schema, PostgreSQL.

One :class:`Store` per process (or thread) and station. The runner calls
:meth:`Store.start_run`, then :meth:`Store.add_step` as each step ends (one committed
transaction per step, so ``kill -9`` loses nothing already measured), then
:meth:`Store.finish_run`. On the next start :meth:`Store.mark_abandoned` turns the runs
of crashed processes into ABORTED. History, trends and yield are queries on the store.

The URL chooses the backend (``docs/store.md``):

* ``None``: SQLite file ``bench.db`` in ``platformdirs.user_data_dir("bench")``;
* ``sqlite:///path/to/file.db`` (``?synchronous=normal`` and the other levels of
  :data:`bench.store.sqlite.SYNCHRONOUS`; ``full`` by default);
* ``postgresql://user:pass@host/db`` (driven by psycopg 3).

Every read and write is the plain SQL of :mod:`bench.store.queries` and
:mod:`bench.store.writes`: on SQLite it runs on the raw ``sqlite3`` connection (as
:class:`bench.store.sqlite.SqliteStore` does without SQLAlchemy), on PostgreSQL on psycopg's
(:mod:`bench.store.pg`). SQLAlchemy's own job here is the URL, the connection and the schema
(migrations run through its ``text()``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from bench.errors import EquipmentError, UsageError
from bench.store.base import StoreBase
from bench.store.history import RunNotFoundError, RunSummary, Stats, TrendPoint
from bench.store.migrations import migrate
from bench.store.pg import PgDb
from bench.store.rows import aware_time
from bench.store.sqlite import (
    SQLITE_BUSY_TIMEOUT_MS,
    SqliteDb,
    check_sqlite_path,
    configure,
    default_url,
    one_line,
    synchronous_level,
)
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: PostgreSQL connection timeout (seconds).
PG_CONNECT_TIMEOUT_S = 10
#: A PostgreSQL connection whose sent data goes unacknowledged this long (seconds) is lost.
PG_LOST_AFTER_S = 10
#: Any constant: the advisory lock that serialises migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x62656E6368  # "bench"

_SCHEMES = ("sqlite", "postgresql")


def parse_url(url: str) -> URL:
    """Check a store URL and pick the driver (psycopg 3 for PostgreSQL).

    Raises:
        UsageError: the URL is malformed, names another kind of database, or asks for an
            unknown ``synchronous`` level (a SQLite setting only).
    """
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise UsageError(N_("bad store URL {url!r}: expected sqlite:///path or postgresql://...", url=url)) from exc
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name() if "+" in parsed.drivername else ""
    if backend == "postgres":
        backend = "postgresql"
    shown = parsed.render_as_string(hide_password=True)
    if backend == "sqlite" and driver in ("", "pysqlite"):
        # from the text itself: make_url drops an empty "synchronous=", which is still a mistake
        synchronous_level(dict(parse_qsl(url.partition("?")[2], keep_blank_values=True)), shown)
        return parsed.set(drivername="sqlite")
    if backend == "postgresql" and driver in ("", "psycopg"):
        if "synchronous" in parsed.query:
            raise UsageError(N_("bad store URL {url!r}: synchronous= is a SQLite setting (PostgreSQL commits are durable by its own synchronous_commit)", url=shown))
        return parsed.set(drivername="postgresql+psycopg")
    raise UsageError(N_("bad store URL {url!r}: unknown scheme {scheme!r} (known: {known})", url=shown, scheme=parsed.drivername, known=', '.join(_SCHEMES)))


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        # A database host that drops off the network (no RST) fails a write within seconds rather
        # than the kernel's minutes, so the run goes on into the outbox (bench.store.buffered).
        return create_engine(url, connect_args={
            "connect_timeout": PG_CONNECT_TIMEOUT_S, "tcp_user_timeout": PG_LOST_AFTER_S * 1000,
            "keepalives": 1, "keepalives_idle": PG_LOST_AFTER_S, "keepalives_interval": 2, "keepalives_count": 3})
    level = synchronous_level(url.query, url.render_as_string(hide_password=True))
    engine = create_engine(url.difference_update_query(["synchronous"]),
                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        configure(dbapi_conn, level)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that read first
        # would fail with SQLITE_BUSY instead of waiting when another process writes.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")

    return engine


class _SaDb:
    """The store's plain SQL through a SQLAlchemy connection (PostgreSQL; and migrations on SQLite)."""

    def __init__(self, conn: Connection, url: str) -> None:
        self.conn = conn
        self.url = url
        self.time = aware_time if conn.dialect.name != "sqlite" else SqliteDb.time
        self._returning = conn.dialect.name == "postgresql"
        self.row_lock = " FOR UPDATE" if self._returning else ""

    def query(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Run a SELECT; all its rows."""
        return self.conn.execute(text(sql), dict(params)).all()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement; the rows it changed."""
        return int(self.conn.execute(text(sql), dict(params)).rowcount)

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one INSERT; the new row's id."""
        if self._returning:
            return int(self.conn.execute(text(sql + " RETURNING id"), dict(params)).scalar_one())
        res = self.conn.execute(text(sql), dict(params))
        return int(res.lastrowid)

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""
        self.conn.execute(text(sql), [dict(p) for p in params])

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, committed on exit."""
        with _mapped(self.url), self.conn.begin():
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        """One read transaction (a consistent snapshot)."""
        with _mapped(self.url), self.conn.begin():
            yield


@contextmanager
def _mapped(url: str) -> Iterator[None]:
    """Database errors as the store's: a constraint is a ValueError, a lost database an EquipmentError."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise ValueError(N_("store: {error}", error=one_line(exc))) from exc
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise EquipmentError(N_("store {url}: {error}", url=url, error=one_line(exc))) from exc


class Store(StoreBase):
    """The run store on any URL. Not thread-safe: one per thread.

    Open with :meth:`open`; close with :meth:`close` or use it as a context manager.
    """

    def __init__(self, engine: Engine, conn: Connection, url: str) -> None:
        self._engine = engine
        self._conn = conn
        self.url = url
        self._is_pg = engine.dialect.name == "postgresql"
        raw: Any = conn.connection.dbapi_connection
        db: Any = PgDb(raw, url) if self._is_pg else SqliteDb(raw, url)
        super().__init__(db)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (and create or migrate) the store at ``url``.

        Args:
            url: ``None`` for the per-user SQLite file, ``sqlite:///path``, or ``postgresql://...``.

        Raises:
            UsageError: the URL is malformed, or names a SQLite file in a directory that does not exist.
            EquipmentError: the database cannot be reached, opened or migrated.
        """
        parsed = parse_url(url if url is not None else default_url())
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            check_sqlite_path(Path(parsed.database), shown)
        engine = _make_engine(parsed)
        try:
            conn = engine.connect()
        except sa_exc.SQLAlchemyError as exc:
            engine.dispose()
            raise EquipmentError(N_("cannot open store {url}: {error}", url=shown, error=one_line(exc))) from exc
        try:
            store = cls(engine, conn, shown)
            with store._write() as c:
                if store._is_pg:
                    c.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                applied = migrate(c, _SaDb(c, shown))
        except BaseException as exc:
            conn.close()
            engine.dispose()
            if isinstance(exc, sa_exc.SQLAlchemyError | RuntimeError | ValueError):
                raise EquipmentError(N_("cannot open store {url}: {error}", url=shown, error=one_line(exc))) from exc
            raise
        if applied:
            _LOG.info("store %s: schema now at version %d", shown, applied[-1])
        _LOG.debug("store %s open", shown)
        return store

    def close(self) -> None:
        """Close the connection and release the engine."""
        if getattr(self.db, "lost", False):
            self._conn.invalidate()  # else the pool rolls a dead connection back and logs a traceback
        self._conn.close()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One SQLAlchemy write transaction, committed on exit (``BEGIN IMMEDIATE`` on SQLite)."""
        self._conn.info["immediate"] = True
        try:
            with _mapped(self.url), self._conn.begin():
                self._conn.info["immediate"] = False
                yield self._conn
        finally:
            self._conn.info["immediate"] = False

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One SQLAlchemy read transaction (a consistent snapshot)."""
        try:
            with self._conn.begin():
                yield self._conn
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise EquipmentError(N_("store {url}: {error}", url=self.url, error=one_line(exc))) from exc


__all__ = ["RunNotFoundError", "RunSummary", "Stats", "Store", "TrendPoint", "default_url", "parse_url"]
