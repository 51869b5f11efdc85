"""Summary rows kept as runs finish, so ``bench stats`` over the whole store reads a few rows.

Two tables (schema version 3), keyed by the unit's model ('' for a run without a unit) and
the station:

* ``run_totals (model, station_id, verdict)``: finished runs, their summed duration in
  microseconds, how many were their unit's first judged run (``firsts``) and how many
  were their unit's first judged run at that station (``firsts_here``): the first-pass
  yield over all stations, or over one. A *judged* run is a finished run that was not
  ABORTED: an interrupted run judged nothing, so it neither passes nor fails a unit's first
  pass (schema version 5 recomputed the rows with this rule);
* ``fault_totals (model, station_id, fault)``: FAIL runs showing each fault code (once per run),
  but for codes that are no failure (:data:`NOT_FAILURES`: a step the operator skipped);
* ``day_totals (day, model, station_id, verdict)`` and ``day_fault_totals (day, model, station_id, fault)``
  (schema version 8): the same per UTC day of the run's start, for the fleet dashboard's yield
  and pareto over a window (:mod:`bench.store.dashboard`); a unit's first run counts on its own day.

They are kept exact by difference: :func:`kept` takes what a run and its unit's first runs
contribute before a write and after it, and adds the change. So a run finished twice, a
run finishing out of order (it started before a run of the same unit already finished) and
a run marked ABORTED all come out right. :func:`rebuild` recomputes them from the runs
(schema migration, bulk-filled stores). A window (``bench stats --since``) does not use them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bench.store import rows
from bench.store.db import in_list

if TYPE_CHECKING:
    from bench.store.db import Db, Reads

#: ('run', model, station_id, verdict, column), ('fault', model, station_id, fault),
#: ('day', day, model, station_id, verdict, column) or ('dayfault', day, model, station_id, fault) -> amount.
Facts = Counter[tuple[Any, ...]]

_RUN = (
    "SELECT r.unit_id, r.station_id, coalesce(u.model, ''), r.verdict, r.started_at, r.ended_at "
    "FROM runs r LEFT JOIN units u ON u.id = r.unit_id WHERE r.id = :run_id"
)
#: Fault codes a run may show that are no failure of the unit or bench: not in the pareto of failures.
NOT_FAILURES = frozenset({"OP-SKIPPED"})
#: Verdicts of runs that judged nothing: they are not a unit's first run for the first-pass yield.
UNJUDGED = ("RUNNING", "ABORTED")
# A unit's first judged run (at one station): the first-pass yield counts its verdict.
_FIRST = (
    "SELECT r.station_id, r.verdict, r.started_at FROM runs r WHERE r.unit_id = :unit_id "
    "AND r.verdict NOT IN ('RUNNING', 'ABORTED') {here}"
    "ORDER BY r.started_at, r.id LIMIT 1"
)
_FAULTS = (
    "SELECT fault FROM steps WHERE run_id = :run_id AND fault IS NOT NULL "
    "UNION SELECT fault FROM findings WHERE run_id = :run_id"
)
_ADD_RUN = (
    "INSERT INTO run_totals (model, station_id, verdict, runs, firsts, firsts_here, duration_us) "
    "VALUES (:model, :station_id, :verdict, :runs, :firsts, :firsts_here, :duration_us) "
    "ON CONFLICT (model, station_id, verdict) DO UPDATE SET runs = run_totals.runs + excluded.runs, "
    "firsts = run_totals.firsts + excluded.firsts, firsts_here = run_totals.firsts_here + excluded.firsts_here, "
    "duration_us = run_totals.duration_us + excluded.duration_us"
)
_ADD_FAULT = (
    "INSERT INTO fault_totals (model, station_id, fault, runs) VALUES (:model, :station_id, :fault, :runs) "
    "ON CONFLICT (model, station_id, fault) DO UPDATE SET runs = fault_totals.runs + excluded.runs"
)
_ADD_DAY = (
    "INSERT INTO day_totals (day, model, station_id, verdict, runs, firsts, firsts_here) "
    "VALUES (:day, :model, :station_id, :verdict, :runs, :firsts, :firsts_here) "
    "ON CONFLICT (day, model, station_id, verdict) DO UPDATE SET runs = day_totals.runs + excluded.runs, "
    "firsts = day_totals.firsts + excluded.firsts, firsts_here = day_totals.firsts_here + excluded.firsts_here"
)
_ADD_DAY_FAULT = (
    "INSERT INTO day_fault_totals (day, model, station_id, fault, runs) "
    "VALUES (:day, :model, :station_id, :fault, :runs) "
    "ON CONFLICT (day, model, station_id, fault) DO UPDATE SET runs = day_fault_totals.runs + excluded.runs"
)
_ADD_ROLL = (
    "INSERT INTO day_yield (kind, day, name, runs, passed, failed, firsts, first_passed) "
    "VALUES (:kind, :day, :name, :runs, :passed, :failed, :firsts, :first_passed) "
    "ON CONFLICT (kind, day, name) DO UPDATE SET runs = day_yield.runs + excluded.runs, "
    "passed = day_yield.passed + excluded.passed, failed = day_yield.failed + excluded.failed, "
    "firsts = day_yield.firsts + excluded.firsts, first_passed = day_yield.first_passed + excluded.first_passed"
)
_ROLL_COLUMNS = ("runs", "passed", "failed", "firsts", "first_passed")
_ADD_ROLL_FAULT = (
    "INSERT INTO day_pareto (kind, day, name, fault, runs) VALUES (:kind, :day, :name, :fault, :runs) "
    "ON CONFLICT (kind, day, name, fault) DO UPDATE SET runs = day_pareto.runs + excluded.runs"
)
_COLUMNS = ("runs", "firsts", "firsts_here", "duration_us")
_DAY_COLUMNS = ("runs", "firsts", "firsts_here")


def day_of(started: Any) -> str:
    """The UTC day of a stored start time, as the day rows key it (``YYYY-MM-DD``)."""
    return rows.utc(started).date().isoformat()


def _count(facts: Facts, model: str, station_id: Any, verdict: str, column: str, started: Any, n: int = 1) -> None:
    facts["run", model, station_id, verdict, column] += n
    if column != "duration_us":
        facts["day", day_of(started), model, station_id, verdict, column] += n


def _count_fault(facts: Facts, model: str, station_id: Any, code: str, started: Any) -> None:
    facts["fault", model, station_id, code] += 1
    facts["dayfault", day_of(started), model, station_id, code] += 1


def _facts(db: Db, run_id: str) -> Facts:
    """What one run, and its unit's first runs (anywhere and at its station), add to the totals."""
    facts: Facts = Counter()
    found = db.query(_RUN, {"run_id": run_id})
    if not found:
        return facts
    unit_id, station_id, model, verdict, started, ended = found[0]
    if verdict != "RUNNING":
        _count(facts, model, station_id, verdict, "runs", started)
        if ended is not None:
            facts["run", model, station_id, verdict, "duration_us"] += rows.micros(rows.utc(started), rows.utc(ended))
        if verdict == "FAIL":
            for (code,) in db.query(_FAULTS, {"run_id": run_id}):
                if code not in NOT_FAILURES:
                    _count_fault(facts, model, station_id, code, started)
    if unit_id is not None:  # this run may be, or stop being, the unit's first judged run
        for (first_station, first_verdict, first_at) in db.query(_FIRST.format(here=""), {"unit_id": unit_id}):
            _count(facts, model, first_station, first_verdict, "firsts", first_at)
        here = {"unit_id": unit_id, "station_id": station_id}
        for (_, here_verdict, here_at) in db.query(_FIRST.format(here="AND r.station_id = :station_id "), here):
            _count(facts, model, station_id, here_verdict, "firsts_here", here_at)
    return facts


