"""The offline buffer and ``bench sync`` on a real PostgreSQL that goes away and comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgcluster import PgCluster, create_database, pg_cluster, pg_reason_to_skip

from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store import outbox, sync
from bench.store.engine import Store, parse_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    """A cluster of this module's own: its tests stop and restart it."""
    reason = pg_reason_to_skip()
    if reason:
        pytest.skip(reason)
    with pg_cluster() as c:
        yield c


@pytest.fixture
def db(cluster: PgCluster) -> Iterator[str]:
    """A fresh database on the module's cluster, which is running at the start and the end of the test."""
    if not cluster.running:
        cluster.start()
    url = create_database(cluster.url, f"s_{os.urandom(6).hex()}")
    Store.open(url).close()
    yield url
    if not cluster.running:
        cluster.start()


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


def slow_plan(tmp_path: Path, steps: int = 8) -> Path:
    """A plan of about 0.6 s per step on the simulated bench: time enough to stop the database mid-run."""
    text = 'plan: slow-power\nversion: "1.0"\ndefaults:\n  timeout: 20\nsteps:\n  - name: identify\n    check: unit.identify\n'
    for i in range(steps):
        text += f"  - name: current-{i}\n    check: power.supply_current\n    params:\n      settle_s: 0.3\n"
    path = tmp_path / "slow.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def count(url: str, sql: str) -> int:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def summary_rows(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT model, station_id, verdict, runs, firsts, firsts_here, duration_us "
                                        "FROM run_totals WHERE runs <> 0 OR firsts <> 0 OR firsts_here <> 0 "
                                        "ORDER BY 1, 2, 3")).all()
            faults = conn.execute(sa.text("SELECT model, station_id, fault, runs FROM fault_totals WHERE runs <> 0 "
                                          "ORDER BY 1, 2, 3")).all()
            return [tuple(r) for r in runs], [tuple(r) for r in faults]
    finally:
        engine.dispose()


def assert_summary_exact(url: str) -> None:
    """The summary rows kept at insert equal the ones recomputed from the runs."""
    from bench.store import totals

    kept = summary_rows(url)
    with Store.open(url) as store, store.db.write():
        totals.rebuild(store.db)
    assert summary_rows(url) == kept


def stored(url: str, run_id: str) -> dict[str, object]:
    with Store.open(url) as store:
        return store.get_run(run_id).to_dict()


def outbox_files() -> list[str]:
    return sorted(p.name for p in outbox.data_dir().glob("outbox-*"))


