"""The store under real processes: ``kill -9`` mid-run, and eight stations writing at once."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgcluster import create_database

from bench.record import Verdict
from bench.store.engine import Store, parse_url
from bench.store.schema import LATEST

_LOG = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

# One station: builds deterministic runs so the parent can rebuild what each step must be.
_COMMON = textwrap.dedent(
    """
    import os, sys, time, uuid
    from datetime import UTC, datetime, timedelta
    from bench.measure import Limit, Measurement
    from bench.record import Outcome, RunRecord, StepRecord, UnitInfo, Verdict
    from bench.store.engine import Store

    T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

    def make_step(worker, run_no, i):
        at = T0 + timedelta(seconds=worker * 100000 + run_no * 10 + i)
        lim = Limit(min=3.6, max=4.2, unit="V")
        value = round(3.6 + ((worker * 7 + run_no * 3 + i) % 60) / 100, 3)
        return StepRecord(
            index=i, name=f"s{i}", check="power.battery", outcome=Outcome.PASS, started_at=at,
            duration_s=0.25, message=f"w{worker} r{run_no} s{i}", log=[f"line {i}"],
            measurements=[Measurement("battery_v", value, "V", lim, True)],
        )

    def make_run(worker, run_no, run_id):
        return RunRecord(
            run_id=run_id, plan_name="p", plan_version="1", plan_hash="h", station=f"st{worker}",
            operator="op", started_at=T0 + timedelta(seconds=worker * 100000 + run_no * 10),
            unit=UnitInfo("T650", f"SN{worker:02d}{run_no:04d}"),
        )
    """
)

_KILL_CHILD = _COMMON + textwrap.dedent(
    """
    store = Store.open(sys.argv[1])
    run_id = sys.argv[2]
    store.start_run(make_run(0, 0, run_id))
    i = 0
    while True:
        store.add_step(run_id, make_step(0, 0, i))
        print(i, flush=True)
        i += 1
        time.sleep(0.005)
    """
)

_WORKER = _COMMON + textwrap.dedent(
    """
    url, go = sys.argv[1], float(sys.argv[5])
    worker, n_runs, n_steps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    while time.time() < go:
        time.sleep(0.001)
    store = Store.open(url)  # all open at once: the migration must be taken by exactly one
    for r in range(n_runs):
        run = make_run(worker, r, str(uuid.uuid4()))
        store.start_run(run)
        for i in range(n_steps):
            store.add_step(run.run_id, make_step(worker, r, i))
        store.finish_run(run.run_id, Verdict.PASS, run.started_at + timedelta(seconds=n_steps), "ok", [])
    store.close()
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a store that does not exist yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bench.db'}"
    return create_database(request.getfixturevalue("pg_url"), f"t_{uuid.uuid4().hex[:12]}")


def _child_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[3])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def test_kill_9_loses_no_finished_step(store_url: str) -> None:
    Store.open(store_url).close()
    run_id = str(uuid.uuid4())
    child = subprocess.Popen(
        [sys.executable, "-c", _KILL_CHILD, store_url, run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    reported: list[int] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        while len(reported) < 25 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            reported.append(int(line))
        os.kill(child.pid, signal.SIGKILL)  # mid-run, mid-step most likely
    finally:
        child.kill()
        _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(reported) == 25, f"child reported only {reported}: {err}"

    ns: dict[str, object] = {}
    exec(compile(_COMMON, "<common>", "exec"), ns)  # the same step builder the child used
    make_step = ns["make_step"]
    with Store.open(store_url) as store:
        run = store.get_run(run_id)
        assert run.verdict is Verdict.RUNNING
        stored = [s.index for s in run.steps]
        assert stored == list(range(len(stored)))  # no hole, no half-written step
        assert set(reported) <= set(stored)
        for step in run.steps:
            assert step.to_dict() == make_step(0, 0, step.index).to_dict()  # type: ignore[operator]
        assert store.mark_abandoned() == [run_id]
        aborted = store.get_run(run_id)
        last = run.steps[-1]
        assert aborted.verdict is Verdict.ABORTED
        assert aborted.ended_at is not None
        assert abs((aborted.ended_at - last.started_at).total_seconds() - last.duration_s) < 1e-6
        assert [s.to_dict() for s in aborted.steps] == [s.to_dict() for s in run.steps]


def test_eight_stations_writing_at_once_lose_nothing(store_url: str) -> None:
    workers, n_runs, n_steps = 8, 200, 3
    go = time.time() + 1.5  # every worker starts (and opens the new store) at this instant
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, store_url, str(w), str(n_runs), str(n_steps), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )
        for w in range(workers)
    ]
    errors = []
    for p in procs:
        _, err = p.communicate(timeout=600)
        if p.returncode != 0:
            errors.append(err)
    elapsed = time.time() - go
    _LOG.info("8 x %d runs x %d steps on %s: %.1f s", n_runs, n_steps, store_url.split(":")[0], elapsed)
    assert not errors, errors[0]

    engine = sa.create_engine(parse_url(store_url))
    try:
        with engine.connect() as conn:

            def count(sql: str) -> int:
                return int(conn.execute(sa.text(sql)).scalar_one())

            assert count("SELECT count(*) FROM runs") == workers * n_runs
            assert count("SELECT count(*) FROM runs WHERE verdict = 'PASS'") == workers * n_runs
            assert count("SELECT count(*) FROM steps") == workers * n_runs * n_steps
            assert count("SELECT count(*) FROM measurements") == workers * n_runs * n_steps
            assert count("SELECT count(*) FROM units") == workers * n_runs
            assert count("SELECT count(*) FROM stations") == workers
            assert count("SELECT count(*) FROM schema_version") == LATEST  # each migration applied once
            per_run = conn.execute(sa.text("SELECT count(*) FROM steps GROUP BY run_id")).scalars().all()
            assert set(per_run) == {n_steps}
    finally:
        engine.dispose()
    with Store.open(store_url) as store:
        assert len(store.history("SN070199")) == 1
        assert store.stats().runs == workers * n_runs