@contextmanager
def kept(db: Db, run_id: str) -> Iterator[None]:
    """Keep the totals right across a change to run ``run_id`` (inside the caller's write transaction).

    On PostgreSQL the unit's row is locked first, so two stations finishing runs of one unit at
    once take turns at deciding which of them is its first.
    """
    if db.row_lock:
        db.query("SELECT u.id FROM units u JOIN runs r ON r.unit_id = u.id WHERE r.id = :run_id" + db.row_lock,
                 {"run_id": run_id})
    before = _facts(db, run_id)
    yield
    after = _facts(db, run_id)
    after.subtract(before)
    add(db, after)


def add(db: Db, facts: Mapping[tuple[Any, ...], int]) -> None:
    """Add ``facts`` (changes, possibly negative) to the summary rows."""
    runs: dict[tuple[Any, ...], dict[str, Any]] = {}
    days: dict[tuple[Any, ...], dict[str, Any]] = {}
    faults: list[dict[str, Any]] = []
    day_faults: list[dict[str, Any]] = []
    for key, amount in facts.items():
        if not amount:
            continue
        if key[0] == "run":
            _, model, station_id, verdict, column = key
            row = runs.setdefault((model, station_id, verdict), {
                "model": model, "station_id": station_id, "verdict": verdict, **dict.fromkeys(_COLUMNS, 0)})
            row[column] += amount
        elif key[0] == "day":
            _, day, model, station_id, verdict, column = key
            row = days.setdefault((day, model, station_id, verdict), {
                "day": day, "model": model, "station_id": station_id, "verdict": verdict,
                **dict.fromkeys(_DAY_COLUMNS, 0)})
            row[column] += amount
        elif key[0] == "fault":
            _, model, station_id, fault = key
            faults.append({"model": model, "station_id": station_id, "fault": fault, "runs": amount})
        else:
            _, day, model, station_id, fault = key
            day_faults.append({"day": day, "model": model, "station_id": station_id, "fault": fault, "runs": amount})
    yields, paretos = _rolled(facts, _station_names(db, {k[3] for k, n in facts.items() if n and k[0][:3] == "day"}))
    for sql, values in ((_ADD_RUN, list(runs.values())), (_ADD_FAULT, faults), (_ADD_DAY, list(days.values())),
                        (_ADD_DAY_FAULT, day_faults), (_ADD_ROLL, yields), (_ADD_ROLL_FAULT, paretos)):
        if values:
            # Every writer takes the rows' locks in one order (tables in this order, rows by key): two
            # PostgreSQL stations finishing at once wait for each other, never deadlock.
            db.executemany(sql, sorted(values, key=lambda row: [str(v) for v in row.values()]))


