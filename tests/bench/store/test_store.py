"""The run store on SQLite and PostgreSQL: round trips, queries, migrations, errors, PAN masking."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stored import store_run

from bench.errors import EquipmentError, UsageError
from bench.measure import Limit, Measurement
from bench.record import AttachmentRecord, Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store.engine import RunNotFoundError, Store, parse_url
from bench.store.queries import SCHEMA_VERSION
from bench.store.schema import LATEST
from bench.store.sqlite import open_current
from drivers.codecs.pan import redact

T0 = datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)
PAN = "4761739001010010"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, empty store on each backend."""
    with Store.open(store_url) as s:
        yield s


# --------------------------------------------------------------------------- builders


def make_step(
    index: int,
    started: datetime,
    *,
    outcome: Outcome = Outcome.PASS,
    fault: str | None = None,
    duration: float = 1.5,
    measurements: list[Measurement] | None = None,
    message: str = "",
    log: list[str] | None = None,
    attachments: list[AttachmentRecord] | None = None,
) -> StepRecord:
    """A step with sensible defaults."""
    return StepRecord(
        index=index,
        name=f"step-{index}",
        check="unit.identity" if index == 0 else f"check.{index}",
        outcome=outcome,
        started_at=started,
        duration_s=duration,
        attempts=1,
        fault=fault,
        message=message,
        measurements=measurements or [],
        log=log or [],
        attachments=attachments or [],
    )


def make_run(
    started: datetime,
    *,
    serial: str = "SN001",
    model: str = "T650",
    station: str = "st1",
    verdict: Verdict = Verdict.PASS,
    steps: list[StepRecord] | None = None,
    findings: list[Finding] | None = None,
    duration: float = 10.0,
) -> RunRecord:
    """A finished run (ended ``duration`` seconds after it started)."""
    return RunRecord(
        run_id=str(uuid.uuid4()),
        plan_name="full",
        plan_version="3",
        plan_hash="sha256:abc",
        station=station,
        operator="ana",
        started_at=started,
        ended_at=started + timedelta(seconds=duration),
        verdict=verdict,
        unit=UnitInfo(model, serial, "B", "2.1.0"),
        steps=steps or [],
        findings=findings or [],
        summary=f"{verdict.value.lower()} run",
        lot="L42",
        scenario=None,
        bench_version="0.1.0",
    )


def rich_run() -> RunRecord:
    """A run exercising every field: limits of every kind, attachments, findings, odd text."""
    batt = Limit(min=3.6, max=4.2, unit="V", fault="PWR-BATT-LOW")
    steps = [
        make_step(
            0,
            T0,
            measurements=[
                Measurement("firmware", "2.1.0", limit=Limit(regex=r"2\.\d+\.\d+")),
                Measurement("model", "T650", limit=Limit(one_of=("T650", "T650p"))),
                Measurement("self_test", 0, limit=Limit(equals=0)),
            ],
            log=["> IDENT", "< T650 SN001 fw 2.1.0", "line with\nnewline and ünïcode ✓"],
        ),
        make_step(
            1,
            T0 + timedelta(seconds=2, microseconds=1),
            outcome=Outcome.FAIL,
            fault="PWR-BATT-LOW",
            duration=0.000123,
            measurements=[
                Measurement(
                    "battery_v", 3.412345678901, "V", batt, False, "PWR-BATT-LOW", "battery_v = 3.41 V"
                ),
                Measurement("charging", True),
                Measurement("cells", [3.7, 3.8], "V"),
                Measurement("info", {"a": 1, "b": [None, "x"]}),
                Measurement("missing", None),
                Measurement("big", 2**62),
            ],
            message="battery below limit",
        ),
        make_step(
            2,
            T0 + timedelta(seconds=5),
            attachments=[
                AttachmentRecord(
                    "receipt.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\xff" + bytes(range(256))
                ),
                AttachmentRecord("empty.bin", "application/octet-stream", b""),
                AttachmentRecord("notes.txt", "text/plain", "héllo\n".encode()),
            ],
        ),
        make_step(3, T0 + timedelta(seconds=6), outcome=Outcome.SKIP, duration=0.0),
    ]
    steps[2].attempts = 3
    findings = [
        Finding(
            "PWR-BATT-LOW",
            "Battery low",
            "power",
            "battery pack",
            "replace the battery",
            True,
            ["step-1"],
            ["unit may reset under load"],
        ),
        Finding("PRN-COVER", "Cover open", "printer", "cover switch", "close the cover", False),
    ]
    run = make_run(T0, verdict=Verdict.FAIL, steps=steps, findings=findings, duration=7.25)
    run.scenario = "battery-low"
    return run


