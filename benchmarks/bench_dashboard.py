"""Benchmark 10: the fleet dashboard's queries (bench/store/dashboard.py) on PostgreSQL at 10^6 and 10^7 steps.

For each size, :mod:`benchmarks.fill_fleet` generates a store in a fresh database (the time it
takes is reported, phase by phase), then every dashboard function is called as ``bench serve``
calls it: on an open store, each call in its own read transaction, ``--reps`` times after one
untimed call (waiting first, up to 30 s, for the load to fall below the CPU count); median and p95 are
reported. The goal (issue #20): each ≤ 100 ms at 10^7 steps,
judged on the p95. Where the dashboard reads summary rows, the scan they replace is timed beside
them on the same store (the window's runs, and for the pareto their steps and findings); the
scans count verdicts only, without the first-pass yield, which flatters them.

PostgreSQL is a throw-away cluster (``tests/pgcluster.py``: ``fsync=off``, default memory
settings) unless ``--pg URL`` names a server to create the databases on.

Usage: ``python -m benchmarks.bench_dashboard [--steps 1000000] [--reps 30] [--pg URL] [--store URL]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Row, Series, load, percentile95, print_section
from benchmarks.fill_fleet import generate

SIZES = (1_000_000, 10_000_000)
TARGET_MS = 100.0
TITLE = "Benchmark 10: the fleet dashboard's queries on PostgreSQL at 10^6 and 10^7 steps"

_SCAN_YIELD = (
    "SELECT r.started_at::date, r.model, r.verdict, count(*) FROM runs r "
    "WHERE r.started_at >= :since AND r.verdict <> 'RUNNING' GROUP BY 1, 2, 3"
)
_SCAN_PARETO = (
    "SELECT fault, count(*) FROM (SELECT s.run_id, s.fault FROM steps s JOIN runs r ON r.id = s.run_id "
    "WHERE r.verdict = 'FAIL' AND r.started_at >= :since AND s.fault IS NOT NULL "
    "UNION SELECT f.run_id, f.fault FROM findings f JOIN runs r ON r.id = f.run_id "
    "WHERE r.verdict = 'FAIL' AND r.started_at >= :since) x GROUP BY fault ORDER BY 2 DESC LIMIT 10"
)


@contextlib.contextmanager
def _cluster(pg: str | None) -> Iterator[str]:
    if pg:
        yield pg
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from pgcluster import start_pg_cluster

    with start_pg_cluster() as url:
        yield url


def _database(cluster: str, steps: int) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    from pgcluster import create_database

    return create_database(cluster, f"fleet_{steps}_{uuid.uuid4().hex[:6]}")


def _time(db: Any, fn: Callable[[Any], object], reps: int) -> list[float]:
    with db.read():
        fn(db)  # untimed: the first call plans and warms the cache
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        with db.read():
            fn(db)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _wait_for_quiet(limit: float = 30.0) -> None:
    """As ``run_all`` does before each benchmark, before each query: up to 30 s for the load to fall below the CPUs."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= cpus and time.monotonic() < deadline:
        time.sleep(2)




