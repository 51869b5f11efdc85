"""The store's reads, as plain SQL that SQLite and PostgreSQL both run.

:class:`bench.store.engine.Store` runs them through SQLAlchemy (any database);
:class:`bench.store.sqlite.SqliteStore` runs them through the standard library's ``sqlite3``
on a SQLite store whose schema is current, without importing SQLAlchemy. Only the standard
library and the record types are imported here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bench.i18n.stored import revive
from bench.record import AttachmentRecord, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store import rows, totals
from bench.store.db import Reads, in_list
from bench.store.history import RunNotFoundError, RunSummary, Stats, TrendPoint
from drivers.i18n import N_

#: The schema version this bench reads and writes (``bench.store.schema`` checks it has as many migrations).
SCHEMA_VERSION = 9


# --------------------------------------------------------------------------- history and trend

_SUMMARY = """
SELECT r.id, r.started_at, r.ended_at, r.verdict, r.plan_name, r.plan_version, s.name, u.model, u.serial
FROM runs r JOIN units u ON u.id = r.unit_id JOIN stations s ON s.id = r.station_id
WHERE u.serial = :serial {extra}
ORDER BY r.started_at DESC, r.id DESC {limit}
"""


def history(db: Reads, serial: str, limit: int | None = None) -> list[RunSummary]:
    """A unit's runs, newest first (every model with that serial)."""
    sql = _SUMMARY.format(extra="", limit="LIMIT :limit" if limit is not None else "")
    params: dict[str, Any] = {"serial": serial}
    if limit is not None:
        params["limit"] = limit
    return summaries(db, db.query(sql, params))


def last_pass(db: Reads, serial: str) -> RunSummary | None:
    """The unit's newest PASS run, or ``None``."""
    sql = _SUMMARY.format(extra="AND r.verdict = :verdict", limit="LIMIT 1")
    found = summaries(db, db.query(sql, {"serial": serial, "verdict": Verdict.PASS.value}))
    return found[0] if found else None


def trend(
    db: Reads, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
) -> list[TrendPoint]:
    """The newest ``limit`` numeric values of a measurement, in chronological order."""
    where = ["m.value_num IS NOT NULL"]
    params: dict[str, Any] = {"name": measurement, "limit": limit}
    if serial is not None:
        # For one unit, start from the unit and reach its few measurements through their steps;
        # `name || ''` keeps SQLite (no statistics) from walking the whole name index instead.
        where += ["(m.name || '') = :name", "u.serial = :serial"]
        params["serial"] = serial
        if model is not None:
            where.append("u.model = :model")
            params["model"] = model
    elif model is not None:
        # The measurement carries its unit's model: one index (name, model, measured_at) walked backwards.
        where += ["m.name = :name", "m.model = :model"]
        params["model"] = model
    else:
        where.append("m.name = :name")
    join = "JOIN" if serial is not None else "LEFT OUTER JOIN"
    sql = f"""
SELECT m.measured_at, u.serial, m.value_num, m.limit_min, m.limit_max, m.passed, s.run_id, m.unit
FROM measurements m JOIN steps s ON s.id = m.step_id JOIN runs r ON r.id = s.run_id
{join} units u ON u.id = r.unit_id
WHERE {' AND '.join(where)}
ORDER BY m.measured_at DESC, m.id DESC LIMIT :limit
"""
    found = db.query(sql, params)
    return [
        TrendPoint(rows.utc(at), ser, float(val), lo, hi, bool(ok), rid, unit)
        for at, ser, val, lo, hi, ok, rid, unit in reversed(found)
    ]


