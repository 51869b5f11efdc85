"""Generate a fleet's PostgreSQL store of 10^6 or 10^7 steps, fast, for the dashboard benchmark.

The schema is the store's own (``Store.open`` creates it); the rows are made by PostgreSQL itself
(``INSERT ... SELECT`` over ``generate_series``, no row crosses the socket), with foreign key
triggers off during the load (``session_replication_role = replica``) and the steps' unique
index built after it. The summary rows are then computed from the runs by the store's own
:func:`bench.store.totals.rebuild` (what migration 8 runs on an existing store), and the
tables analysed.

The shape is a shop's year: 50 benches, 12 models (a few common, a few rare), a unit tested
4 times on average (a first run, retests) on one bench, 20 steps a run, about 86 % PASS, 10 %
FAIL (one failing step with its code, skewed as a real pareto is, and for a third of them a
finding), 4 % ERROR, INCOMPLETE or ABORTED, spread evenly over the 365 days up to now; one unit
in 40 is sampled for an inspection lot (10 units a lot, the newest 20 lots open); 16 runs are in
progress, and every bench beat within the last minute. Steps carry no measurements (the
dashboard never reads them). 10^7 steps are 500,000 runs of 125,000 units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

STEPS_PER_RUN = 20
RUNS_PER_UNIT = 4
N_STATIONS = 50
#: (model, share in percent): two thirds of the units are of three models.
MODELS = (("PT-300", 30), ("PT-310", 20), ("PT-500", 16), ("PT-510", 10), ("PT-600", 8), ("PT-650", 6),
          ("PT-700", 4), ("PT-750", 2), ("PT-800", 2), ("PT-850", 1), ("PT-900", 0.5), ("PT-950", 0.5))
FAULTS = ("LINK-SLOW", "PWR-BATT-LOW", "PWR-CHARGE", "UNIT-POST", "ICC-NO-ATR", "ICC-ERROR", "ICC-SLOW",
          "ICC-NO-CARD", "CTLS-DEAD", "PRN-HEAD-HOT", "PRN-SLOW", "PRN-CUTTER", "PRN-PAPER", "NET-DOWN",
          "NET-WEAK", "KEY-DEAD", "DSP-DEAD-PIXELS", "MSR-READ", "SEC-TAMPER", "LOG-ERRORS")
RUNNING = 16


def _models_sql() -> str:
    """A CASE picking a model from a number in [0, 100) by the shares above."""
    parts, edge = [], 0.0
    for model, share in MODELS:
        edge += share
        parts.append(f"WHEN x < {edge} THEN '{model}'")
    return "CASE " + " ".join(parts) + f" ELSE '{MODELS[0][0]}' END"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate(url: str, steps: int, say: Callable[[str], None] = print) -> dict[str, float]:
    """Fill the empty PostgreSQL database at ``url`` with ``steps`` steps; seconds per phase."""
    from bench.store import totals
    from bench.store.engine import Store, parse_url

    runs = steps // STEPS_PER_RUN
    units = max(1, runs // RUNS_PER_UNIT)
    times: dict[str, float] = {}

    def phase(name: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        fn()
        times[name] = time.perf_counter() - t0
        say(f"  {name}: {times[name]:.1f} s")

    phase("schema", lambda: Store.open(url).close())
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.begin() as c:
            def run(sql: str, **params: Any) -> None:
                c.execute(sa.text(sql), params)

            run("SET session_replication_role = replica")  # no FK triggers during the load
            run("SELECT setseed(0.42)")
            run("ALTER TABLE steps DROP CONSTRAINT uq_steps_run_idx")
            phase("stations, units, runs", lambda: _runs(run, runs, units))
            phase("steps", lambda: _steps(run))
            phase("findings, lots, runs in progress, heartbeats", lambda: _rest(run))
            phase("steps' unique index", lambda: run(
                "ALTER TABLE steps ADD CONSTRAINT uq_steps_run_idx UNIQUE (run_id, idx)"))
            run("SET session_replication_role = DEFAULT")
        with Store.open(url) as store:
            def rebuild() -> None:
                with store._write():
                    totals.rebuild(store.db)

            phase("summary rows (totals.rebuild)", rebuild)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            phase("VACUUM ANALYZE", lambda: c.execute(sa.text("VACUUM ANALYZE")))
    finally:
        engine.dispose()
    return times


def _runs(run: Callable[..., None], runs: int, units: int) -> None:
    run("INSERT INTO stations (id, name) SELECT g, 'bench-' || lpad(g::text, 2, '0') FROM generate_series(1, :n) g",
        n=N_STATIONS)
    run(f"INSERT INTO units (id, model, serial) SELECT g, {_models_sql()}, "
        "upper(substr(md5(g::text), 1, 4)) || '-' || lpad(g::text, 7, '0') "
        "FROM (SELECT g, random() * 100 AS x FROM generate_series(1, :units) g) t", units=units)
    # A unit's runs follow each other 25 minutes apart on one bench; the units spread over the year.
    run(
        "INSERT INTO runs (id, unit_id, unit_hw_revision, unit_firmware, station_id, operator, plan_name, "
        "plan_version, plan_hash, lot, scenario, started_at, ended_at, verdict, summary, pid, hostname, "
        "bench_version, model) "
        "SELECT md5('run' || g)::uuid::text, u.id, 'B', '2.1.0', 1 + (u.id * 7) % :stations, 'op', 'pos-full', '3', "
        "'sha256:0', CASE WHEN u.id % 40 = 0 THEN 'LOT-' || lpad((u.id / 400)::text, 5, '0') END, NULL, t.at, "
        "t.at + interval '12 minutes', CASE WHEN r < 0.86 THEN 'PASS' WHEN r < 0.96 THEN 'FAIL' "
        "WHEN r < 0.98 THEN 'ERROR' WHEN r < 0.99 THEN 'INCOMPLETE' ELSE 'ABORTED' END, '', 1, "
        "'host-' || (1 + (u.id * 7) % :stations), '0.1.0', u.model "
        "FROM (SELECT g, (g - 1) % :units + 1 AS uid, random() AS r, "
        "  now() - interval '365 days 2 hours' + (((g - 1) % :units)::float / :units) * interval '365 days' "
        "  + ((g - 1) / :units) * interval '25 minutes' AS at FROM generate_series(1, :runs) g) t "
        "JOIN units u ON u.id = t.uid",
        runs=runs, units=units, stations=N_STATIONS)


def _steps(run: Callable[..., None]) -> None:
    # A FAIL run fails one step, the early ones far more often (a pareto's long tail).
    run(
        "INSERT INTO steps (run_id, idx, name, check_name, outcome, started_at, duration_s, attempts, fault, "
        "message, log) "
        "SELECT r.id, s.idx, 'step-' || s.idx, 'check.' || s.idx, "
        "CASE WHEN r.bad = s.idx THEN 'FAIL' ELSE 'PASS' END, r.started_at + s.idx * interval '30 seconds', "
        f"1.5, 1, CASE WHEN r.bad = s.idx THEN ({_array(FAULTS)})[s.idx + 1] END, '', '[]' "
        "FROM (SELECT id, started_at, CASE WHEN verdict = 'FAIL' THEN floor(20 * power(random(), 2.5))::int "
        "  ELSE -1 END AS bad FROM runs) r CROSS JOIN generate_series(0, 19) s(idx)"
    )


def _rest(run: Callable[..., None]) -> None:
    run(
        "INSERT INTO findings (run_id, seq, fault, title, category, part, action, in_unit, steps, consequences) "
        "SELECT s.run_id, 0, s.fault, s.fault, 'unit', 'part', 'replace', true, '[]', '[]' "
        "FROM steps s WHERE s.fault IS NOT NULL AND random() < 0.33"
    )
    run(
        "INSERT INTO lots (id, supplier, part, lot_size, aql, level, severity, plan_file, code_letter, "
        "sample_size, ac, re, state, decision, inspector, opened_at, decided_at) "
        "SELECT lot, 'acme', 'BAT-7', 500, 1.0, 'II', 'normal', 'incoming-battery.yaml', 'H', 50, 1, 2, "
        "CASE WHEN rank <= 20 THEN 'OPEN' ELSE 'DECIDED' END, CASE WHEN rank > 20 THEN 'ACCEPT' END, 'ana', "
        "first, CASE WHEN rank > 20 THEN last END "
        "FROM (SELECT lot, min(started_at) AS first, max(ended_at) AS last, "
        "  rank() OVER (ORDER BY min(started_at) DESC) AS rank FROM runs WHERE lot IS NOT NULL GROUP BY lot) t"
    )
    run(
        "INSERT INTO runs (id, unit_id, unit_hw_revision, unit_firmware, station_id, operator, plan_name, "
        "plan_version, plan_hash, started_at, verdict, summary, pid, hostname, bench_version, slot, model) "
        "SELECT md5('open' || g)::uuid::text, u.id, 'B', '2.1.0', g, 'op', 'pos-full', '3', 'sha256:0', "
        "now() - g * interval '20 seconds', 'RUNNING', '', 1, 'host-' || g, '0.1.0', 1, u.model "
        "FROM generate_series(1, :n) g JOIN units u ON u.id = g", n=RUNNING)
    run(
        "INSERT INTO steps (run_id, idx, name, check_name, outcome, started_at, duration_s, attempts, fault, "
        "message, log) SELECT r.id, s.idx, 'step-' || s.idx, 'check.' || s.idx, 'PASS', r.started_at, 1.5, 1, "
        "NULL, '', '[]' FROM runs r CROSS JOIN generate_series(0, 4) s(idx) WHERE r.verdict = 'RUNNING'"
    )
    run(
        "INSERT INTO heartbeats (station, host, pid, bench_version, started_at, last_seen, state, run_id, doing, "
        "slots) SELECT s.name, 'host-' || s.id, 1000 + s.id, '0.1.0', now() - interval '3 hours', "
        "now() - random() * interval '20 seconds', CASE WHEN r.id IS NULL THEN 'idle' ELSE 'running' END, r.id, "
        "coalesce('pos-full: ' || u.serial, ''), 1 FROM stations s "
        "LEFT JOIN runs r ON r.station_id = s.id AND r.verdict = 'RUNNING' LEFT JOIN units u ON u.id = r.unit_id"
    )
