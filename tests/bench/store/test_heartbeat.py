"""A bench's heartbeat (bench/store/heartbeat.py) as the fleet dashboard shows it: up, running, stale, stopped."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stored import store_run

from bench.record import Verdict
from bench.store import dashboard, heartbeat
from bench.store.dashboard import BenchStatus
from bench.store.engine import Store
from drivers import owner
from tests.bench.store.test_store import T0, make_run

ROOT = Path(__file__).resolve().parents[3]


def _benches(url: str, at: timedelta = timedelta(0)) -> list[BenchStatus]:
    with Store.open(url) as store, store.db.read():
        found = dashboard.benches(store.db, datetime.now(UTC) + at)
    return found


def _until(what: Callable[[], list[BenchStatus]], ok: Callable[[list[BenchStatus]], bool],
           seconds: float = 60) -> list[BenchStatus]:
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if ok(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_bench_is_up_while_it_beats_and_shows_what_it_runs(store_url: str) -> None:
    Store.open(store_url).close()
    run = make_run(T0, serial="SN-7")
    run.slot = 2
    heart = heartbeat.Heartbeat(store_url, "line-3", slots=4, interval_s=0.05).start()
    try:
        up = _until(lambda: _benches(store_url), lambda b: bool(b) and b[0].state == "idle")
        assert [(b.name, b.host, b.up, b.state, b.run_id, b.doing, b.slots) for b in up] == [
            ("line-3", owner.host(), True, "idle", None, "", 4)]
        heart.run_started(run)
        busy = _until(lambda: _benches(store_url), lambda b: b[0].state == "running")
        assert (busy[0].run_id, busy[0].doing) == (run.run_id, "full: slot 2: SN-7")
        first_seen = busy[0].last_seen
        later = _until(lambda: _benches(store_url), lambda b: b[0].last_seen > first_seen)
        assert later[0].last_seen > first_seen  # it keeps beating
        heart.run_ended(run.run_id)
        idle = _until(lambda: _benches(store_url), lambda b: b[0].state == "idle")
        assert (idle[0].run_id, idle[0].doing) == (None, "")
    finally:
        heart.stop()
    gone = _benches(store_url)
    assert [(b.state, b.up, b.run_id) for b in gone] == [("stopped", True, None)]
    stale = _benches(store_url, at=timedelta(seconds=dashboard.HEARTBEAT_STALE_S + 1))
    assert [(b.name, b.up) for b in stale] == [("line-3", False)]  # a bench not heard from for 30 s is down


def test_benches_are_listed_by_name_and_a_silent_one_goes_stale(store_url: str) -> None:
    Store.open(store_url).close()
    for name in ("zeta", "alpha"):
        heartbeat.Heartbeat(store_url, name, interval_s=3600).start().stop()
    with Store.open(store_url) as store:
        row = heartbeat.Heartbeat(store_url, "beta").beat(datetime.now(UTC) - timedelta(minutes=5))
        row["started_at"], row["last_seen"] = store.db.time(row["started_at"]), store.db.time(row["last_seen"])
        with store.db.write():  # as a bench that died five minutes ago left it
            store.db.execute(heartbeat._BEAT, row)
    found = _benches(store_url)
    assert [(b.name, b.up, b.state) for b in found] == [("alpha", True, "stopped"), ("beta", False, "idle"),
                                                        ("zeta", True, "stopped")]


def test_a_failing_heartbeat_is_logged_and_the_thread_still_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bench.store.heartbeat")
    heart = heartbeat.Heartbeat("postgresql://bench@127.0.0.1:1/nothing", "line-9", interval_s=0.01).start()
    heart.run_ended("x")
    _until(lambda: [], lambda _: "heartbeat of line-9 to the store failed" in caplog.text, 30)
    heart.stop()
    assert "heartbeat of line-9 to the store failed" in caplog.text
    assert caplog.text.count("heartbeat of line-9 to the store failed") == 1  # said once, not every beat


@pytest.mark.parametrize("value, expected", [("0.5", 0.5), ("", 5.0), ("soon", 5.0), ("-1", 5.0)])
def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: float) -> None:
    monkeypatch.setenv("BENCH_HEARTBEAT_S", value)
    assert heartbeat.interval() == expected


def _bench(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_bench_run_beats_and_says_goodbye(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    proc = _bench("run", "pos-quick", "--sim", "--db", url, "--report", str(tmp_path / "rep"),
                  env={"BENCH_HEARTBEAT_S": "0.05"})
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    (bench,) = _benches(url)
    assert (bench.name, bench.host, bench.state, bench.slots, bench.up) == ("sim", owner.host(), "stopped", 1, True)
    with Store.open(url) as store, store.db.read():
        (run,) = dashboard.station_runs(store.db, "sim")
        page = dashboard.overview(store.db, run.started_at)
    assert run.verdict is Verdict.PASS and page.today.runs == 1 and page.today.first_pass_yield == 1.0


@pytest.mark.slow
def test_a_soak_on_two_slots_shows_live_on_the_dashboard(tmp_path: Path) -> None:
    """`bench soak --units 2` (multi-up, through `bench run`): the bench, its runs in progress, then its yield."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store.open(url).close()
    proc = _bench("soak", "short", "--sim", "--units", "2", "--scenario", "2=soak-dead-key", "--db", url,
                  "--report", str(tmp_path / "rep"), env={"BENCH_HEARTBEAT_S": "0.05"})
    try:
        live = _until(lambda: _benches(url), lambda b: bool(b) and b[0].state == "running" and "?" not in b[0].doing
                      and b[0].doing.count("slot") == 2, 120)
        with Store.open(url) as store, store.db.read():
            in_progress = dashboard.running(store.db, station="sim")
    finally:
        _, err = proc.communicate(timeout=300)
    (bench,) = live
    assert bench.state == "running" and bench.slots == 2 and bench.up
    assert bench.doing.startswith("soak-short: slot 1: ") and ", slot 2: " in bench.doing
    assert sorted(r.slot for r in in_progress) == [1, 2]
    assert bench.run_id in {r.run_id for r in in_progress}
    assert proc.returncode == 1, err  # slot 2's dead key fails its unit
    (after,) = _benches(url)
    assert after.state == "stopped" and after.run_id is None
    with Store.open(url) as store, store.db.read():
        day = in_progress[0].started_at.date()
        (figure,) = dashboard.yield_by_day(store.db, day, day)
        faults = dashboard.pareto(store.db, day, day)
        assert dashboard.running(store.db) == []
    assert (figure.figure.runs, figure.figure.passed, figure.figure.failed) == (2, 1, 1)
    assert faults and faults[0].runs == 1


