"""Benchmark 11: 16 simulated benches writing to one PostgreSQL at once: runs/s, p95 commit time, nothing lost.

Each bench is its own process doing what ``bench run`` does on a PostgreSQL store: the runner
(:class:`bench.runner.Runner`, no devices) on a 25-step plan whose every step judges one
measurement, writing through :func:`bench.store.buffered.open_run_store` (the store with the
outbox behind it), each run's unit set as a unit identifying itself would (every bench its own
units; every bench a station of its own). The 16 start at one instant on a fresh database of a
private cluster running with ``fsync=on`` (commits reach the disk, as on a shop's server), on
this machine (2 CPUs shared by the 16 benches, PostgreSQL and this script).

Figures: runs per second over the 16 (all runs / the wall time from the start instant to the
last bench's end), against one bench alone on the same cluster; the p95 of every commit the
benches waited for (start of run, unit, each step, end of run); and the check that nothing was
lost: the database's counts of runs, steps, measurements, units, stations and summary rows equal
what the benches wrote (the benchmark stops with an error otherwise).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, VENV_BIN, Row, Series, cli, percentile95

BENCHES = 16
RUNS = 12  # per bench and repetition
STEPS = 25

_WORKER = (
    "import sys; sys.path.insert(0, sys.argv[1]); from benchmarks.bench_fleet import bench_worker; "
    "bench_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])"
)


class _Timed:
    """The runner's sink, timing each write it waits for."""

    def __init__(self, store: Any, serials: Any) -> None:
        self.store, self.serials = store, serials
        self.times: list[float] = []

    def _time(self, fn: Any, *args: Any) -> None:
        t0 = time.perf_counter()
        fn(*args)
        self.times.append(time.perf_counter() - t0)

    def start_run(self, run: Any) -> None:
        from bench.record import UnitInfo

        self._time(self.store.start_run, run)
        self._time(self.store.set_unit, run.run_id, UnitInfo("PT-300", next(self.serials), "B", "2.4.1"))

    def set_unit(self, run_id: str, unit: Any) -> None:
        self._time(self.store.set_unit, run_id, unit)

    def add_step(self, run_id: str, step: Any) -> None:
        self._time(self.store.add_step, run_id, step)

    def finish_run(self, *args: Any) -> None:
        self._time(self.store.finish_run, *args)


def bench_worker(url: str, bench: int, runs: int, go: float, out: str) -> None:
    """One simulated bench: ``runs`` runs of the plan, from the instant ``go``; its commit times to ``out``."""
    from bench.devices import DeviceSet
    from bench.operator import ScriptedOperator
    from bench.runner import Runner
    from bench.store.buffered import open_run_store
    from benchmarks.bench_steps import _plan

    plan = _plan(STEPS)
    serials = iter(f"FB{bench:02d}-{i:05d}" for i in range(runs))
    store = open_run_store(url)
    sink = _Timed(store, serials)
    while time.time() < go:
        time.sleep(0.0005)
    cpu0 = time.process_time()
    for _ in range(runs):
        rec = Runner(plan, DeviceSet({}), ScriptedOperator(), sink, station=f"fleet-{bench:02d}").run()
        assert rec.verdict.value == "PASS", rec.verdict
    ended, cpu = time.time(), time.process_time() - cpu0
    buffered = len(store.buffered)
    store.close()
    Path(out).write_text(json.dumps({"times": sink.times, "ended": ended, "buffered": buffered, "cpu": cpu}))