def run_faults(db: Reads, run_ids: Iterable[str]) -> dict[str, list[str]]:
    """Distinct fault codes per run: its steps' in step order, then its findings' not yet seen."""
    out: dict[str, list[str]] = {}
    ids = list(run_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks, params = in_list(chunk, "r")
        step_faults = db.query(
            f"SELECT run_id, fault FROM steps WHERE run_id IN ({marks}) AND fault IS NOT NULL ORDER BY run_id, idx",
            params,
        )
        finding_faults = db.query(
            f"SELECT run_id, fault FROM findings WHERE run_id IN ({marks}) ORDER BY run_id, seq", params
        )
        for rid, code in [*step_faults, *finding_faults]:
            codes = out.setdefault(rid, [])
            if code not in codes:
                codes.append(code)
    return out


def summaries(db: Reads, found: Sequence[Sequence[Any]]) -> list[RunSummary]:
    """Rows of (id, started, ended, verdict, plan, plan version, station, model, serial) with their runs' faults."""
    faults = run_faults(db, [r[0] for r in found])
    return [
        RunSummary(
            run_id=rid,
            started_at=rows.utc(started),
            ended_at=rows.utc(ended) if ended is not None else None,
            verdict=Verdict(verdict),
            plan_name=plan_name,
            plan_version=plan_version,
            station=station,
            model=model,
            serial=serial,
            faults=faults.get(rid, []),
        )
        for rid, started, ended, verdict, plan_name, plan_version, station, model, serial in found
    ]


# --------------------------------------------------------------------------- stats


def stats(db: Reads, since: datetime | None = None, model: str | None = None, station: str | None = None) -> Stats:
    """Yield over the finished runs started at or after ``since`` (see :meth:`Store.stats`).

    Without ``since`` it reads the summary rows (:mod:`bench.store.totals`), a few rows
    whatever the store's size; with ``since`` it reads the runs of the window.
    """
    if since is None:
        verdict_rows, fault_rows = totals.read(db, model, station)
        counts = {v: int(n) for v, n, _, _ in verdict_rows if n}
        units = sum(int(f or 0) for _, _, f, _ in verdict_rows)
        passed = sum(int(f or 0) for v, _, f, _ in verdict_rows if v == Verdict.PASS.value)
        total_us = sum(int(d or 0) for _, _, _, d in verdict_rows)
        pareto = Counter({code: int(n) for code, n in fault_rows if n})
        return _stats(counts, units, passed, total_us, pareto, since, model, station)
    where = ["r.verdict <> 'RUNNING'", "r.started_at >= :since"]
    params: dict[str, Any] = {"since": db.time(since)}
    joins = ""
    if model is not None:
        joins += " JOIN units u ON u.id = r.unit_id"
        where.append("u.model = :model")
        params["model"] = model
    if station is not None:
        joins += " JOIN stations st ON st.id = r.station_id"
        where.append("st.name = :station")
        params["station"] = station
    found = db.query(
        f"SELECT r.id, r.unit_id, r.started_at, r.ended_at, r.verdict FROM runs r{joins} "
        f"WHERE {' AND '.join(where)} ORDER BY r.started_at, r.id", params)
    failed = [rid for rid, _, _, _, verdict in found if verdict == Verdict.FAIL.value]
    faults = run_faults(db, failed)
    first: dict[int, str] = {}  # each unit's first judged run (an ABORTED run judged nothing)
    for _, unit_id, _, _, verdict in found:
        if unit_id is not None and verdict not in totals.UNJUDGED:
            first.setdefault(unit_id, verdict)
    total_us = sum(rows.micros(rows.utc(s), rows.utc(e)) for _, _, s, e, _ in found if e is not None)
    return _stats(
        dict(Counter(v for *_, v in found)), len(first), sum(v == Verdict.PASS.value for v in first.values()),
        total_us, Counter(code for rid in failed for code in faults.get(rid, ()) if code not in totals.NOT_FAILURES),
        since, model, station,
    )


def _stats(counts: dict[str, int], units: int, passed: int, total_us: int, pareto: Counter[str],
           since: datetime | None, model: str | None, station: str | None) -> Stats:
    runs = sum(counts.values())
    return Stats(
        runs=runs,
        units=units,
        first_pass_yield=passed / units if units else None,
        verdicts=dict(sorted(counts.items())),
        failures_by_fault=sorted(pareto.items(), key=lambda kv: (-kv[1], kv[0])),
        mean_duration_s=total_us / runs / 1e6 if runs else None,
        since=since,
        model=model,
        station=station,
    )


# --------------------------------------------------------------------------- whole runs

_RUN = (
    "SELECT r.id, r.plan_name, r.plan_version, r.plan_hash, s.name, r.operator, r.started_at, r.ended_at, "
    "r.verdict, u.model, u.serial, r.unit_hw_revision, r.unit_firmware, r.summary, r.lot, r.scenario, "
    "r.bench_version, r.slot, r.lang, r.summary_text FROM runs r JOIN stations s ON s.id = r.station_id LEFT OUTER JOIN units u ON u.id = r.unit_id "
    "WHERE r.id = :id"
)
_STEPS = (
    "SELECT id, idx, name, check_name, outcome, started_at, duration_s, attempts, fault, message, log, message_text "
    "FROM steps WHERE run_id = :id ORDER BY idx"
)
_MEASUREMENTS = (
    "SELECT m.step_id, m.name, m.value_json, m.unit, m.limit_json, m.passed, m.fault, m.message, m.message_text "
    "FROM measurements m JOIN steps s ON s.id = m.step_id WHERE s.run_id = :id ORDER BY m.step_id, m.seq"
)
_ATTACHMENTS = (
    "SELECT a.step_id, a.name, a.mime, a.data FROM attachments a JOIN steps s ON s.id = a.step_id "
    "WHERE s.run_id = :id ORDER BY a.step_id, a.seq"
)
_FINDINGS = (
    "SELECT fault, title, category, part, action, in_unit, steps, consequences, texts FROM findings "
    "WHERE run_id = :id ORDER BY seq"
)


def get_run(db: Reads, run_id: str) -> RunRecord:
    """The whole run, by id or by a unique id prefix (inside the caller's read transaction).

    Raises:
        RunNotFoundError: no run, or several, match.
    """
    rid = _resolve(db, run_id)
    params = {"id": rid}
    (run,) = db.query(_RUN, params)
    by_step: dict[int, StepRecord] = {}
    steps: list[StepRecord] = []
    for step_id, *fields in db.query(_STEPS, params):
        by_step[step_id] = step = rows.step_record(fields)
        steps.append(step)
    for step_id, *fields in db.query(_MEASUREMENTS, params):
        by_step[step_id].measurements.append(rows.measurement(fields))
    for step_id, name, mime, data in db.query(_ATTACHMENTS, params):
        by_step[step_id].attachments.append(AttachmentRecord(name, mime, bytes(data)))
    (rid, plan_name, plan_version, plan_hash, station, operator, started, ended, verdict, model, serial, hw, fw,
     summary, lot, scenario, bench_version, slot, lang, summary_text) = run
    return RunRecord(
        run_id=rid, plan_name=plan_name, plan_version=plan_version, plan_hash=plan_hash, station=station,
        operator=operator, started_at=rows.utc(started), ended_at=rows.utc(ended) if ended is not None else None,
        verdict=Verdict(verdict), unit=UnitInfo(model, serial, hw, fw) if model is not None else None,
        steps=steps, findings=[rows.finding(f) for f in db.query(_FINDINGS, params)], summary=revive(summary, summary_text),
        lot=lot, scenario=scenario, bench_version=bench_version, slot=slot, lang=lang or "en",
    )


def open_runs(db: Reads) -> list[tuple[str, str | None, int | None, Any]]:
    """The RUNNING runs, oldest first: id, host, pid, start (stored form)."""
    found = db.query("SELECT id, hostname, pid, started_at FROM runs WHERE verdict = 'RUNNING' "
                     "ORDER BY started_at, id", {})
    return [(str(rid), host, pid, rows.utc(started)) for rid, host, pid, started in found]


def latest_run_id(db: Reads) -> str | None:
    """The id of the most recently started run, or ``None`` on an empty store."""
    found = db.query("SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1", {})
    return str(found[0][0]) if found else None


def _resolve(db: Reads, run_id: str) -> str:
    if db.query("SELECT id FROM runs WHERE id = :id", {"id": run_id}):
        return run_id
    if not run_id:
        raise RunNotFoundError(N_("no run id given"))
    pattern = run_id.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    found = [str(r[0]) for r in db.query("SELECT id FROM runs WHERE id LIKE :p ESCAPE '/' LIMIT 6", {"p": pattern})]
    if not found:
        raise RunNotFoundError(N_("no run {run_id!r} in the store", run_id=run_id))
    if len(found) > 1:
        more = ", ..." if len(found) > 5 else ""
        raise RunNotFoundError(N_("run id prefix {run_id!r} is ambiguous: {known}{more}", run_id=run_id, known=', '.join(found[:5]), more=more))
    return found[0]