def test_a_heartbeat_that_cannot_write_does_not_fail_the_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Store.open(url).close()
    con = sqlite3.connect(tmp_path / "b.db")
    con.execute("DROP TABLE heartbeats")  # every beat fails
    con.close()
    proc = _bench("run", "pos-quick", "--sim", "--db", url, "--report", str(tmp_path / "rep"), "--json",
                  env={"BENCH_HEARTBEAT_S": "0.01"})
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert '"verdict": "PASS"' in out
    with Store.open(url) as store:
        (run,) = store.history("PT3-000123") or [None]
        assert run is not None and run.verdict is Verdict.PASS


def test_the_sink_tells_the_heartbeat_after_the_store_took_the_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    heart = heartbeat.Heartbeat(url, "st1", interval_s=3600)
    with Store.open(url) as store:
        watched = heart.watch(store)
        run = make_run(T0, serial="W1")
        store_run(watched, run)  # type: ignore[arg-type]
        assert heart.beat()["state"] == "idle"
        open_run = make_run(T0, serial="W2")
        open_run.verdict, open_run.ended_at = Verdict.RUNNING, None
        store_run(watched, open_run)  # type: ignore[arg-type]
        assert (heart.beat()["state"], heart.beat()["doing"]) == ("running", "full: W2")
        assert heart.beat(stopped=True)["state"] == "stopped"
        assert watched.history("W1")[0].run_id == run.run_id  # type: ignore[attr-defined]