def _rolled(facts: Mapping[tuple[Any, ...], int],
            names: Mapping[Any, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The day facts rolled up into ``day_yield`` and ``day_pareto`` rows: the fleet, each model, each bench.

    The fleet and a model count a unit's first run anywhere (``firsts``), a bench its first run
    there (``firsts_here``); the verdicts become columns (a window reads one row per day and name).
    """
    yields: dict[tuple[str, str, str], dict[str, Any]] = {}
    paretos: Counter[tuple[str, str, str, str]] = Counter()
    for key, amount in facts.items():
        if not amount or key[0] not in ("day", "dayfault"):
            continue
        day, model, station_id = key[1], key[2], key[3]
        scopes = (("", ""), ("model", model), ("station", names[station_id]))
        if key[0] == "dayfault":
            for kind, name in scopes:
                paretos[kind, day, name, key[4]] += amount
            continue
        verdict, column = key[4], key[5]
        for kind, name in scopes:
            if column == ("firsts" if kind == "station" else "firsts_here"):
                continue
            row = yields.setdefault((kind, day, name), {"kind": kind, "day": day, "name": name,
                                                        **dict.fromkeys(_ROLL_COLUMNS, 0)})
            if column == "runs":
                row["runs"] += amount
                if verdict in ("PASS", "FAIL"):
                    row["passed" if verdict == "PASS" else "failed"] += amount
            else:
                row["firsts"] += amount
                if verdict == "PASS":
                    row["first_passed"] += amount
    return list(yields.values()), [{"kind": k, "day": d, "name": n, "fault": f, "runs": r}
                                   for (k, d, n, f), r in paretos.items() if r]


def _station_names(db: Db, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    marks, params = in_list(sorted(ids), "s")
    return {sid: str(name) for sid, name in db.query(f"SELECT id, name FROM stations WHERE id IN ({marks})", params)}


_ALL_RUNS = (
    "SELECT r.id, r.unit_id, r.station_id, coalesce(u.model, ''), r.verdict, r.started_at, r.ended_at "
    "FROM runs r LEFT JOIN units u ON u.id = r.unit_id WHERE r.verdict <> 'RUNNING' ORDER BY r.started_at, r.id"
)
_ALL_FAULTS = (
    "SELECT s.run_id, s.fault FROM steps s JOIN runs r ON r.id = s.run_id "
    "WHERE r.verdict = 'FAIL' AND s.fault IS NOT NULL "
    "UNION SELECT f.run_id, f.fault FROM findings f JOIN runs r ON r.id = f.run_id WHERE r.verdict = 'FAIL'"
)


def rebuild(db: Db) -> None:
    """Recompute the summary rows from the runs (inside the caller's write transaction)."""
    for table in ("run_totals", "fault_totals", "day_totals", "day_fault_totals", "day_yield", "day_pareto"):
        db.execute(f"DELETE FROM {table}", {})
    faults: dict[str, set[str]] = {}
    for rid, code in db.query(_ALL_FAULTS, {}):
        if code not in NOT_FAILURES:
            faults.setdefault(rid, set()).add(code)
    facts: Facts = Counter()
    seen: set[Any] = set()
    seen_here: set[tuple[Any, Any]] = set()
    for rid, unit_id, station_id, model, verdict, started, ended in db.query(_ALL_RUNS, {}):
        _count(facts, model, station_id, verdict, "runs", started)
        if ended is not None:
            facts["run", model, station_id, verdict, "duration_us"] += rows.micros(rows.utc(started), rows.utc(ended))
        for code in faults.get(rid, ()):
            _count_fault(facts, model, station_id, code, started)
        if unit_id is not None and verdict not in UNJUDGED:
            if unit_id not in seen:
                seen.add(unit_id)
                _count(facts, model, station_id, verdict, "firsts", started)
            if (unit_id, station_id) not in seen_here:
                seen_here.add((unit_id, station_id))
                _count(facts, model, station_id, verdict, "firsts_here", started)
    add(db, facts)



def narrow(conds: list[str], params: dict[str, Any], model: str | None, station: str | None) -> None:
    """Add to ``conds``/``params`` the conditions that keep summary rows (alias ``t``) of one model and one station."""
    if model is not None:
        conds.append("t.model = :model")
        params["model"] = model
    if station is not None:
        conds.append("t.station_id = (SELECT id FROM stations WHERE name = :station)")
        params["station"] = station

def read(db: Reads, model: str | None, station: str | None) -> tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any]]]:
    """The summed rows for ``stats`` over every run: ``(verdict, runs, firsts, duration_us)`` and ``(fault, runs)``.

    ``firsts`` counts units by their first run anywhere, or at ``station`` when one is given.
    """
    where = ["1 = 1"]
    params: dict[str, Any] = {}
    narrow(where, params, model, station)
    first = "firsts_here" if station is not None else "firsts"
    cond = " AND ".join(where)
    verdicts = db.query(
        f"SELECT t.verdict, sum(t.runs), sum(t.{first}), sum(t.duration_us) FROM run_totals t WHERE {cond} "
        "GROUP BY t.verdict ORDER BY t.verdict", params)
    fault_rows = db.query(f"SELECT t.fault, sum(t.runs) FROM fault_totals t WHERE {cond} GROUP BY t.fault", params)
    return verdicts, fault_rows