def all_rows(url: str) -> list[tuple[str, tuple[Any, ...]]]:
    """Every row of every table of the store at ``url``."""
    engine = sa.create_engine(parse_url(url))
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return [(t.name, tuple(r)) for t in meta.sorted_tables for r in conn.execute(sa.select(t))]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- round trips


def test_run_round_trips_identically(store: Store) -> None:
    run = store_run(store, rich_run())
    back = store.get_run(run.run_id)
    assert back.to_dict() == run.to_dict()
    assert back.steps[2].attachments[0].data == run.steps[2].attachments[0].data
    assert back.steps[1].measurements[0].limit == run.steps[1].measurements[0].limit
    assert store.get_run(run.run_id[:8]).run_id == run.run_id
    latest = store.latest_run()
    assert latest is not None and latest.to_dict() == run.to_dict()


def test_run_without_unit_then_set_unit(store: Store) -> None:
    run = make_run(T0)
    run.unit = None
    run.verdict = Verdict.RUNNING
    run.ended_at = None
    store_run(store, run)
    back = store.get_run(run.run_id)
    assert back.unit is None and back.verdict is Verdict.RUNNING and back.ended_at is None
    unit = UnitInfo("T650", "SN777", "C", "3.0")
    store.set_unit(run.run_id, unit)
    assert store.get_run(run.run_id).unit == unit
    assert [h.run_id for h in store.history("SN777")] == [run.run_id]
    with pytest.raises(RunNotFoundError):
        store.set_unit("nope", unit)


def test_finish_run_replaces_findings(store: Store) -> None:
    run = store_run(store, make_run(T0, verdict=Verdict.FAIL, findings=[Finding("A", "a", "c", "p", "x", True)]))
    store.finish_run(run.run_id, Verdict.PASS, T0 + timedelta(seconds=1), "ok", [])
    back = store.get_run(run.run_id)
    assert back.findings == [] and back.verdict is Verdict.PASS and back.summary == "ok"


def test_start_run_records_running_pid_and_host(store: Store, store_url: str) -> None:
    run = make_run(T0, verdict=Verdict.PASS)
    store.start_run(run)
    assert store.get_run(run.run_id).verdict is Verdict.RUNNING
    rows = [r for name, r in all_rows(store_url) if name == "runs"]
    assert len(rows) == 1
    engine = sa.create_engine(parse_url(store_url))
    with engine.connect() as conn:
        pid, host = conn.execute(sa.text("SELECT pid, hostname FROM runs")).one()
    engine.dispose()
    assert (pid, host) == (os.getpid(), socket.gethostname())


def test_unknown_and_ambiguous_run_ids(store: Store) -> None:
    a = make_run(T0)
    b = make_run(T0)
    a.run_id, b.run_id = "abc-1", "abc-2"
    store_run(store, a)
    store_run(store, b)
    with pytest.raises(RunNotFoundError, match="ambiguous"):
        store.get_run("abc")
    with pytest.raises(RunNotFoundError, match="no run"):
        store.get_run("zzz")
    with pytest.raises(UsageError):
        store.get_run("abc%")  # LIKE wildcards are escaped
    assert store.get_run("abc-2").run_id == "abc-2"


def test_empty_store_queries(store: Store) -> None:
    assert store.latest_run() is None
    assert store.history("SN001") == []
    assert store.last_pass("SN001") is None
    assert store.trend("battery_v") == []
    stats = store.stats()
    assert (stats.runs, stats.units, stats.first_pass_yield, stats.mean_duration_s) == (0, 0, None, None)


# --------------------------------------------------------------------------- queries


