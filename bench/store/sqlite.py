"""The SQLite side of the store through the standard library's ``sqlite3``: settings, URL, fast paths.

* :func:`configure` sets up every connection to a SQLite store, whoever opened it (WAL, the
  ``synchronous`` level, foreign keys, the busy timeout); :class:`bench.store.engine.Store`
  calls it too.
* :class:`SqliteDb` runs the store's plain SQL on a ``sqlite3`` connection; ``Store`` uses it
  on SQLite after SQLAlchemy has created or migrated the file.
* :class:`SqliteStore` (:func:`open_current`) is the whole store on ``sqlite3`` alone, for a
  SQLite file whose schema is current: ``bench run``, ``bench history`` and ``bench trend``
  then never import SQLAlchemy (about 300 ms with the schema). A missing, older or newer
  store goes through :meth:`Store.open` (which creates, migrates or refuses it).

Durability (``docs/store.md``): ``synchronous=FULL`` by default, so a committed step survives a
power cut, not only a crash of the process; ``sqlite:///path.db?synchronous=normal`` trades that
for speed.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from bench.errors import EquipmentError, UsageError
from bench.store import rows
from bench.store.base import StoreBase
from bench.store.queries import SCHEMA_VERSION
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: SQLite waits this long for another writer before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 60_000
#: The ``synchronous=`` levels a SQLite store URL may ask for; the first is the default.
SYNCHRONOUS = ("full", "normal", "extra", "off")


def synchronous_level(query: Mapping[str, Any], url: str) -> str:
    """The ``synchronous`` level a URL's query asks for (``full`` when it does not say).

    Raises:
        UsageError: an unknown level.
    """
    value = query.get("synchronous", SYNCHRONOUS[0])
    if isinstance(value, tuple | list):
        value = value[-1]
    level = str(value).lower()
    if level not in SYNCHRONOUS:
        raise UsageError(N_("bad store URL {url!r}: synchronous={value} (expected one of: {known}; default {default})", url=url, value=value, known=', '.join(SYNCHRONOUS), default=SYNCHRONOUS[0]))
    return level


def configure(conn: sqlite3.Connection, synchronous: str = SYNCHRONOUS[0]) -> None:
    """Set up a connection to a SQLite store: we BEGIN ourselves, WAL, ``synchronous``, foreign keys."""
    conn.isolation_level = None  # transactions are ours: BEGIN IMMEDIATE for writes
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(conn)
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    conn.execute("PRAGMA foreign_keys=ON")


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a SQLite database to WAL, waiting out other processes doing the same.

    Changing the journal mode needs an exclusive lock and SQLite does not always run the
    busy handler for it, so several processes opening a new store at once would see
    "database is locked"; once the file is in WAL mode the switch is never needed again.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (the driver's own, when SQLAlchemy wrapped it)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text or type(orig).__name__


class SqliteDb:
    """The store's plain SQL on one ``sqlite3`` connection (opened by :func:`configure`'s rules)."""

    time = staticmethod(rows.sqlite_time)
    row_lock = ""  # BEGIN IMMEDIATE: one writer at a time already

    def __init__(self, conn: sqlite3.Connection, url: str) -> None:
        self.conn = conn
        self.url = url

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """Run a SELECT; all its rows."""
        text, names = _positional(sql)
        return self.conn.execute(text, [params[n] for n in names]).fetchall()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement; the rows it changed."""
        text, names = _positional(sql)
        return self.conn.execute(text, [params[n] for n in names]).rowcount

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one INSERT; the new row's id."""
        text, names = _positional(sql)
        rowid = self.conn.execute(text, [params[n] for n in names]).lastrowid
        assert rowid is not None
        return rowid

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""
        text, names = _positional(sql)
        self.conn.executemany(text, [[p[n] for n in names] for p in params])

    def write(self) -> _Transaction:
        """One write transaction: ``BEGIN IMMEDIATE`` takes the write lock up front.

        A deferred transaction that read first would fail with SQLITE_BUSY instead of
        waiting when another process writes.
        """
        return _Transaction(self, "BEGIN IMMEDIATE")

    def read(self) -> _Transaction:
        """One read transaction, so a query and its follow-ups see the same data."""
        return _Transaction(self, "BEGIN")