def test_database_lost_mid_run_buffers_the_rest_and_sync_completes_it(cluster: PgCluster, db: str,
                                                                      tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "--sim", str(slow_plan(tmp_path)), "--db", db,
                             "--report", str(tmp_path / "reports"), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while count(db, "SELECT count(*) FROM steps") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        cluster.stop()  # mid-run: the connections are cut
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    rec = json.loads(out)
    assert rec["verdict"] == "PASS" and len(rec["steps"]) == 9
    assert Path(rec.pop("report"), "report.html").is_file()  # the report as usual
    said = [line for line in err.splitlines() if "bench sync" in line]
    assert len(said) == 1 and "buffered" in said[0], err  # once, in one line
    assert "Traceback" not in err, err  # the lost connection is not handed back to the pool to roll back
    assert outbox_files()

    cluster.start()
    in_db = count(db, "SELECT count(*) FROM steps")
    assert 3 <= in_db < 9
    # another command on this host does not settle the buffered run as ABORTED: sync completes it
    opened = bench("runs", "open", "--db", db, "--json")
    assert [r["run_id"] for r in json.loads(opened.stdout)] == [rec["run_id"]]

    first = bench("sync", "--db", db, "--json")
    assert first.returncode == 0, first.stderr
    (done,) = json.loads(first.stdout)
    assert done["uploaded"] == [rec["run_id"]] and done["completed"] == [rec["run_id"]]
    assert done["steps"] == 9 - in_db and done["outbox_removed"]
    assert stored(db, rec["run_id"]) == rec  # every step, measurement and the verdict, as the run did
    assert count(db, "SELECT count(*) FROM steps") == 9
    assert count(db, "SELECT count(*) FROM runs") == 1
    assert_summary_exact(db)
    assert outbox_files() == []  # nothing left behind

    again = bench("sync", "--db", db)
    assert again.returncode == 0 and "nothing to upload" in again.stdout
    assert count(db, "SELECT count(*) FROM steps") == 9
    assert_summary_exact(db)


def test_database_down_at_start_the_run_goes_to_the_outbox(cluster: PgCluster, db: str, tmp_path: Path) -> None:
    cluster.stop()
    ran = bench("run", "--sim", "pos-quick", "--db", db, "--report", str(tmp_path / "r"), "--json")
    assert ran.returncode == 0, ran.stderr
    rec = json.loads(ran.stdout)
    rec.pop("report")
    assert rec["verdict"] == "PASS"
    assert len([line for line in ran.stderr.splitlines() if "bench sync" in line]) == 1
    lot = bench("run", "--sim", "pos-quick", "--db", db, "--lot", "L1", "--report", str(tmp_path / "r"))
    assert lot.returncode == 3 and "lots and repair cases need the database" in lot.stderr  # a lot needs it
    down = bench("sync", "--db", db)
    assert down.returncode == 3 and down.stderr.startswith("bench: error: ")  # nothing lost: run it again later

    cluster.start()
    synced = bench("sync")  # no --db: the outbox says which database (no password in this URL)
    assert synced.returncode == 0, synced.stderr
    assert "uploaded 1 run(s) (0 completed), 5 step(s)" in synced.stdout and rec["run_id"] in synced.stdout
    assert stored(db, rec["run_id"]) == rec
    assert_summary_exact(db)
    assert outbox_files() == []


def make_run(n: int, verdict: Verdict = Verdict.PASS) -> tuple[RunRecord, list[StepRecord]]:
    start = T0 + timedelta(minutes=n)
    run = RunRecord(run_id=f"00000000-0000-4000-8000-{n:012d}", plan_name="p", plan_version="1", plan_hash="h",
                    station="bench-7", operator="op", started_at=start, unit=UnitInfo("PT-300", f"SN{n % 2}"))
    steps = [StepRecord(index=i, name=f"s{i}", check="power.battery",
                        outcome=Outcome.FAIL if verdict == Verdict.FAIL and i == 2 else Outcome.PASS,
                        started_at=start + timedelta(seconds=i), duration_s=0.5,
                        fault="BAT-LOW" if verdict == Verdict.FAIL and i == 2 else None,
                        measurements=[Measurement("battery_v", 3.7 + i / 100, "V", Limit(min=3.6, max=4.2), True)])
             for i in range(4)]
    return run, steps


def test_an_interrupted_sync_run_again_uploads_each_run_once(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    box = outbox.for_url(db)
    runs = [make_run(1), make_run(2, Verdict.FAIL), make_run(3)]
    with outbox.held(box), Store.open(box.store_url) as local:
        for run, steps in runs:
            local.start_run(run)
            for step in steps:
                local.add_step(run.run_id, step)
            local.finish_run(run.run_id, Verdict.FAIL if any(s.fault for s in steps) else Verdict.PASS,
                             run.started_at + timedelta(seconds=5), "done",
                             [Finding("BAT-LOW", "battery low", "power", "battery", "replace the battery", True)] if run.run_id.endswith("2") else [])
    partial, partial_steps = runs[1]
    with Store.open(db) as remote:  # the second run lost the database after two steps
        remote.start_run(partial)
        for step in partial_steps[:2]:
            remote.add_step(partial.run_id, step)

    real, calls = sync.upload, []

    def interrupted(store: object, rec: RunRecord) -> tuple[bool, int]:
        calls.append(rec.run_id)
        if len(calls) == 2:
            real(store, rec)  # the database has it all; the outbox still has it too
            raise KeyboardInterrupt
        return real(store, rec)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "upload", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync.sync(db)
    monkeypatch.setattr(sync, "upload", real)
    assert box.exists

    again = bench("sync", "--db", db, "--json")
    assert again.returncode == 0, again.stderr
    (done,) = json.loads(again.stdout)
    assert done["uploaded"] == [runs[1][0].run_id, runs[2][0].run_id]
    assert done["completed"] == [runs[1][0].run_id] and done["steps"] == 4
    assert count(db, "SELECT count(*) FROM runs") == 3
    assert count(db, "SELECT count(*) FROM steps") == 12
    assert count(db, "SELECT count(*) FROM measurements") == 12
    assert count(db, "SELECT count(*) FROM findings") == 1
    with Store.open(db) as remote:
        assert [r.verdict for r in remote.history("SN0")] == [Verdict.FAIL]
        assert remote.stats().runs == 3 and remote.stats().verdicts == {"PASS": 2, "FAIL": 1}
    assert_summary_exact(db)
    assert not box.exists and outbox_files() == []
    assert json.loads(bench("sync", "--db", db, "--json").stdout)[0]["uploaded"] == []
    assert count(db, "SELECT count(*) FROM steps") == 12


def test_a_multi_up_run_without_its_database_buffers_every_unit(tmp_path: Path, many_slots: None) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: the database is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://bench@127.0.0.1:{port}/bench"
    ran = bench("run", "--sim", "pos-quick", "--units", "2", "--db", url, "--report", str(tmp_path / "r"))
    assert ran.returncode == 0, ran.stderr
    assert len([line for line in ran.stderr.splitlines() if "bench sync" in line]) == 1  # once for the two slots
    box = outbox.for_url(url)
    assert len(outbox.pending_ids(box)) == 2
    down = bench("sync", "--db", url)
    assert down.returncode == 3 and len(outbox.pending_ids(box)) == 2  # still there for the next try