def _dataset(store: Store) -> dict[str, RunRecord]:
    """Seven runs on three units with known yield, pareto and trend answers."""
    h = timedelta(hours=1)

    def batt(i: int, v: float, ok: bool = True) -> list[Measurement]:
        lim = Limit(min=3.6, max=4.2, unit="V")
        return [Measurement("battery_v", v, "V", lim, ok, None if ok else "PWR-BATT-LOW")]

    runs = {
        "r1": make_run(
            T0,
            serial="A",
            verdict=Verdict.FAIL,
            duration=60,
            steps=[make_step(0, T0, fault="KEY-STUCK", outcome=Outcome.FAIL, measurements=batt(0, 3.9))],
        ),
        "r2": make_run(
            T0 + h,
            serial="A",
            verdict=Verdict.PASS,
            duration=30,
            steps=[make_step(0, T0 + h, measurements=batt(0, 4.0))],
        ),
        "r3": make_run(
            T0 + 2 * h,
            serial="B",
            verdict=Verdict.PASS,
            duration=30,
            steps=[make_step(0, T0 + 2 * h, measurements=batt(0, 3.7))],
        ),
        "r4": make_run(
            T0 + 3 * h,
            serial="C",
            model="T700",
            station="st2",
            verdict=Verdict.FAIL,
            duration=90,
            steps=[
                make_step(
                    0, T0 + 3 * h, fault="PRN-COVER", outcome=Outcome.FAIL, measurements=batt(0, 3.5, False)
                ),
                make_step(
                    1,
                    T0 + 3 * h + timedelta(seconds=5),
                    fault="PRN-COVER",
                    outcome=Outcome.FAIL,
                    measurements=[Measurement("battery_v", "n/a")],
                ),
            ],
            findings=[
                Finding("PRN-COVER", "Cover", "printer", "cover", "close", False),
                Finding("PWR-BATT-LOW", "Batt", "power", "battery", "replace", True),
            ],
        ),
        "r5": make_run(
            T0 + 4 * h,
            serial="C",
            model="T700",
            station="st2",
            verdict=Verdict.FAIL,
            duration=30,
            steps=[make_step(0, T0 + 4 * h, fault="PRN-COVER", outcome=Outcome.FAIL)],
        ),
        "r6": make_run(
            T0 + 5 * h,
            serial="B",
            verdict=Verdict.ERROR,
            duration=60,
            steps=[make_step(0, T0 + 5 * h, measurements=batt(0, 4.1))],
        ),
        "r7": make_run(
            T0 + 6 * h,
            serial="A",
            verdict=Verdict.RUNNING,
            steps=[make_step(0, T0 + 6 * h, measurements=batt(0, 4.05))],
        ),
    }
    runs["r7"].ended_at = None
    for run in runs.values():
        store_run(store, run)
    return runs


def test_history_newest_first_and_last_pass(store: Store) -> None:
    runs = _dataset(store)
    hist = store.history("A")
    assert [h.run_id for h in hist] == [runs[k].run_id for k in ("r7", "r2", "r1")]
    assert [h.verdict for h in hist] == [Verdict.RUNNING, Verdict.PASS, Verdict.FAIL]
    assert hist[2].faults == ["KEY-STUCK"] and hist[1].faults == []
    assert (
        hist[0].station == "st1"
        and hist[0].plan_name == "full"
        and hist[0].started_at == T0 + timedelta(hours=6)
    )
    assert [h.run_id for h in store.history("A", limit=2)] == [runs["r7"].run_id, runs["r2"].run_id]
    c_hist = store.history("C")
    assert c_hist[1].faults == ["PRN-COVER", "PWR-BATT-LOW"]  # steps' codes once each, then findings'
    last = store.last_pass("A")
    assert last is not None and last.run_id == runs["r2"].run_id
    assert store.last_pass("C") is None
    assert store.history("nobody") == []
    assert hist[0].to_dict()["verdict"] == "RUNNING"