_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """The SQL with ``?`` for each ``:name``, and the names in order.

    sqlite3 binds ``:name`` parameters by building each name as a Python string and looking it up,
    every time; positional binding costs a third of that, which shows on every stored step.
    The store's SQL has no ``:word`` inside a string literal (that would be taken for a parameter).
    """
    names = tuple(m.group(1) for m in _NAME.finditer(sql))
    return _NAME.sub("?", sql), names


class _Transaction:
    """BEGIN on entry; COMMIT on a clean exit, ROLLBACK otherwise; sqlite3 errors as the store's.

    A class rather than a generator: it runs once per stored step, and this is a third of the cost.
    """

    __slots__ = ("_begin", "_db")

    def __init__(self, db: SqliteDb, begin: str) -> None:
        self._db = db
        self._begin = begin

    def __enter__(self) -> None:
        try:
            self._db.conn.execute(self._begin)
        except sqlite3.Error as exc:
            raise _mapped(exc, self._db.url) from exc

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        conn = self._db.conn
        try:
            if kind is None:
                conn.execute("COMMIT")
                return
        except sqlite3.Error as error:
            exc = error
        if conn.in_transaction:
            conn.rollback()
        if isinstance(exc, sqlite3.Error):
            raise _mapped(exc, self._db.url) from exc


def _mapped(exc: sqlite3.Error, url: str) -> Exception:
    """A constraint is a ValueError (the caller's data); anything else an EquipmentError (the bench's)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return ValueError(N_("store: {error}", error=one_line(exc)))
    return EquipmentError(N_("store {url}: {error}", url=url, error=one_line(exc)))


class SqliteStore(StoreBase):
    """The whole store on ``sqlite3`` alone, for a SQLite file whose schema is current."""

    def __init__(self, conn: sqlite3.Connection, url: str) -> None:
        super().__init__(SqliteDb(conn, url))
        self._conn = conn
        self.url = url

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self


def default_url() -> str:
    """``sqlite:///<user data dir>/bench.db``, creating the directory."""
    import platformdirs

    directory = Path(platformdirs.user_data_dir("bench"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'bench.db'}"


def sqlite_file(url: str) -> tuple[Path, str] | None:
    """The file and ``synchronous`` level of a plain ``sqlite:///path[?synchronous=...]`` URL.

    None for anything else (another database, other parameters, ``:memory:``): left to SQLAlchemy.

    Raises:
        UsageError: an unknown ``synchronous`` level.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path, _, query = url[len(prefix) :].partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    level = synchronous_level(params, url)
    if set(params) - {"synchronous"}:
        return None
    path = unquote(path)
    return (Path(path), level) if path and path != ":memory:" else None


def check_sqlite_path(path: Path, shown: str) -> None:
    """A SQLite store's file can be there: its directory exists and it is not itself a directory.

    SQLite would only say "unable to open database file"; a path typed wrong is the user's
    mistake, not the bench's.

    Raises:
        UsageError: naming the missing directory, or what is in the way.
    """
    parent = path.parent
    if not parent.exists():
        raise UsageError(N_("store {url}: directory {parent} does not exist (create it, or fix the --db path)", url=shown, parent=parent))
    if not parent.is_dir():
        raise UsageError(N_("store {url}: {parent} is not a directory", url=shown, parent=parent))
    if path.is_dir():
        raise UsageError(N_("store {url}: {path} is a directory, not a SQLite file", url=shown, path=path))


def open_current(url: str) -> SqliteStore | None:
    """The store at ``url`` on ``sqlite3`` when it is an existing SQLite file with a current schema, else None.

    Raises:
        UsageError: an unknown ``synchronous`` level in the URL.
    """
    found = sqlite_file(url)
    if found is None or not found[0].is_file():
        return None
    path, level = found
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            configure(conn, level)
            return SqliteStore(conn, url)
    except sqlite3.Error as exc:  # not a store (yet): Store.open says what is wrong with it
        _LOG.debug("store %s: not opened directly (%s)", url, exc)
    conn.close()
    return None