def _queries(db: Any, now: datetime) -> list[tuple[str, Callable[[Any], object], Callable[[Any], object] | None]]:
    """(what, the dashboard's call, the scan it replaces or None), on this store's own names."""
    from bench.store import dashboard as d

    today = now.date()
    with db.read():
        st = d.benches(db, now)[0].name
        serial = db.query("SELECT serial FROM units WHERE id = (SELECT max(id) / 3 FROM units)", {})[0][0]
        rare = d.models(db)[-1]
    week, quarter = today - timedelta(days=6), today - timedelta(days=89)
    since_q = datetime.combine(quarter, datetime.min.time(), UTC)
    since_w = datetime.combine(week, datetime.min.time(), UTC)

    def scan(sql: str, since: datetime) -> Callable[[Any], object]:
        return lambda db: db.query(sql, {"since": since})

    return [
        ("overview (front page: today, week, pareto, 14 days, benches, runs in progress)",
         lambda db: d.overview(db, now), None),
        ("yield_by_day, 14 days, whole fleet", lambda db: d.yield_by_day(db, today - timedelta(days=13), today), None),
        ("yield_by_day, 90 days by model", lambda db: d.yield_by_day(db, quarter, today, by="model"),
         scan(_SCAN_YIELD, since_q)),
        ("yield_by_day, 90 days by bench", lambda db: d.yield_by_day(db, quarter, today, by="station"), None),
        (f"yield_by_day, 365 days of one model ({rare})",
         lambda db: d.yield_by_day(db, today - timedelta(days=364), today, model=rare), None),
        ("pareto, the week", lambda db: d.pareto(db, week, today), scan(_SCAN_PARETO, since_w)),
        ("pareto, 90 days", lambda db: d.pareto(db, quarter, today), scan(_SCAN_PARETO, since_q)),
        (f"pareto, 90 days of one bench ({st})", lambda db: d.pareto(db, quarter, today, station=st), None),
        ("benches (50 heartbeats)", lambda db: d.benches(db, now), None),
        ("running (16 runs in progress, their steps counted)", lambda db: d.running(db), None),
        ("models", lambda db: d.models(db), None),
        (f"search_serial({serial[:3]!r})", lambda db: d.search_serial(db, serial[:3]), None),
        (f"unit_runs({serial!r})", lambda db: d.unit_runs(db, serial), None),
        (f"station_runs({st!r}), newest 50", lambda db: d.station_runs(db, st), None),
        ("model_runs('PT-300'), newest 50 of the commonest model", lambda db: d.model_runs(db, "PT-300"), None),
        (f"model_runs({rare!r}), newest 50 of a rare model", lambda db: d.model_runs(db, rare), None),
        ("lots (100 newest, open first, with their sample progress)", lambda db: d.lots(db), None),
    ]


def run_size(cluster: str, steps: int, reps: int, store: str | None = None) -> list[Row]:
    """Generate a store of ``steps`` steps (or take ``store``, generated before) and time every dashboard query."""
    from bench.store.engine import Store

    rows = []
    if store is None:
        url = _database(cluster, steps)
        print(f"[generating {steps:,} steps: {load()}]", flush=True)
        t0 = time.perf_counter()
        phases = generate(url, steps)
        total = time.perf_counter() - t0
        rows.append(Row("10", f"generating the {steps:,}-step store ({steps // 20:,} runs; "
                        + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()) + ")",
                        Series("s", [total]), None, "", None, "", "reported", None))
        print(f"  store: {url}", flush=True)
    else:
        url = store
    with Store.open(url) as store:
        db = store.db
        now = datetime.now(UTC)
        for what, ours_fn, ref_fn in _queries(db, now):
            _wait_for_quiet()
            ours = _time(db, ours_fn, reps)
            ref = _time(db, ref_fn, max(3, reps // 3)) if ref_fn is not None else None
            p95 = percentile95(ours, method="inclusive")
            rows.append(Row(
                "10", f"{what}, {steps:,} steps", Series("ms", ours),
                Series("ms", ref) if ref else None, "scanning the window's runs (and steps)" if ref else "",
                statistics.median(ref) / statistics.median(ours) if ref else None, "scan/ours" if ref else "",
                f"p95 ≤ {TARGET_MS:.0f} ms (p95 here: {p95:.3g} ms)", p95 <= TARGET_MS))
            print(f"  {what}: median {statistics.median(ours):.3g} ms, p95 {p95:.3g} ms"
                  + (f"; scan median {statistics.median(ref):.3g} ms" if ref else ""), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=TITLE)
    ap.add_argument("--steps", type=int, action="append", help=f"store size (repeatable; default {SIZES})")
    ap.add_argument("--reps", type=int, default=30, help="timed calls per query")
    ap.add_argument("--pg", help="PostgreSQL server URL to create the databases on (default: a throw-away cluster)")
    ap.add_argument("--store", help="time the queries on this store, generated before (its URL, as printed); "
                    "--steps then names its size")
    ap.add_argument("--json-out", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    print(f"[{TITLE}: {load()}]", flush=True)
    rows: list[Row] = []
    with _cluster(args.pg or args.store) as cluster:
        for steps in args.steps or SIZES:
            rows += run_size(cluster, steps, args.reps, args.store)
    print_section(TITLE, rows)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps([r.to_dict() for r in rows], indent=2))


if __name__ == "__main__":
    main()