def test_trend_values_limits_and_filters(store: Store) -> None:
    runs = _dataset(store)
    points = store.trend("battery_v")
    assert [p.value for p in points] == [3.9, 4.0, 3.7, 3.5, 4.1, 4.05]  # chronological; "n/a" left out
    assert [p.serial for p in points] == ["A", "A", "B", "C", "B", "A"]
    assert all(p.limit_min == 3.6 and p.limit_max == 4.2 and p.unit == "V" for p in points)
    assert [p.passed for p in points] == [True, True, True, False, True, True]
    assert points[3].run_id == runs["r4"].run_id and points[3].at == T0 + timedelta(hours=3)
    assert [p.value for p in store.trend("battery_v", serial="A")] == [3.9, 4.0, 4.05]
    assert [p.value for p in store.trend("battery_v", model="T700")] == [3.5]
    assert [p.value for p in store.trend("battery_v", model="T650", limit=2)] == [4.1, 4.05]
    assert store.trend("battery_v", serial="A", model="T700") == []
    assert store.trend("nothing") == []
    assert points[0].to_dict()["value"] == 3.9


def test_stats_yield_pareto_duration(store: Store) -> None:
    _dataset(store)
    s = store.stats()
    assert s.runs == 6  # the RUNNING r7 is not counted
    assert s.units == 3
    assert s.first_pass_yield == pytest.approx(1 / 3)  # A failed first, B passed, C failed
    assert s.verdicts == {"ERROR": 1, "FAIL": 3, "PASS": 2}
    assert s.failures_by_fault == [("PRN-COVER", 2), ("KEY-STUCK", 1), ("PWR-BATT-LOW", 1)]
    assert s.mean_duration_s == pytest.approx(50.0)
    later = store.stats(since=T0 + timedelta(hours=1))
    assert (later.runs, later.units, later.first_pass_yield) == (5, 3, pytest.approx(2 / 3))
    assert later.failures_by_fault == [("PRN-COVER", 2), ("PWR-BATT-LOW", 1)]
    t650 = store.stats(model="T650")
    assert (t650.runs, t650.units, t650.first_pass_yield) == (4, 2, 0.5)
    st2 = store.stats(station="st2")
    assert (st2.runs, st2.units, st2.first_pass_yield, st2.mean_duration_s) == (2, 1, 0.0, 60.0)
    d = s.to_dict()
    assert d["failures_by_fault"][0] == {"fault": "PRN-COVER", "count": 2}


# --------------------------------------------------------------------------- abandoned runs


def test_mark_abandoned_only_dead_local_processes(store: Store, store_url: str) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine, gone, remote = (make_run(T0 + timedelta(minutes=i)) for i in range(3))
    for run in (mine, gone, remote):
        run.verdict, run.ended_at = Verdict.RUNNING, None
        run.steps = [
            make_step(0, run.started_at, duration=2.0),
            make_step(1, run.started_at + timedelta(seconds=3)),
        ]
        store_run(store, run)
    engine = sa.create_engine(parse_url(store_url))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE runs SET pid = :p WHERE id = :i"),
            [{"p": dead.pid, "i": gone.run_id}, {"p": dead.pid, "i": remote.run_id}],
        )
        conn.execute(
            sa.text("UPDATE runs SET hostname = 'bench-elsewhere' WHERE id = :i"), {"i": remote.run_id}
        )
    engine.dispose()
    assert store.mark_abandoned() == [gone.run_id]
    back = store.get_run(gone.run_id)
    assert back.verdict is Verdict.ABORTED
    assert back.ended_at == gone.started_at + timedelta(seconds=4.5)  # the last step's end
    assert store.get_run(mine.run_id).verdict is Verdict.RUNNING  # this process is alive
    assert store.get_run(remote.run_id).verdict is Verdict.RUNNING  # another host: not ours to judge
    assert store.mark_abandoned() == []


def _open_run(store: Store, store_url: str, minutes: int, **owner: Any) -> RunRecord:
    """A RUNNING run of this process with one step, its owner columns then set to ``owner``."""
    run = make_run(T0 + timedelta(minutes=minutes))
    run.verdict, run.ended_at, run.steps = Verdict.RUNNING, None, [make_step(0, run.started_at, duration=2.0)]
    store_run(store, run)
    if owner:
        engine = sa.create_engine(parse_url(store_url))
        with engine.begin() as conn:
            sets = ", ".join(f"{k} = :{k}" for k in owner)
            conn.execute(sa.text(f"UPDATE runs SET {sets} WHERE id = :i"), {**owner, "i": run.run_id})
        engine.dispose()
    return run


