"""The store's plain SQL on PostgreSQL, on psycopg's own connection.

SQLAlchemy opens, creates and migrates the store (:mod:`bench.store.engine`); the run path's writes
and the reads then go to the psycopg connection under it, as :class:`bench.store.sqlite.SqliteDb`
does on SQLite: SQLAlchemy's ``text()`` cost 0.25 ms of CPU per stored step against 0.10 ms here,
which is what bounds sixteen benches on one machine (``make bench``, benchmark 11).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg

from bench.errors import EquipmentError
from bench.store.rows import aware_time
from bench.store.sqlite import one_line
from drivers.i18n import N_

_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` (a literal ``%`` doubled; ``::type`` casts kept)."""
    return _NAME.sub(r"%(\1)s", sql.replace("%", "%%"))


class PgDb:
    """The store's plain SQL on one psycopg connection (not in autocommit: each transaction ours)."""

    row_lock = " FOR UPDATE"
    time = staticmethod(aware_time)

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self.conn = conn
        self.url = url
        #: The connection failed (lost database): not to be handed back to a pool, which would roll it back.
        self.lost = False

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """Run a SELECT; all its rows."""
        with self.conn.cursor() as cur:
            cur.execute(_pyformat(sql), params)
            return cur.fetchall()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement; the rows it changed."""
        with self.conn.cursor() as cur:
            cur.execute(_pyformat(sql), params)
            return cur.rowcount

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one INSERT; the new row's id."""
        with self.conn.cursor() as cur:
            cur.execute(_pyformat(sql + " RETURNING id"), params)
            found = cur.fetchone()
            assert found is not None
            return int(found[0])

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""
        with self.conn.cursor() as cur:
            cur.executemany(_pyformat(sql), params)

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One transaction, committed on exit (rolled back on an error)."""
        try:
            try:
                yield
                self.conn.commit()
            except BaseException:
                with contextlib.suppress(psycopg.Error):  # a lost connection cannot roll back either
                    self.conn.rollback()
                raise
        except psycopg.IntegrityError as exc:
            raise ValueError(N_("store: {error}", error=one_line(exc))) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self.lost = True
            raise EquipmentError(N_("store {url}: {error}", url=self.url, error=one_line(exc))) from exc

    read = write  # READ COMMITTED, as through SQLAlchemy: the caller's statements in one transaction
