"""The store on sqlite3 alone: same rows as through SQLAlchemy, and `bench run` without SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from stored import store_run

from bench.lots import sampling
from bench.lots.store import LotStore
from bench.measure import Measurement
from bench.record import UnitInfo, Verdict
from bench.store.engine import Store
from bench.store.sqlite import SqliteStore, open_current
from tests.bench.store.test_store import T0, _dataset, all_rows, make_run, make_step, rich_run

ROOT = Path(__file__).resolve().parents[3]


def _write_everything(store: Store | SqliteStore, records: dict) -> None:
    """Every kind of write the run path makes, on ``records`` built once for both stores."""
    for rec in records.values():
        store_run(store, rec)
    late = records["late"]
    store.set_unit(late.run_id, UnitInfo("T900", "LATE-1", "C", "3.0"))  # after its steps: they get its model
    again = records["again"]
    store.finish_run(again.run_id, Verdict.PASS, again.ended_at + timedelta(seconds=5), "retested", [])


def _records() -> dict:
    recs = {"rich": rich_run()}
    late = make_run(T0 + timedelta(days=1), steps=[make_step(0, T0 + timedelta(days=1),
                                                             measurements=[Measurement("v", 1.5)])])
    recs["late"] = replace(late, unit=None, verdict=Verdict.RUNNING, ended_at=None)
    recs["again"] = make_run(T0 + timedelta(days=2), verdict=Verdict.FAIL, serial="AGAIN")
    return recs


def _rows(url: str) -> list:
    return [r for r in all_rows(url) if r[0] != "schema_version"]  # applied_at differs, nothing else may


def test_the_sqlite3_writer_writes_the_rows_the_store_writes(tmp_path: Path) -> None:
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    records = _records()
    with Store.open(a) as store:
        _write_everything(store, records)
    Store.open(b).close()  # created (SQLAlchemy) ...
    light = open_current(b)  # ... then written through sqlite3 alone
    assert isinstance(light, SqliteStore)
    with light:
        _write_everything(light, records)
        assert light.get_run(records["rich"].run_id).to_dict() == records["rich"].to_dict()
    rows_a, rows_b = _rows(a), _rows(b)
    assert {t for t, _ in rows_a} >= {"runs", "steps", "measurements", "attachments", "findings", "run_totals"}
    assert rows_a == rows_b
    # and the rows written through SQLAlchemy's types are what the plain SQL writes
    with sqlite3.connect(tmp_path / "b.db") as conn:
        assert conn.execute("SELECT model FROM measurements WHERE name = 'v'").fetchall() == [("T900",)]


def test_the_sqlite3_store_answers_like_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    with Store.open(url) as store:
        runs = _dataset(store)
        light = open_current(url)
        assert light is not None
        with light:
            assert light.stats() == store.stats()
            assert light.stats(since=T0 + timedelta(hours=1), model="T650") == store.stats(
                since=T0 + timedelta(hours=1), model="T650")
            assert light.get_run(runs["r4"].run_id[:8]).to_dict() == store.get_run(runs["r4"].run_id).to_dict()
            latest = light.latest_run()
            assert latest is not None and latest.run_id == runs["r7"].run_id


_PROBE = (
    "import sys\n"
    "from bench.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('SQLALCHEMY' if 'sqlalchemy' in sys.modules else 'LIGHT', file=sys.stderr)\n"
)


def test_bench_run_on_a_current_sqlite_store_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    db = f"sqlite:///{tmp_path / 'bench.db'}"

    def run(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(probe), "run", "testplans/pos-quick.yaml", "--sim", "--db", db,
                               "--report", str(tmp_path / "reports"), *more], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)

    first = run()  # no store yet: SQLAlchemy creates it
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip().endswith("SQLALCHEMY")
    second = run()  # a current store: sqlite3 alone
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip().endswith("LIGHT"), second.stderr
    with Store.open(db) as store:
        LotStore(store).open_lot("L9", "acme", "BAT-7", sampling.plan(500, 1.0, "II", "normal"), "p.yaml", "ana")
    third = run("--lot", "L9")  # a lot's checks run on the sqlite3 store too
    assert third.returncode == 0, third.stderr
    assert third.stderr.strip().endswith("LIGHT"), third.stderr
    with Store.open(db) as store:
        assert LotStore(store).status("L9", decide=False).tested == 1
    with Store.open(db) as store:
        (newest,) = store.history(store.latest_run().unit.serial, limit=1)  # type: ignore[union-attr]
        back = store.get_run(newest.run_id)
    assert back.verdict is Verdict.PASS and len(back.steps) >= 5
    assert len(list((tmp_path / "reports").iterdir())) == 3  # every run got its report folder
