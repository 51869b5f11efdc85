"""What the fleet dashboard (``bench serve``) reads: yield, failure pareto, benches, runs in progress, lots.

Every function takes a :class:`~bench.store.db.Db` inside a read (``with db.read():``) and runs plain
SQL both databases take. The yield and pareto figures come from summary rows kept as runs finish
(schema version 8: per day for the fleet, each model and each bench; per day, model and bench for
the two crossed), the bench list from the heartbeat rows: no function
here scans ``steps`` or ``runs`` beyond an index range (each ≤ 100 ms at 10 million stored steps on
PostgreSQL: ``make bench``).

This module fixes the interface the web layer (``bench/web/``) codes against; ``docs/fleet.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.store import queries, rows, totals
from bench.store.db import in_list

if TYPE_CHECKING:
    from bench.store.db import Db, Reads
    from bench.store.history import RunSummary


@dataclass(frozen=True)
class YieldFigure:
    """Finished runs over a window or a day: how many, how many passed, the first-pass yield."""

    runs: int
    passed: int
    failed: int
    incomplete: int  # INCOMPLETE, ERROR and ABORTED
    first_pass_units: int  # units whose first judged run in the window was judged
    first_pass_passed: int  # ... and passed

    @property
    def first_pass_yield(self) -> float | None:
        """Share of first judged runs that passed, ``None`` when there were none."""
        return self.first_pass_passed / self.first_pass_units if self.first_pass_units else None


@dataclass(frozen=True)
class DayYield:
    """One day (UTC) of one model or bench, or of the whole fleet (``key`` ``""``)."""

    day: date
    key: str
    figure: YieldFigure


@dataclass(frozen=True)
class FaultCount:
    """One bar of the failure pareto: a fault code and how many FAIL runs showed it."""

    fault: str
    runs: int


@dataclass(frozen=True)
class BenchStatus:
    """One bench (a station) as its heartbeat last said."""

    name: str
    host: str
    up: bool  # a heartbeat within :data:`HEARTBEAT_STALE_S`
    last_seen: datetime
    state: str  # "idle", "running", "stopped" (said goodbye)
    run_id: str | None  # the run it is on (a multi-up bench: its first open run)
    doing: str  # plan and serials, for people
    slots: int
    bench_version: str


@dataclass(frozen=True)
class RunInProgress:
    """A RUNNING run: where, on what, since when, how far."""

    run_id: str
    station: str
    slot: int | None
    plan_name: str
    model: str | None
    serial: str | None
    started_at: datetime
    steps_done: int


@dataclass(frozen=True)
class LotStatus:
    """An inspection lot: its sample plan and progress."""

    lot: str
    supplier: str
    part: str
    lot_size: int
    sample_size: int
    inspected: int
    defectives: int
    ac: int
    re: int
    state: str  # OPEN, DECIDED
    decision: str | None  # ACCEPT, REJECT


@dataclass(frozen=True)
class Overview:
    """The front page."""

    today: YieldFigure
    week: YieldFigure
    pareto_week: list[FaultCount]
    benches: list[BenchStatus]
    running: list[RunInProgress]
    days: list[DayYield] = field(default_factory=list)  # the last 14 days, whole fleet


#: A bench whose last heartbeat is older than this (seconds) is shown down.
HEARTBEAT_STALE_S = 30.0


def overview(db: Db, now: datetime) -> Overview:
    """The front page at ``now`` (aware UTC): today (UTC day), the last 7 days, benches, runs."""
    today = rows.aware_time(now).date()
    days = yield_by_day(db, today - timedelta(days=13), today)
    week_start = today - timedelta(days=6)
    return Overview(
        today=_sum(d.figure for d in days if d.day == today),
        week=_sum(d.figure for d in days if d.day >= week_start),
        pareto_week=pareto(db, week_start, today),
        benches=benches(db, now),
        running=running(db),
        days=days,
    )


def _sum(figures: Any) -> YieldFigure:
    total = [0] * 6
    for f in figures:
        for i, v in enumerate((f.runs, f.passed, f.failed, f.incomplete, f.first_pass_units, f.first_pass_passed)):
            total[i] += v
    return YieldFigure(*total)


_BY = {"": "''", "model": "t.model", "station": "s.name"}


def yield_by_day(
    db: Db, since: date, until: date, *, by: str = "", model: str | None = None, station: str | None = None
) -> list[DayYield]:
    """One :class:`DayYield` per day in ``[since, until]`` and per key (``by``: ``""``, ``"model"`` or
    ``"station"``), days without runs left out, oldest first.

    ``first_pass_units`` counts the units whose first judged run ever (at the station, when by or
    for a station) started that day: the first-pass yield of the units first tested in the window.
    """
    if by not in _BY:
        raise ValueError(f"yield_by_day: by={by!r} (expected '', 'model' or 'station')")  # i18n: a programming error
    source, key, params = _source("yield", since, until, by, model, station)
    if "day_yield" in source:  # one row per day and name, the verdicts in columns
        sql = f"SELECT t.day, {key}, t.runs, t.passed, t.failed, t.firsts, t.first_passed {source} ORDER BY t.day, t.name"
    else:
        first = "t.firsts_here" if by == "station" or station is not None else "t.firsts"
        group = f"t.day, {key}" if key != "''" else "t.day"  # PostgreSQL refuses GROUP BY ''
        sql = (f"SELECT t.day, {key}, sum(t.runs), sum(CASE WHEN t.verdict = 'PASS' THEN t.runs ELSE 0 END), "
               f"sum(CASE WHEN t.verdict = 'FAIL' THEN t.runs ELSE 0 END), sum({first}), "
               f"sum(CASE WHEN t.verdict = 'PASS' THEN {first} ELSE 0 END) {source} GROUP BY {group} ORDER BY {group}")
    out = []
    days: dict[str, date] = {}  # 90 days by 50 benches are 4,500 rows: each day parsed once
    for day, name, n, passed, failed, firsts, first_passed in db.query(sql, params):
        n, passed, failed, firsts = int(n or 0), int(passed or 0), int(failed or 0), int(firsts or 0)
        if n or firsts:
            when = days.get(day) or days.setdefault(day, date.fromisoformat(day))
            figure = YieldFigure(n, passed, failed, n - passed - failed, firsts, int(first_passed or 0))
            out.append(DayYield(when, str(name), figure))
    return out


def _source(what: str, since: date, until: date, by: str, model: str | None,
            station: str | None) -> tuple[str, str, dict[str, Any]]:
    """``FROM ... WHERE ...`` over the day rows that answer, the key's expression, and the parameters.

    The rolled-up rows (``day_yield``, ``day_pareto``: the fleet, a model or a bench per day) answer
    everything but a model crossed with a bench, which reads ``day_totals`` / ``day_fault_totals``.
    """
    params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    crossed = (model is not None and (station is not None or by == "station")) or (station is not None and by == "model")
    if not crossed:
        kind = "model" if model is not None else "station" if station is not None else by
        params["kind"] = kind
        where = "t.kind = :kind AND t.day >= :since AND t.day <= :until"
        if model is not None or station is not None:
            where += " AND t.name = :name"
            params["name"] = model if model is not None else station
        table = "day_yield" if what == "yield" else "day_pareto"
        return f"FROM {table} t WHERE {where}", "t.name" if by else "''", params
    conds = ["t.day >= :since", "t.day <= :until"]
    totals.narrow(conds, params, model, station)
    table = "day_totals" if what == "yield" else "day_fault_totals"
    return (f"FROM {table} t JOIN stations s ON s.id = t.station_id WHERE {' AND '.join(conds)}", _BY[by], params)


def pareto(
    db: Db, since: date, until: date, *, model: str | None = None, station: str | None = None, limit: int = 10
) -> list[FaultCount]:
    """The most frequent fault codes of FAIL runs between the two days (inclusive), most first."""
    source, _, params = _source("pareto", since, until, "", model, station)
    found = db.query(f"SELECT t.fault, sum(t.runs) {source} GROUP BY t.fault", params)
    counts = sorted(((str(f), int(n or 0)) for f, n in found), key=lambda fn: (-fn[1], fn[0]))
    return [FaultCount(f, n) for f, n in counts if n > 0][:limit]


_BENCHES = (
    "SELECT station, host, last_seen, state, run_id, doing, slots, bench_version FROM heartbeats "
    "ORDER BY station, host"
)


def benches(db: Db, now: datetime) -> list[BenchStatus]:
    """Every bench that ever sent a heartbeat, by name."""
    out = []
    for name, host, seen, state, run_id, doing, slots, version in db.query(_BENCHES, {}):
        last_seen = rows.utc(seen)
        up = (rows.aware_time(now) - last_seen).total_seconds() < HEARTBEAT_STALE_S
        out.append(BenchStatus(name, host, up, last_seen, state, run_id, doing, int(slots), version))
    return out


_RUNNING = (
    "SELECT r.id, s.name, r.slot, r.plan_name, u.model, u.serial, r.started_at, "
    "(SELECT count(*) FROM steps st WHERE st.run_id = r.id) "
    "FROM runs r JOIN stations s ON s.id = r.station_id LEFT OUTER JOIN units u ON u.id = r.unit_id "
    "WHERE r.verdict = 'RUNNING' {extra} ORDER BY r.started_at, r.id"
)


def running(db: Db, *, station: str | None = None) -> list[RunInProgress]:
    """The RUNNING runs, oldest first."""
    sql = _RUNNING.format(extra="AND s.name = :station" if station is not None else "")
    found = db.query(sql, {"station": station} if station is not None else {})
    return [RunInProgress(rid, st, slot, plan, model, serial, rows.utc(started), int(done))
            for rid, st, slot, plan, model, serial, started, done in found]


def models(db: Db) -> list[str]:
    """Every model with a stored run, by name."""
    found = db.query(
        "SELECT DISTINCT model FROM run_totals WHERE runs > 0 AND model <> '' "
        "UNION SELECT DISTINCT model FROM runs WHERE verdict = 'RUNNING' AND model IS NOT NULL", {})
    return sorted(str(m) for (m,) in found)


def search_serial(db: Db, text: str, limit: int = 20) -> list[tuple[str, str]]:
    """Units whose serial starts with ``text`` (case-insensitive): (model, serial), at most ``limit``."""
    key = text.strip().lower()
    if not key:
        return []
    # A range on the lowered serial, in byte order: the index ix_units_serial_lower (schema.py).
    collate = ' COLLATE "C"' if db.url.startswith("postgresql") else ""
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    found = db.query(
        f"SELECT model, serial FROM units WHERE lower(serial){collate} >= :lo AND lower(serial){collate} < :hi "
        f"ORDER BY lower(serial){collate}, model LIMIT :limit", {"lo": key, "hi": upper, "limit": limit})
    return [(str(m), str(s)) for m, s in found]


def unit_runs(db: Db, serial: str, limit: int = 200) -> list[RunSummary]:
    """A unit's runs, newest first (as ``bench history``)."""
    return queries.history(db, serial, limit)


