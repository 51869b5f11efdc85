"""The run store: every run, step, measurement and finding, in SQLite or PostgreSQL.

Modules, by job (``docs/store.md``):

* :mod:`bench.store.engine`: :class:`~bench.store.engine.Store`, the store through SQLAlchemy
  (any URL; creates and migrates the schema; PostgreSQL);
* :mod:`bench.store.sqlite`: SQLite settings (WAL, ``synchronous``), the URL of a SQLite file,
  and :class:`~bench.store.sqlite.SqliteStore`, the same store on ``sqlite3`` alone;
* :mod:`bench.store.connect`: which of the two a command gets (:func:`~bench.store.connect.open_store`);
* :mod:`bench.store.schema`: the tables; :mod:`bench.store.migrations`: their numbered migrations;
* :mod:`bench.store.writes` and :mod:`bench.store.queries`: the run path's writes and every read,
  as plain SQL both databases run; :mod:`bench.store.totals`: the summary rows behind ``stats``;
  :mod:`bench.store.rows`: records to rows and back; :mod:`bench.store.base`: the methods both stores share;
* :mod:`bench.store.dashboard`: the fleet dashboard's reads; :mod:`bench.store.heartbeat`: a bench's heartbeat;
* :mod:`bench.store.history`: what the queries return and :class:`RunHistory`, the read-only
  view that reports take.
* :mod:`bench.store.buffered`: a PostgreSQL store with the outbox behind it (a bench that loses
  its database keeps testing); :mod:`bench.store.outbox`: where that outbox lives;
  :mod:`bench.store.sync`: ``bench sync``, uploading it; :mod:`bench.store.lotplaces`: a lot's
  sample taken one place at a time under the lot's row lock.

Importing this package is cheap: it never loads SQLAlchemy (only :mod:`bench.store.engine`,
:mod:`bench.store.schema` and :mod:`bench.store.migrations` do).
"""

from __future__ import annotations

from bench.store.history import RunHistory, RunNotFoundError, RunSummary, Stats, TrendPoint

__all__ = ["RunHistory", "RunNotFoundError", "RunSummary", "Stats", "TrendPoint"]
