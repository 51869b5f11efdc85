"""The store's history and trend queries, as plain SQL that SQLite and PostgreSQL both run.

:class:`bench.store.Store` runs them through SQLAlchemy, on either database. ``bench history``
and ``bench trend`` on a SQLite store whose schema is current run them through the standard
library's ``sqlite3`` instead (:func:`open_reader`): importing SQLAlchemy takes about 110 ms,
which is most of those commands' time, while the queries take under a millisecond on a
million steps. A store that is missing, older or newer than this bench goes through
:meth:`Store.open` as before (which creates, migrates or refuses it).

Only the standard library and :mod:`bench.record` are imported here, so the commands
that use this module stay light.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from bench.errors import EquipmentError
from bench.record import Verdict, iso

_LOG = logging.getLogger(__name__)

#: The schema version this bench reads and writes (``bench.storeschema`` checks it has as many migrations).
SCHEMA_VERSION = 2

#: Runs a query: ``(sql with :name parameters, parameters) -> rows``.
Query = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]


@dataclass
class RunSummary:
    """One line of a unit's history."""

    run_id: str
    started_at: datetime
    ended_at: datetime | None
    verdict: Verdict
    plan_name: str
    plan_version: str
    station: str
    model: str | None
    serial: str | None
    faults: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "run_id": self.run_id,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "verdict": self.verdict.value,
            "plan": {"name": self.plan_name, "version": self.plan_version},
            "station": self.station,
            "model": self.model,
            "serial": self.serial,
            "faults": list(self.faults),
        }


@dataclass
class TrendPoint:
    """One numeric value of a measurement, with the limit it was judged against."""

    at: datetime
    serial: str | None
    value: float
    limit_min: float | None
    limit_max: float | None
    passed: bool
    run_id: str
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "at": iso(self.at),
            "serial": self.serial,
            "value": self.value,
            "limit_min": self.limit_min,
            "limit_max": self.limit_max,
            "passed": self.passed,
            "run_id": self.run_id,
            "unit": self.unit,
        }


def utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive UTC text, PostgreSQL a datetime)."""
    t = datetime.fromisoformat(value) if isinstance(value, str) else value
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


# --------------------------------------------------------------------------- the queries

_SUMMARY = """
SELECT r.id, r.started_at, r.ended_at, r.verdict, r.plan_name, r.plan_version, s.name, u.model, u.serial
FROM runs r JOIN units u ON u.id = r.unit_id JOIN stations s ON s.id = r.station_id
WHERE u.serial = :serial {extra}
ORDER BY r.started_at DESC, r.id DESC {limit}
"""


def history(query: Query, serial: str, limit: int | None = None) -> list[RunSummary]:
    """A unit's runs, newest first (every model with that serial)."""
    sql = _SUMMARY.format(extra="", limit="LIMIT :limit" if limit is not None else "")
    params: dict[str, Any] = {"serial": serial}
    if limit is not None:
        params["limit"] = limit
    return _summaries(query, query(sql, params))


def last_pass(query: Query, serial: str) -> RunSummary | None:
    """The unit's newest PASS run, or ``None``."""
    sql = _SUMMARY.format(extra="AND r.verdict = :verdict", limit="LIMIT 1")
    found = _summaries(query, query(sql, {"serial": serial, "verdict": Verdict.PASS.value}))
    return found[0] if found else None


def trend(
    query: Query, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
) -> list[TrendPoint]:
    """The newest ``limit`` numeric values of a measurement, in chronological order."""
    # For one unit, start from the unit and reach its few measurements through their steps;
    # `name || ''` keeps SQLite (no statistics) from walking the whole name index instead.
    # An inner join when filtering on the unit lets the planner start from the unit.
    name_term = "m.name = :name" if serial is None else "(m.name || '') = :name"
    join = "LEFT OUTER JOIN" if model is None and serial is None else "JOIN"
    where = [name_term, "m.value_num IS NOT NULL"]
    params: dict[str, Any] = {"name": measurement, "limit": limit}
    if model is not None:
        where.append("u.model = :model")
        params["model"] = model
    if serial is not None:
        where.append("u.serial = :serial")
        params["serial"] = serial
    sql = f"""
SELECT m.measured_at, u.serial, m.value_num, m.limit_min, m.limit_max, m.passed, s.run_id, m.unit
FROM measurements m JOIN steps s ON s.id = m.step_id JOIN runs r ON r.id = s.run_id
{join} units u ON u.id = r.unit_id
WHERE {' AND '.join(where)}
ORDER BY m.measured_at DESC, m.id DESC LIMIT :limit
"""
    rows = query(sql, params)
    return [
        TrendPoint(utc(at), ser, float(val), lo, hi, bool(ok), rid, unit)
        for at, ser, val, lo, hi, ok, rid, unit in reversed(rows)
    ]


