"""Benchmark 5: the store: queries over 10^4 to 10^6 stored steps, and what durability costs per step.

:mod:`benchmarks.fill_store` builds (or reuses) SQLite stores of 10,000, 100,000 and 1,000,000 steps
(50 to 5,000 units, 10 runs each, one measurement per step, over the same two years). Timed:

* history and trend for one unit, in process (``Store.history`` + ``last_pass``; ``Store.trend``
  by serial, and over all units) and as the commands a user runs (process wall time, so interpreter
  start, imports and opening the store are in it; ``python -c pass`` is the floor every process pays);
* the queries that used to scan, at each size: ``bench stats`` (every run) and ``bench trend
  MEASUREMENT --model PT-900`` (a model with 2 units). The reference is the scan they replace, on
  the same store in the same run: the yield computed from every run row (what ``stats()`` did
  before the summary rows; it still does it for ``--since``) and the trend query of schema 2
  (the name index walked back, each value's unit looked up). Target: ≤ 50 ms at 10^6 steps, and
  flat: at 10^6 steps at most twice the time at 10^4 (plus 0.5 ms of timer noise);
* storing a step (``add_step``, 20-step runs, one measurement each, through the sqlite3 store
  ``bench run`` uses) at each ``synchronous=`` level, interleaved, on a new store file on the
  same disk as the benchmark's output. ``full`` (the default) makes each commit survive a power
  cut; ``normal`` only a crash of the process.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, VENV_BIN, Row, Series, cli
from benchmarks.fill_store import RARE, fill, serial_of

MEASUREMENT = "charge_percent"
SIZES = (10_000, 100_000, 1_000_000)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEVELS = ("full", "normal", "extra", "off")

#: The trend-by-model query of schema version 2 (the reference): the name index walked newest first,
#: each value's unit looked up to see whether it is of the model.
_OLD_TREND = """
SELECT m.measured_at, u.serial, m.value_num, m.limit_min, m.limit_max, m.passed, s.run_id, m.unit
FROM measurements m JOIN steps s ON s.id = m.step_id JOIN runs r ON r.id = s.run_id
JOIN units u ON u.id = r.unit_id
WHERE m.name = :name AND m.value_num IS NOT NULL AND u.model = :model
ORDER BY m.measured_at DESC, m.id DESC LIMIT :limit
"""


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000


def _ms(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _history_rows(reps: int, url: str, serial: str, steps: int) -> list[Row]:
    from bench.store.engine import Store

    bench = str(VENV_BIN / "bench")
    py = str(VENV_BIN / "python")
    rows: list[Row] = []
    with Store.open(url) as store:
        assert len(store.history(serial)) == 10

        def q_history() -> None:
            store.history(serial)
            store.last_pass(serial)

        def q_trend() -> None:
            assert len(store.trend(MEASUREMENT, serial=serial, limit=20)) == 10

        def q_trend_all() -> None:
            assert len(store.trend(MEASUREMENT, limit=20)) == 20

        queries = {"history": q_history, "trend": q_trend, "trend_all": q_trend_all}
        for fn in queries.values():
            fn()  # warm the page cache
        qs: dict[str, list[float]] = {k: [] for k in queries}
        for _ in range(reps * 4):
            for key, fn in queries.items():
                qs[key] += _ms(fn, 1)
    cmds = {
        "history": [bench, "history", serial, "--db", url],
        "trend": [bench, "trend", MEASUREMENT, "--serial", serial, "--db", url],
        "stats": [bench, "stats", "--db", url],
        "trend_rare": [bench, "trend", MEASUREMENT, "--model", RARE, "--db", url],
        "pass": [py, "-c", "pass"],
    }
    for cmd in cmds.values():
        _wall(cmd)
    ws: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(reps):
        for key, cmd in cmds.items():
            ws[key].append(_wall(cmd))
    floor = Series("ms", ws["pass"])
    shape = f"{steps:,} steps in the store"
    for key, label in (("history", f"`bench history {serial}`"),
                       ("trend", f"`bench trend {MEASUREMENT} --serial {serial}`")):
        q = Series("ms", qs[key])
        rows.append(Row(bench="5", what=f"{label}: query in process ({shape})", ours=q, ref=None,
                        ref_name="", ratio=None, ratio_label="", target="≤ 50 ms", met=q.median <= 50))
    q = Series("ms", qs["trend_all"])
    rows.append(Row(bench="5", what=f"`bench trend {MEASUREMENT}` (all units, last 20): query in process", ours=q,
                    ref=None, ref_name="", ratio=None, ratio_label="", target="≤ 50 ms", met=q.median <= 50))
    for key, label in (("history", f"`bench history {serial}`"),
                       ("trend", f"`bench trend {MEASUREMENT} --serial {serial}`"),
                       ("stats", "`bench stats`"),
                       ("trend_rare", f"`bench trend {MEASUREMENT} --model {RARE}`")):
        w = Series("ms", ws[key])
        rows.append(Row(bench="5", what=f"{label}: whole command, process wall time ({shape})", ours=w, ref=floor,
                        ref_name="`python -c pass`", ratio=w.median / floor.median, ratio_label="ours/python",
                        target="(reported; the target is for the query)", met=None))
    return rows


def _scan_rows(reps: int, stores: dict[int, tuple[str, float | None]]) -> list[Row]:
    """stats and trend --model at each size: ours (summary rows, model index) against the scans they replace."""
    from bench.store.engine import Store

    ours: dict[tuple[str, int], Series] = {}
    refs: dict[tuple[str, int], Series] = {}
    for steps, (url, _) in stores.items():
        with Store.open(url) as store:
            db = store._db

            def old_trend(db: Any = db) -> None:
                with db.read():
                    found = db.query(_OLD_TREND, {"name": MEASUREMENT, "model": RARE, "limit": 20})
                assert len(found) == 20

            pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
                "stats": (store.stats, lambda: store.stats(since=EPOCH)),
                "trend": (lambda: store.trend(MEASUREMENT, model=RARE, limit=20), old_trend),
            }
            assert store.stats().to_dict() == {**store.stats(since=EPOCH).to_dict(), "since": None}
            assert [p.run_id for p in store.trend(MEASUREMENT, model=RARE, limit=20)] == [
                r[6] for r in reversed(db.query(_OLD_TREND, {"name": MEASUREMENT, "model": RARE, "limit": 20}))]
            for key, (mine, ref) in pairs.items():
                mine()
                ref()
                a: list[float] = []
                b: list[float] = []
                n = reps * 2 if steps == SIZES[-1] else reps * 4
                for _ in range(n):  # interleaved: both sides see the same machine
                    a += _ms(mine, 1)
                    b += _ms(ref, 1)
                ours[key, steps], refs[key, steps] = Series("ms", a), Series("ms", b)
    rows = []
    labels = {"stats": ("`bench stats` (every run): query in process", "scanning every run"),
              "trend": (f"`bench trend {MEASUREMENT} --model {RARE}` (2 units, last 20): query in process",
                        "schema 2's query")}
    small, big = SIZES[0], SIZES[-1]
    for key, (what, ref_name) in labels.items():
        for steps in SIZES:
            q, r = ours[key, steps], refs[key, steps]
            flat = q.median <= 2 * ours[key, small].median + 0.5
            made = stores[steps][1]
            note = f"generating this store took {made:.1f} s" if made is not None else ""
            if steps == big:
                target, met = "≤ 50 ms, and ≤ 2× (+0.5 ms) the 10^4 figure", q.median <= 50 and flat
                note = (note + "; " if note else "") + f"10^6/10^4 = {q.median / ours[key, small].median:.2f}"
            else:
                target, met = "(reported: flat from 10^4 to 10^6)", None
            rows.append(Row(bench="5", what=f"{what} at {steps:,} steps", ours=q, ref=r, ref_name=ref_name,
                            ratio=r.median / q.median, ratio_label="ref/ours", target=target, met=met, note=note))
    return rows


def _durability_rows(reps: int) -> list[Row]:
    """Per stored step, at each synchronous level, through the sqlite3 store `bench run` uses."""
    from bench.measure import Limit, Measurement
    from bench.record import Outcome, RunRecord, StepRecord, UnitInfo, Verdict
    from bench.store.connect import open_store
    from bench.store.engine import Store

    folder = OUT / "durability"
    folder.mkdir(parents=True, exist_ok=True)
    limit = Limit(min=7.0, max=8.6, unit="V")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    samples: dict[str, list[float]] = {lvl: [] for lvl in LEVELS}
    n_steps = 100
    for rep in range(reps + 1):
        for level in LEVELS:
            path = folder / f"{level}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            url = f"sqlite:///{path}?synchronous={level}"
            Store.open(url).close()
            store = open_store(url)
            try:
                run = RunRecord(run_id=str(uuid.uuid4()), plan_name="p", plan_version="1", plan_hash="0" * 64,
                                station="bench-1", operator="op", started_at=t0, verdict=Verdict.RUNNING,
                                unit=UnitInfo("PT-300", f"SN-{rep}", "A", "1.0"))
                store.start_run(run)
                steps = [StepRecord(i, f"step-{i}", "power.battery", Outcome.PASS, t0 + timedelta(seconds=i), 0.01,
                                    measurements=[Measurement("battery_v", 7.9, "V", limit, True)])
                         for i in range(n_steps)]
                start = time.perf_counter()
                for step in steps:
                    store.add_step(run.run_id, step)
                took = time.perf_counter() - start
            finally:
                store.close()
            if rep:  # the first round warms the disk and the page cache
                samples[level].append(took / n_steps * 1e6)
    normal = Series("µs", samples["normal"])
    rows = []
    for level in LEVELS:
        s = Series("µs", samples[level])
        default = " (the default: a stored step survives a power cut)" if level == "full" else ""
        rows.append(Row(bench="5", what=f"storing one step, `?synchronous={level}`{default}", ours=s, ref=normal,
                        ref_name="`synchronous=normal`", ratio=s.median / normal.median, ratio_label="ours/normal",
                        target="(reported: the price of each level)", met=None,
                        note=f"{n_steps} steps of one run, each its own committed transaction, WAL mode, ext4"))
    return rows


def run(reps: int) -> list[Row]:
    stores: dict[int, tuple[str, float | None]] = {}
    for steps in SIZES:
        path, took = fill(steps=steps)
        stores[steps] = (f"sqlite:///{path}", took)
    big_url = stores[SIZES[-1]][0]
    rows = _history_rows(reps, big_url, serial_of(2500), SIZES[-1])
    rows += _scan_rows(reps, stores)
    rows += _durability_rows(reps)
    return rows


def main() -> None:
    cli("Benchmark 5: the store: queries over 10^4 to 10^6 steps, durability per step", run, default_reps=7)


if __name__ == "__main__":
    main()