def test_a_run_is_owned_by_more_than_its_pid(store: Store, store_url: str) -> None:
    from drivers import owner

    me = owner.me()
    assert me.start is not None and me.boot_id  # Linux: /proc/PID/stat and the boot id
    mine = _open_run(store, store_url, 0)
    with store._read() as conn:  # this process's own run writes who it is
        assert conn.execute(sa.text("SELECT pid, pid_start, boot_id, hostname FROM runs")).one() == (
            me.pid, me.start, me.boot_id, me.host)
    reused = _open_run(store, store_url, 1, pid_start=me.start - 1)  # the pid now runs another process
    rebooted = _open_run(store, store_url, 2, boot_id="00000000-0000-0000-0000-000000000000")
    older = _open_run(store, store_url, 3, pid_start=None, boot_id=None)  # written by schema 3: the pid alone
    assert sorted(store.mark_abandoned()) == sorted([reused.run_id, rebooted.run_id])
    for run in (reused, rebooted):
        back = store.get_run(run.run_id)
        assert (back.verdict, back.ended_at) == (Verdict.ABORTED, run.started_at + timedelta(seconds=2))
    for run in (mine, older):
        assert store.get_run(run.run_id).verdict is Verdict.RUNNING


def test_another_hosts_runs_are_marked_only_when_told(store: Store, store_url: str) -> None:
    remote = _open_run(store, store_url, 0, hostname="bench-elsewhere", pid=1)
    mine = _open_run(store, store_url, 1)
    assert store.mark_abandoned() == []
    assert [r[0] for r in store.open_runs()] == [remote.run_id, mine.run_id]
    assert store.mark_abandoned(socket.gethostname()) == []  # naming this host: its live runs stay
    assert store.mark_abandoned("bench-elsewhere") == [remote.run_id]
    assert store.get_run(remote.run_id).verdict is Verdict.ABORTED
    assert [r[0] for r in store.open_runs()] == [mine.run_id]


def test_version_4_migrates_a_version_3_store(store_url: str) -> None:
    from stored import TO_VERSION_3, to_version_6

    with Store.open(store_url) as store:
        run = _open_run(store, store_url, 0)
    fresh = _runs_columns(store_url)
    to_version_6(parse_url(store_url).render_as_string(hide_password=False))
    engine = sa.create_engine(parse_url(store_url))
    with engine.begin() as conn:  # back to version 3 as released
        for statement in TO_VERSION_3.split(";"):
            if statement.strip():
                conn.execute(sa.text(statement))
    engine.dispose()
    assert "boot_id" not in _runs_columns(store_url)
    with Store.open(store_url) as store:  # migrates
        assert store.mark_abandoned() == []  # the old row has only its pid: this live process
        assert store.get_run(run.run_id).verdict is Verdict.RUNNING
        with store._read() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
            owner_cols = conn.execute(sa.text("SELECT pid_start, boot_id FROM runs")).one()
    assert versions == list(range(1, 10)) and tuple(owner_cols) == (None, None)
    assert _runs_columns(store_url) == fresh


def _runs_columns(url: str) -> dict[str, tuple[str, bool]]:
    engine = sa.create_engine(parse_url(url))
    try:
        return {c["name"]: (str(c["type"]), c["nullable"]) for c in sa.inspect(engine).get_columns("runs")}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- schema and URLs


def test_migrates_empty_db_and_reopen_is_idempotent(store_url: str) -> None:
    with Store.open(store_url) as s:
        run = store_run(s, rich_run())
    with Store.open(store_url) as s:
        assert s.get_run(run.run_id).to_dict() == run.to_dict()
    engine = sa.create_engine(parse_url(store_url))
    try:
        tables = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
    finally:
        engine.dispose()
    assert versions == list(range(1, LATEST + 1))
    assert tables >= {
        "schema_version",
        "stations",
        "units",
        "runs",
        "steps",
        "measurements",
        "attachments",
        "findings",
    }