def run_faults(query: Query, run_ids: Iterable[str]) -> dict[str, list[str]]:
    """Distinct fault codes per run: its steps' in step order, then its findings' not yet seen."""
    out: dict[str, list[str]] = {}
    ids = list(run_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        params = {f"r{i}": rid for i, rid in enumerate(chunk)}
        marks = ", ".join(f":{name}" for name in params)
        step_faults = query(
            f"SELECT run_id, fault FROM steps WHERE run_id IN ({marks}) AND fault IS NOT NULL ORDER BY run_id, idx",
            params,
        )
        finding_faults = query(
            f"SELECT run_id, fault FROM findings WHERE run_id IN ({marks}) ORDER BY run_id, seq", params
        )
        for rid, code in [*step_faults, *finding_faults]:
            codes = out.setdefault(rid, [])
            if code not in codes:
                codes.append(code)
    return out


def _summaries(query: Query, rows: Sequence[Sequence[Any]]) -> list[RunSummary]:
    faults = run_faults(query, [r[0] for r in rows])
    return [
        RunSummary(
            run_id=rid,
            started_at=utc(started),
            ended_at=utc(ended) if ended is not None else None,
            verdict=Verdict(verdict),
            plan_name=plan_name,
            plan_version=plan_version,
            station=station,
            model=model,
            serial=serial,
            faults=faults.get(rid, []),
        )
        for rid, started, ended, verdict, plan_name, plan_version, station, model, serial in rows
    ]


# --------------------------------------------------------------------------- the light reader


class RunHistory(Protocol):
    """What ``bench history`` and ``bench trend`` ask of a store."""

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first."""

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run."""

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest values of a measurement, oldest first."""

    def close(self) -> None:
        """Let go of the database."""

    def __enter__(self) -> RunHistory:
        """Use it in a ``with`` block."""

    def __exit__(self, *exc: object) -> None:
        """Close it."""


class SqliteReader:
    """History and trend straight from a current SQLite store, through ``sqlite3`` (no SQLAlchemy)."""

    def __init__(self, conn: sqlite3.Connection, url: str) -> None:
        self._conn = conn
        self.url = url

    def _query(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise EquipmentError(f"store {self.url}: {exc}") from exc

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first (every model with that serial)."""
        with _Snapshot(self._conn):
            return history(self._query, serial, limit)

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run, or ``None``."""
        with _Snapshot(self._conn):
            return last_pass(self._query, serial)

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest ``limit`` numeric values of a measurement, in chronological order."""
        with _Snapshot(self._conn):
            return trend(self._query, measurement, model, serial, limit)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SqliteReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Snapshot:
    """One read transaction, so a query and its follow-ups see the same data."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        self._conn.execute("COMMIT")


def default_url() -> str:
    """``sqlite:///<user data dir>/bench.db``, creating the directory."""
    import platformdirs

    directory = Path(platformdirs.user_data_dir("bench"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'bench.db'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else (left to SQLAlchemy)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = unquote(url[len(prefix) :])
    return Path(path) if path and path != ":memory:" else None


def open_current_sqlite(url: str) -> SqliteReader | None:
    """A reader on the SQLite store at ``url`` when it exists and its schema is current, else None."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.Error as exc:  # not a store (yet): Store.open says what is wrong with it
        _LOG.debug("store %s: not read directly (%s)", url, exc)
        conn.close()
        return None
    if version != SCHEMA_VERSION:
        conn.close()
        return None
    return SqliteReader(conn, url)
