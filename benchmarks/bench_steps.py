"""Benchmark 1: per-step cost of a whole run against OpenHTF's per-phase cost, JSON written on both sides.

Ours: :class:`bench.runner.Runner` directly (no CLI, no devices) on a plan whose every step
reports one measurement judged against a min/max limit, each step stored as it ends in a real
SQLite store in a temp dir, opened the way ``bench run`` opens an existing store
(:func:`bench.store.connect.open_store`: ``sqlite3`` alone), then the run's ``run.json`` written
by the report writer (:func:`bench.reports.render.write_reports`, the file ``bench run`` writes).
The time runs from ``Runner(...)`` to ``run.json`` on disk: run start, the steps, run end with
the diagnosis, record to JSON. Creating and opening the store is not counted: a station opens it
once per command.

Reference, same process, same run, interleaved: OpenHTF 1.6.3 running the same number of phases
each with an ``in_range`` measurement, with its own JSON output callback (``OutputToJSON``) to a
file in a temp dir. ``Test.execute()`` is timed (it includes writing the JSON).

Two plan lengths: 24 steps (the length of ``testplans/pos-full.yaml``; each sample is the mean
of several runs) and 1,000 steps. Two store settings for ours:

* durable: the store's default, ``synchronous=full``: each step is a committed transaction
  with an fsync of the write-ahead log, so it survives a power cut.
* not durable: ``?synchronous=off``: no fsync per step, like OpenHTF, which keeps nothing before
  the end of the test. This is the like-for-like figure, and the one the goal is judged on.

The JSON files: OpenHTF writes a temp file and renames it, without fsync. Ours is written as
``bench run`` writes every report file (:func:`bench.reports.files.write_atomic`): a temp file,
then renamed, without fsync either (the store is what survives a power cut; a report is
written again from it by ``bench report``).
"""

from __future__ import annotations

import functools
import gc
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import Row, Series, cli

LENGTHS = (24, 1000)
#: Runs averaged into one sample, by plan length (a 24-step run lasts a few milliseconds).
RUNS_PER_SAMPLE = {24: 20, 1000: 1}
#: The goals issue #12 sets: OpenHTF's time / ours, with JSON on both sides.
GOAL = {24: 4.0, 1000: 5.0}
#: The store settings we measure with: (label, URL query).
STORES = (("durable: default synchronous=full", ""), ("not durable: ?synchronous=off", "?synchronous=off"))


def _plan(n: int) -> Any:
    from bench.checks.base import CheckSpec, StepContext
    from bench.measure import Limit
    from bench.plan import Plan, Step

    limit = Limit(min=0.0, max=2.0, unit="V")

    def one(ctx: StepContext) -> None:
        ctx.measure("value", 1.0, unit="V")

    spec = CheckSpec("bench.one_measurement", one, "one measurement", measurements={"value": limit})
    steps = tuple(
        Step(name=f"s{i:04d}", check=spec, params={}, limits=dict(spec.measurements), timeout=10.0, retries=0)
        for i in range(n)
    )
    return Plan(name="bench-steps", version="1", description="", steps=steps, sha256="0" * 64)


def store_url(workdir: Path, query: str) -> str:
    """A new SQLite store in ``workdir`` with the URL ``query`` (``""``: the defaults)."""
    return f"sqlite:///{Path(tempfile.mkdtemp(dir=workdir)) / 'bench.db'}{query}"


def ours(n: int, runs: int, url: str, workdir: Path) -> float:
    """Seconds per step, over ``runs`` runs of ``n`` steps each stored in ``url``, each writing run.json."""
    from bench.devices import DeviceSet
    from bench.operator import ScriptedOperator
    from bench.reports.render import write_reports
    from bench.runner import Runner
    from bench.store.connect import open_store

    plan = _plan(n)
    reports = Path(tempfile.mkdtemp(dir=workdir))
    open_store(url).close()  # creates the schema; bench run then finds a current store
    with open_store(url) as store:
        gc.collect()  # each side starts from a heap without the other's garbage
        t0 = time.perf_counter()
        for i in range(runs):
            rec = Runner(plan, DeviceSet({}), ScriptedOperator(), store, station="bench").run()
            write_reports(rec, reports / str(i), ("json",))
        elapsed = time.perf_counter() - t0
    assert len(rec.steps) == n and rec.verdict.value == "PASS", rec.verdict
    assert (reports / "0" / "run.json").stat().st_size > 0
    return elapsed / (n * runs)


def _ours_in(n: int, runs: int, query: str, workdir: Path) -> float:
    return ours(n, runs, store_url(workdir, query), workdir)


def _htf_test(n: int, out: Path) -> Any:
    import openhtf as htf
    from openhtf.output.callbacks import json_factory
    from openhtf.util import console_output

    console_output.CLI_QUIET = True  # no end-of-test banner: ours prints nothing either

    @htf.measures(htf.Measurement("value").in_range(0.0, 2.0).with_units("V"))
    def phase(test):  # type: ignore[no-untyped-def]
        test.measurements.value = 1.0

    phases = [htf.PhaseOptions(name=f"s{i:04d}")(phase) for i in range(n)]
    test = htf.Test(*phases, test_name="bench-steps")
    test.add_output_callbacks(json_factory.OutputToJSON(str(out), indent=None))
    return test


def htf(n: int, runs: int, workdir: Path) -> float:
    """Seconds per phase over ``runs`` OpenHTF tests of ``n`` phases, each writing its JSON."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    tests = [(_htf_test(n, folder / f"{i}.json"), folder / f"{i}.json") for i in range(runs)]
    gc.collect()
    t0 = time.perf_counter()
    for test, _ in tests:
        assert test.execute(test_start=lambda: "DUT-1"), "OpenHTF run did not pass"
    elapsed = time.perf_counter() - t0
    assert all(out.stat().st_size > 0 for _, out in tests)
    return elapsed / (n * runs)


def _quiet() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("openhtf", "bench"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(reps: int) -> list[Row]:
    _quiet()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        work = Path(tmp)
        for n in LENGTHS:
            runs = RUNS_PER_SAMPLE[n]
            sides: dict[str, Callable[[], float]] = {
                label: functools.partial(_ours_in, n, runs, query, work) for label, query in STORES
            }
            sides["htf"] = functools.partial(htf, n, runs, work)
            for fn in sides.values():  # warm-up (imports, schema creation, OpenHTF's lazy set-up)
                fn()
            samples: dict[str, list[float]] = {k: [] for k in sides}
            for _ in range(reps):  # interleaved, so load changes hit every side alike
                for key, fn in sides.items():
                    samples[key].append(fn() * 1000)
            ref = Series("ms/phase", samples["htf"])
            for label, query in STORES:
                o = Series("ms/step", samples[label])
                ratio = ref.median / o.median
                like_for_like = "off" in query
                rows.append(Row(
                    bench="1",
                    what=f"{n:,}-step run, one measurement vs limit per step, stored ({label}), run.json written",
                    ours=o, ref=ref, ref_name="OpenHTF 1.6.3 + OutputToJSON (in_range)",
                    ratio=ratio, ratio_label="OpenHTF/ours",
                    target=(f"ratio ≥ {GOAL[n]:g} (no fsync per step on either side)" if like_for_like
                            else "reported: the cost of an fsync per step (OpenHTF does none)"),
                    met=ratio >= GOAL[n] if like_for_like else None,
                    note=(f"{runs} runs per sample" if runs > 1 else ""),
                ))
    return rows


def main() -> None:
    cli("Benchmark 1: per-step cost of a stored run with run.json vs OpenHTF with JSON", run, default_reps=5)


if __name__ == "__main__":
    main()
