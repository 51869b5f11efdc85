"""Many benches writing to one store at once: nothing lost or duplicated, when they meet the same new unit or station."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.store import totals
from bench.store.engine import Store, parse_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

# Every worker tests the same units, in the same order, on the same station, from the same instant.
_WORKER = textwrap.dedent(
    """
    import sys, time, uuid
    from datetime import UTC, datetime, timedelta
    from bench.measure import Limit, Measurement
    from bench.record import Outcome, RunRecord, StepRecord, UnitInfo, Verdict
    from bench.store.engine import Store

    url, worker, units, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    store = Store.open(url)
    while time.time() < go:
        time.sleep(0.001)
    for u in range(units):
        at = T0 + timedelta(seconds=u * 100 + worker)
        run = RunRecord(run_id=str(uuid.uuid4()), plan_name="p", plan_version="1", plan_hash="h",
                        station="line-1", operator="op", started_at=at, unit=UnitInfo("PT-300", f"NEW{u:04d}"))
        store.start_run(run)
        for i in range(2):
            store.add_step(run.run_id, StepRecord(index=i, name=f"s{i}", check="power.battery",
                           outcome=Outcome.PASS, started_at=at, duration_s=0.1,
                           measurements=[Measurement("battery_v", 3.9, "V", Limit(min=3.6, max=4.2), True)]))
        verdict = Verdict.FAIL if (u + worker) % 5 == 0 else Verdict.PASS
        store.finish_run(run.run_id, verdict, at + timedelta(seconds=1), "", [])
    store.close()
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _counts(url: str, *tables: str) -> dict[str, int]:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}
    finally:
        engine.dispose()


def _summary(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT model, station_id, verdict, runs, firsts, firsts_here, duration_us "
                                        "FROM run_totals WHERE runs <> 0 OR firsts <> 0 ORDER BY 1, 2, 3")).all()
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def test_benches_meeting_the_same_new_units_and_station_at_once(store_url: str) -> None:
    workers, units = 8, 60
    Store.open(store_url).close()
    go = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, store_url, str(w), str(units), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for w in range(workers)]
    errors = [err for p in procs for _, err in [p.communicate(timeout=600)] if p.returncode != 0]
    assert not errors, errors[0]

    assert _counts(store_url, "units", "stations", "runs", "steps", "measurements") == {
        "units": units, "stations": 1, "runs": workers * units, "steps": workers * units * 2,
        "measurements": workers * units * 2}
    kept = _summary(store_url)
    assert sum(int(r[4]) for r in kept) == units  # each unit's first judged run, counted once
    with Store.open(store_url) as store:
        assert store.stats().runs == workers * units
        assert len(store.history("NEW0042")) == workers
        with store.db.write():
            totals.rebuild(store.db)
    assert _summary(store_url) == kept  # the summary rows kept under the race equal the recomputed ones


def test_simulated_benches_running_at_once_on_one_database(pg_url: str, tmp_path: Path, many_slots: None) -> None:
    from pgcluster import create_database

    url = create_database(pg_url, f"w_{os.urandom(6).hex()}")
    n = 4
    procs = [subprocess.Popen([sys.executable, "-m", "bench", "run", "--sim", "pos-quick", "--db", url,
                               "--report", str(tmp_path / f"r{i}"), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for i in range(n)]  # a new database: they create its schema and meet the same unit and station
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * n, [err for _, err in outs]
    assert _counts(url, "runs", "units", "stations", "steps") == {"runs": n, "units": 1, "stations": 1,
                                                                  "steps": 5 * n}
    with Store.open(url) as store:
        assert [r.verdict.value for r in store.history("PT3-000123")] == ["PASS"] * n
