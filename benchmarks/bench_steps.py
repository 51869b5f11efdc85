"""Benchmark 1: per-step overhead of the runner with every step durably stored, against OpenHTF.

Ours: :class:`bench.runner.Runner` directly (no CLI), a plan of 1,000 steps, a
:class:`bench.devices.DeviceSet` with no devices, and the real SQLite :class:`bench.store.engine.Store`
(the default store: WAL, ``synchronous=NORMAL``, one committed transaction per step) in a temp dir.
Two plans: no-op checks, and checks that report one measurement judged against a min/max limit.
The time is ``Runner(...).run()`` (run start, 1,000 steps each stored, run end with diagnosis),
divided by 1,000. Opening the store (schema creation) is not counted.

Reference, same process: OpenHTF 1.6.3 running 1,000 no-op phases, and 1,000 phases each with an
``in_range`` measurement, with its own JSON output callback (``OutputToJSON``) to a temp file.
``Test.execute()`` is timed, divided by 1,000.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, Series, cli

N_STEPS = 1000


def _plan(measure: bool):  # type: ignore[no-untyped-def]
    from bench.checks.base import CheckSpec, StepContext
    from bench.measure import Limit
    from bench.plan import Plan, Step

    limit = Limit(min=0.0, max=2.0, unit="V")

    def noop(ctx: StepContext) -> None:
        return None

    def one(ctx: StepContext) -> None:
        ctx.measure("value", 1.0, unit="V")

    spec = (CheckSpec("bench.one_measurement", one, "one measurement", measurements={"value": limit})
            if measure else CheckSpec("bench.noop", noop, "no-op"))
    steps = tuple(
        Step(name=f"s{i:04d}", check=spec, params={}, limits=dict(spec.measurements), timeout=10.0, retries=0)
        for i in range(N_STEPS)
    )
    return Plan(name="bench-steps", version="1", description="", steps=steps, sha256="0" * 64)


def ours_once(measure: bool, workdir: Path) -> float:
    """Seconds per stored step for one 1,000-step run."""
    from bench.devices import DeviceSet
    from bench.operator import ScriptedOperator
    from bench.runner import Runner
    from bench.store.engine import Store

    plan = _plan(measure)
    db = Path(tempfile.mkdtemp(dir=workdir)) / "bench.db"
    with Store.open(f"sqlite:///{db}") as store:
        t0 = time.perf_counter()
        rec = Runner(plan, DeviceSet({}), ScriptedOperator(), store, station="bench").run()
        elapsed = time.perf_counter() - t0
    assert len(rec.steps) == N_STEPS and rec.verdict.value == "PASS", rec.verdict
    return elapsed / N_STEPS


def _htf_test(measure: bool, out: Path):  # type: ignore[no-untyped-def]
    import openhtf as htf
    from openhtf.output.callbacks import json_factory
    from openhtf.util import console_output

    console_output.CLI_QUIET = True  # no end-of-test banner: ours prints nothing either

    if measure:
        @htf.measures(htf.Measurement("value").in_range(0.0, 2.0).with_units("V"))
        def phase(test):  # type: ignore[no-untyped-def]
            test.measurements.value = 1.0
    else:
        def phase(test):  # type: ignore[no-untyped-def]
            return None

    phases = [htf.PhaseOptions(name=f"s{i:04d}")(phase) for i in range(N_STEPS)]
    test = htf.Test(*phases, test_name="bench-steps")
    test.add_output_callbacks(json_factory.OutputToJSON(str(out), indent=None))
    return test


def htf_once(measure: bool, workdir: Path) -> float:
    """Seconds per phase for one 1,000-phase OpenHTF test with its JSON output."""
    out = Path(tempfile.mkdtemp(dir=workdir)) / "htf.json"
    test = _htf_test(measure, out)
    t0 = time.perf_counter()
    ok = test.execute(test_start=lambda: "DUT-1")
    elapsed = time.perf_counter() - t0
    assert ok and out.stat().st_size > 0, "OpenHTF run did not pass"
    return elapsed / N_STEPS


def run(reps: int) -> list[Row]:
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("openhtf", "bench"):
        logging.getLogger(name).setLevel(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        work = Path(tmp)
        for measure in (False, True):
            # warm-up (imports, first schema creation, OpenHTF's lazy set-up), not counted
            ours_once(measure, work)
            htf_once(measure, work)
            ours, ref = [], []
            for _ in range(reps):  # interleaved, so load changes hit both sides alike
                ours.append(ours_once(measure, work) * 1000)
                ref.append(htf_once(measure, work) * 1000)
            o, r = Series("ms/step", ours), Series("ms/phase", ref)
            ratio = r.median / o.median
            what = ("1,000 steps, one measurement vs limit, each stored" if measure
                    else "1,000 no-op steps, each stored")
            rows.append(Row(
                bench="1", what=what, ours=o, ref=r,
                ref_name="OpenHTF 1.6.3 + JSON" + (" (in_range)" if measure else ""),
                ratio=ratio, ratio_label="OpenHTF/ours",
                target="≤ 0.1 ms/step and ratio ≥ 3",
                met=o.median <= 0.1 and ratio >= 3,
            ))
    return rows


def main() -> None:
    cli("Benchmark 1: per-step overhead (stored in SQLite) vs OpenHTF", run, default_reps=5)


if __name__ == "__main__":
    main()
