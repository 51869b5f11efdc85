"""Benchmark 5: store queries over 1,000,000 stored step results.

:mod:`benchmarks.fill_store` builds (or reuses) a SQLite store of 50,000 runs of 5,000 units,
1,000,000 steps with one measurement each. Timed, for a unit with 10 runs:

* the query, in process: what the command asks the store (``Store.history`` + ``Store.last_pass``
  for ``bench history``; ``Store.trend(limit=20)`` for ``bench trend``) on an open store;
* the command, as a user runs it: ``bench history SERIAL`` and ``bench trend MEASUREMENT --serial S``
  as processes (wall time, so interpreter start, imports and opening the store are in it).

The target (≤ 50 ms) is for the query; the command's wall time is reported next to it, with
``python -c pass`` as the floor every process pays.
"""

from __future__ import annotations

import subprocess
import time

from benchmarks.common import VENV_BIN, Row, Series, cli
from benchmarks.fill_store import fill, serial_of

SERIAL = serial_of(2500)
MEASUREMENT = "charge_percent"


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000


def run(reps: int) -> list[Row]:
    from bench.store import Store

    path = fill()
    url = f"sqlite:///{path}"
    bench = str(VENV_BIN / "bench")
    py = str(VENV_BIN / "python")
    rows: list[Row] = []
    with Store.open(url) as store:
        runs = store.history(SERIAL)
        assert len(runs) == 10, len(runs)
        with store._read() as conn:
            steps = conn.exec_driver_sql("SELECT count(*) FROM steps").scalar() or 0

        def q_history() -> None:
            store.history(SERIAL)
            store.last_pass(SERIAL)

        def q_trend() -> None:
            assert len(store.trend(MEASUREMENT, serial=SERIAL, limit=20)) == 10

        def q_trend_all() -> None:
            assert len(store.trend(MEASUREMENT, limit=20)) == 20

        queries = {"history": q_history, "trend": q_trend, "trend_all": q_trend_all}
        for fn in queries.values():
            fn()  # warm the page cache
        qs: dict[str, list[float]] = {k: [] for k in queries}
        for _ in range(reps * 4):
            for key, fn in queries.items():
                t0 = time.perf_counter()
                fn()
                qs[key].append((time.perf_counter() - t0) * 1000)
    cmds = {
        "history": [bench, "history", SERIAL, "--db", url],
        "trend": [bench, "trend", MEASUREMENT, "--serial", SERIAL, "--db", url],
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
    for key, label in (("history", f"`bench history {SERIAL}`"),
                       ("trend", f"`bench trend {MEASUREMENT} --serial {SERIAL}`")):
        q = Series("ms", qs[key])
        rows.append(Row(bench="5", what=f"{label}: query in process ({shape})", ours=q, ref=None,
                        ref_name="", ratio=None, ratio_label="", target="≤ 50 ms", met=q.median <= 50))
        w = Series("ms", ws[key])
        rows.append(Row(bench="5", what=f"{label}: whole command, process wall time", ours=w, ref=floor,
                        ref_name="`python -c pass`", ratio=w.median / floor.median, ratio_label="ours/python",
                        target="(reported; target is for the query)", met=None))
    q = Series("ms", qs["trend_all"])
    rows.append(Row(bench="5", what=f"`bench trend {MEASUREMENT}` (all units, last 20): query in process", ours=q,
                    ref=None, ref_name="", ratio=None, ratio_label="", target="≤ 50 ms", met=q.median <= 50))
    return rows


def main() -> None:
    cli("Benchmark 5: store queries over 1,000,000 step results", run, default_reps=7)


if __name__ == "__main__":
    main()