_NEWEST = (
    "SELECT r.id, r.started_at, r.ended_at, r.verdict, r.plan_name, r.plan_version, s.name, u.model, u.serial "
    "FROM runs r JOIN stations s ON s.id = r.station_id LEFT OUTER JOIN units u ON u.id = r.unit_id "
    "WHERE {where} ORDER BY r.started_at DESC, r.id DESC LIMIT :limit"
)


def station_runs(db: Db, station: str, limit: int = 50) -> list[RunSummary]:
    """A bench's newest runs, newest first."""
    found = db.query("SELECT id FROM stations WHERE name = :name", {"name": station})
    if not found:
        return []
    sql = _NEWEST.format(where="r.station_id = :station_id")
    return queries.summaries(db, db.query(sql, {"station_id": found[0][0], "limit": limit}))


def model_runs(db: Db, model: str, limit: int = 50) -> list[RunSummary]:
    """A model's newest runs, newest first."""
    sql = _NEWEST.format(where="r.model = :model")
    return queries.summaries(db, db.query(sql, {"model": model, "limit": limit}))


_LOTS = (
    "SELECT id, supplier, part, lot_size, sample_size, ac, re, state, decision FROM lots "
    "WHERE state = :state ORDER BY opened_at DESC, id DESC LIMIT :limit"
)
# Per lot, as bench.lots.store counts a sample: a unit (serial; an unidentified run on its own) is
# inspected once it has a PASS or FAIL run in the lot, and defective if one of them FAILed.
# The serial is looked up run by run (the primary key): a join would have PostgreSQL hash every unit.
_LOT_COUNTS = (
    "SELECT x.lot, count(DISTINCT x.unit), count(DISTINCT CASE WHEN x.verdict = 'FAIL' THEN x.unit END) "
    "FROM (SELECT r.lot, r.verdict, coalesce((SELECT u.serial FROM units u WHERE u.id = r.unit_id), r.id) AS unit "
    "FROM runs r WHERE r.lot IN ({marks}) AND r.verdict IN ('PASS', 'FAIL')) x GROUP BY x.lot"
)


def lots(db: Db, *, open_only: bool = False, limit: int = 100) -> list[LotStatus]:
    """Inspection lots, open ones first, newest first."""
    found = list(db.query(_LOTS, {"state": "OPEN", "limit": limit}))
    if not open_only and len(found) < limit:
        found += db.query(_LOTS, {"state": "DECIDED", "limit": limit - len(found)})
    counts = _lot_counts(db, [row[0] for row in found])
    return [LotStatus(lot, supplier, part, int(size), int(n), *counts.get(lot, (0, 0)), int(ac), int(re), state,
                      decision)
            for lot, supplier, part, size, n, ac, re, state, decision in found]


def _lot_counts(db: Reads, lot_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    if not lot_ids:
        return {}
    marks, params = in_list(lot_ids, "l")
    return {str(lot): (int(n), int(bad)) for lot, n, bad in db.query(_LOT_COUNTS.format(marks=marks), params)}