def _fleet(url: str, n: int, workdir: Path) -> tuple[float, list[float], float]:
    """Runs per second of ``n`` benches at once, every commit time (seconds), and the benches' CPU per commit."""
    go = time.time() + 3.0  # every bench connected and waiting
    outs = [workdir / f"b{k}.json" for k in range(n)]
    procs = [subprocess.Popen([str(VENV_BIN / "python"), "-c", _WORKER, str(ROOT), url, str(k), str(RUNS), str(go),
                               str(outs[k])], cwd=ROOT, stderr=subprocess.PIPE, text=True) for k in range(n)]
    for p in procs:
        _, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise SystemExit(f"a bench failed: {err.strip()[-800:]}")
    got = [json.loads(o.read_text()) for o in outs]
    if any(g["buffered"] for g in got):
        raise SystemExit("a bench lost the database and buffered its runs: the figures would not be the database's")
    wall = max(g["ended"] for g in got) - go
    times = [t for g in got for t in g["times"]]
    return n * RUNS / wall, times, sum(g["cpu"] for g in got) / len(times)


def _check_nothing_lost(url: str, n: int) -> str:
    import sqlalchemy as sa

    from bench.store.engine import parse_url

    want = {"runs": n * RUNS, "steps": n * RUNS * STEPS, "measurements": n * RUNS * STEPS, "units": n * RUNS,
            "stations": n}
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            got = {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in want}
            got_pass = int(conn.execute(sa.text("SELECT coalesce(sum(runs), 0) FROM run_totals "
                                                "WHERE verdict = 'PASS'")).scalar_one())
    finally:
        engine.dispose()
    if got != want or got_pass != n * RUNS:
        raise SystemExit(f"records lost or duplicated: wrote {want}, the database holds {got} "
                         f"(PASS in the summary rows: {got_pass})")
    return ", ".join(f"{v:,} {k}" for k, v in got.items())


def run(reps: int) -> list[Row]:
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from pgcluster import create_database, pg_cluster  # type: ignore[import-not-found]

    from bench.store.engine import Store

    fleet_rate: list[float] = []
    one_rate: list[float] = []
    p95s: list[float] = []
    one_p95s: list[float] = []
    cpu: dict[int, list[float]] = {1: [], BENCHES: []}
    counted = ""
    with pg_cluster(fsync=True, max_connections=BENCHES * 2 + 10) as cluster, \
            tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        os.environ.setdefault("XDG_DATA_HOME", str(Path(tmp) / "xdg"))  # an outbox, if any, stays in here
        for rep in range(reps):
            for n, rates, p95 in ((1, one_rate, one_p95s), (BENCHES, fleet_rate, p95s)):
                url = create_database(cluster.url, f"fleet_{rep}_{n}")
                Store.open(url).close()  # the schema, as the first bench of a shop creates it
                rate, times, per_commit = _fleet(url, n, Path(tmp))
                rates.append(rate)
                cpu[n].append(per_commit * 1000)
                p95.append(percentile95(times) * 1000)
                if n == BENCHES:
                    counted = _check_nothing_lost(url, n)
    ours, one = Series("runs/s", fleet_rate), Series("runs/s", one_rate)
    return [
        Row(bench="11", what=f"{BENCHES} simulated benches writing to one PostgreSQL at once ({STEPS}-step runs, "
                             "fsync on): throughput", ours=ours, ref=one, ref_name="one bench alone",
            ratio=ours.median / one.median, ratio_label=f"{BENCHES} benches/1 bench", target="reported", met=None,
            note=f"nothing lost: the database holds exactly what was written ({counted}); the benches' own CPU "
                 f"per commit {Series('ms', cpu[BENCHES]).fmt(3)} (one bench alone: {Series('ms', cpu[1]).fmt(3)})"),
        Row(bench="11", what=f"{BENCHES} benches at once: p95 commit time (each step, run start, unit, run end)",
            ours=Series("ms", p95s), ref=Series("ms", one_p95s), ref_name="one bench alone",
            ratio=statistics.median(p95s) / statistics.median(one_p95s), ratio_label=f"{BENCHES} benches/1 bench",
            target="reported", met=None),
    ]


def main() -> None:
    cli("Benchmark 11: 16 benches, one PostgreSQL", run, default_reps=3)


if __name__ == "__main__":
    main()