def test_newer_schema_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    engine = sa.create_engine(parse_url(store_url))
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO schema_version VALUES (:v, :t, 'from the future')"),
            {"v": LATEST + 1, "t": T0.replace(tzinfo=None)},
        )
    engine.dispose()
    with pytest.raises(EquipmentError, match="newer"):
        Store.open(store_url)


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "not a url", "sqlite+foo:///x.db", "postgresql+asyncpg://h/d", ""]
)
def test_bad_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError):
        Store.open(url)


def test_postgres_url_uses_psycopg3() -> None:
    assert parse_url("postgresql://u:pw@h:5/d").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert parse_url("sqlite:///x.db").drivername == "sqlite"


def test_unreachable_postgres_is_one_line_equipment_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(EquipmentError) as info:
            Store.open(f"postgresql://bench:secret@127.0.0.1:{port}/bench")
    msg = str(info.value)
    assert "\n" not in msg and "cannot open store" in msg and str(port) in msg
    assert "secret" not in msg


def test_unopenable_sqlite_is_equipment_error(tmp_path: Path) -> None:
    (tmp_path / "bench.db").write_bytes(b"not a database, " * 100)
    with pytest.raises(EquipmentError) as info:
        Store.open(f"sqlite:///{tmp_path / 'bench.db'}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("where", "why"), [("no/such/dir/bench.db", "directory {p}/no/such/dir does not exist"),
                                            ("file/bench.db", "{p}/file is not a directory"),
                                            ("folder", "{p}/folder is a directory")])
def test_a_sqlite_path_that_cannot_be_is_a_usage_error_naming_it(tmp_path: Path, where: str, why: str) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(UsageError) as info:
        Store.open(f"sqlite:///{tmp_path / where}")
    assert why.format(p=tmp_path) in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "no").exists()


def test_default_store_in_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    target = tmp_path / "data" / "bench"
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda appname=None, *a, **k: str(target))
    with Store.open() as s:
        store_run(s, make_run(T0))
    assert (target / "bench.db").is_file()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    with Store.open(f"sqlite:///{path}") as s:
        conn = s._conn
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a commit survives a power cut
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        conn.rollback()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file


@pytest.mark.parametrize(("query", "level"), [("", 2), ("?synchronous=full", 2), ("?synchronous=NORMAL", 1),
                                              ("?synchronous=extra", 3), ("?synchronous=off", 0)])
def test_synchronous_level_from_the_url_on_both_paths(tmp_path: Path, query: str, level: int) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}{query}"
    with Store.open(url) as s:  # creates the store (SQLAlchemy)
        assert s._conn.exec_driver_sql("PRAGMA synchronous").scalar() == level
        s._conn.rollback()
    light = open_current(url)  # the current store on sqlite3 alone
    assert light is not None
    with light:
        assert light._conn.execute("PRAGMA synchronous").fetchone()[0] == level


@pytest.mark.parametrize("url", ["sqlite:///x.db?synchronous=fast", "sqlite:///x.db?synchronous=",
                                 "postgresql://u@h/d?synchronous=full"])
def test_unknown_synchronous_level_is_a_one_line_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as info:
        Store.open(url)
    assert "\n" not in str(info.value) and "synchronous" in str(info.value)
    if url.startswith("sqlite"):
        with pytest.raises(UsageError, match="expected one of: full, normal, extra, off"):
            open_current(url)


def test_step_for_unknown_run_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError):
        store.add_step("no-such-run", make_step(0, T0))


# --------------------------------------------------------------------------- PAN masking


def test_no_full_pan_in_any_row(store: Store, store_url: str) -> None:
    spaced = "4761 7390 0101 0010"
    run = make_run(T0, verdict=Verdict.FAIL)
    run.summary = f"card {PAN} declined"
    run.steps = [
        make_step(
            0,
            T0,
            message=f"read PAN {PAN} from chip",
            log=[f"< 5A08{PAN}", f"track2 {PAN}=2512201", f"spaced {spaced}"],
            measurements=[
                Measurement("pan", PAN, limit=Limit(equals=PAN)),
                Measurement("tracks", [f"{PAN}=25122011"], message=f"got {PAN}"),
            ],
            attachments=[AttachmentRecord("apdu.txt", "text/plain", f"5A08 {PAN}\n".encode())],
        )
    ]
    run.findings = [Finding("ICC-X", f"card {PAN}", "card", "reader", "retry", True, [], [f"PAN {PAN} seen"])]
    store_run(store, run)
    for table, row in all_rows(store_url):
        for value in row:
            blob = value if isinstance(value, bytes | memoryview) else str(value).encode()
            text = bytes(blob).decode("utf-8", "replace")
            assert PAN not in text and spaced not in text, f"full PAN in {table}: {row}"
    back = store.get_run(run.run_id)
    assert "476173******0010" in back.steps[0].message
    assert back.steps[0].measurements[0].value == "476173******0010"


def test_redaction_is_bench_pan() -> None:
    assert redact(f"x {PAN} y") == "x 476173******0010 y"
    assert redact("4761739001010011") == "4761739001010011"  # fails Luhn: not a PAN
    assert redact("12345") == "12345"


def test_failed_write_leaves_no_stale_unit(store: Store) -> None:
    first = store_run(store, make_run(T0))
    again = make_run(T0, serial="NEW-UNIT")
    again.run_id = first.run_id  # duplicate id: the transaction (and its new unit row) rolls back
    with pytest.raises(ValueError):
        store.start_run(again)
    fresh = store_run(store, make_run(T0 + timedelta(hours=1), serial="NEW-UNIT"))
    assert [h.run_id for h in store.history("NEW-UNIT")] == [fresh.run_id]


def test_duplicate_step_index_is_rejected_and_rolled_back(store: Store) -> None:
    run = store_run(store, make_run(T0, verdict=Verdict.RUNNING, steps=[make_step(0, T0)]))
    dup = make_step(0, T0, measurements=[Measurement("x", 1.0)])
    with pytest.raises(ValueError):
        store.add_step(run.run_id, dup)
    store.add_step(run.run_id, make_step(1, T0))
    back = store.get_run(run.run_id)
    assert [s.index for s in back.steps] == [0, 1] and back.steps[0].measurements == []
    assert store.trend("x") == []


def test_the_sqlite3_reader_answers_like_the_store(tmp_path: Path) -> None:
    """The CLI's light reader runs the same SQL as Store, through sqlite3: same answers on the same data."""
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    with Store.open(url) as store:
        _dataset(store)
        reader = open_current(url)
        assert reader is not None
        with reader:
            for serial in ("A", "B", "C", "nobody"):
                assert reader.history(serial) == store.history(serial)
                assert reader.last_pass(serial) == store.last_pass(serial)
            assert reader.history("A", limit=2) == store.history("A", limit=2)
            assert len(reader.history("A")) == 3 and reader.history("C")[1].faults == ["PRN-COVER", "PWR-BATT-LOW"]
            for kwargs in ({}, {"serial": "A"}, {"model": "T700"}, {"model": "T650", "limit": 2},
                           {"serial": "A", "model": "T700"}):
                assert reader.trend("battery_v", **kwargs) == store.trend("battery_v", **kwargs)
            assert len(reader.trend("battery_v")) == 6 and reader.trend("nothing") == []


def test_the_sqlite3_reader_only_reads_current_stores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    assert open_current(url) is None  # no file yet: Store.open creates it
    (tmp_path / "bench.db").write_bytes(b"not a database")
    assert open_current(url) is None  # Store.open says what is wrong with it
    (tmp_path / "bench.db").unlink()
    Store.open(url).close()
    reader = open_current(url)
    assert reader is not None
    reader.close()
    with sqlite3.connect(tmp_path / "bench.db") as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at, description) VALUES (?, '2030-01-01 00:00:00', 'future')",
                     (SCHEMA_VERSION + 1,))
    assert open_current(url) is None  # newer than this bench: Store.open refuses it
    assert open_current(f"sqlite:///{tmp_path / 'bench.db'}?mode=ro") is None  # options: SQLAlchemy's job


def test_schema_version_is_the_number_of_migrations() -> None:
    from bench.store.schema import LATEST

    assert SCHEMA_VERSION == LATEST
