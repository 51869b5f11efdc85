"""Fill a SQLite store with 1,000,000 step results (or 10,000, 100,000), fast, for the store benchmark.

The schema comes from the store itself (``Store.open`` creates it from :mod:`bench.store.schema`);
rows go in with ``executemany`` on the raw sqlite3 connection, in one transaction, in the exact
storage format the store writes (times as naive-UTC ISO text, :func:`bench.store.rows.sqlite_time`),
so the store reads them back like its own; the summary rows ``bench stats`` reads are then
computed from the runs (:func:`bench.store.totals.rebuild`). The shape is a bench's two years:
5,000 units of 3 models (and 2 units of a rare fourth, ``PT-900``), 10 runs each, over 8 stations,
a 20-step plan with one numeric measurement per step, ~10 % failing runs (a fault code on the
failing step and a finding). 50,000 runs x 20 steps = 1,000,000 steps and as many measurements.
Smaller stores have fewer units over the same two years.

The files are cached (``benchmarks/.out/store-<steps>-v2.db``): run again, one is reused when complete.
Usage: ``python -m benchmarks.fill_store [--force] [--steps N] [PATH]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import OUT

VERSION = 2  # bump when the shape below changes: the cache is keyed on it
N_UNITS = 5000
RUNS_PER_UNIT = 10
STEPS_PER_RUN = 20
MODELS = ("PT-300", "PT-310", "PT-500")
#: Units 0 and 1 are of this model whatever the store's size: `bench trend M --model PT-900` finds 20 values.
RARE = "PT-900"
STATIONS = tuple(f"bench-{i}" for i in range(1, 9))
#: (step name, check, measurement, unit, min, max, typical value, spread, fault code when out of limits)
STEPS = (
    ("identify", "unit.identify", "handshake_ms", "ms", None, 500, 40, 10, "LINK-SLOW"),
    ("battery", "power.battery", "charge_percent", "%", 20, None, 80, 15, "PWR-BATT-LOW"),
    ("battery-voltage", "power.battery", "battery_voltage", "V", 7.0, 8.6, 7.9, 0.3, "PWR-BATT-LOW"),
    ("self-test", "unit.self_test", "selftest_ms", "ms", None, 2000, 600, 100, "UNIT-POST"),
    ("card-atr", "card.atr", "atr_ms", "ms", None, 1000, 360, 40, "ICC-NO-ATR"),
    ("card-emv", "card.emv_select", "select_ms", "ms", None, 200, 8, 2, "ICC-ERROR"),
    ("card-latency", "card.apdu_latency", "apdu_p95_ms", "ms", None, 50, 6, 2, "ICC-SLOW"),
    ("card-insert", "card.insert_remove", "insert_detect_s", "s", None, 2.0, 0.45, 0.05, "ICC-NO-CARD"),
    ("card-tap", "card.contactless_tap", "tap_detect_s", "s", None, 3.0, 0.5, 0.1, "ICC-NO-CARD"),
    ("printer-status", "printer.status", "printer_temp_c", "C", None, 70, 40, 5, "PRN-HEAD-HOT"),
    ("printer-page", "printer.test_page", "print_ms", "ms", None, 3000, 700, 80, "PRN-SLOW"),
    ("printer-cutter", "printer.cutter", "cut_ms", "ms", None, 500, 120, 20, "PRN-CUTTER"),
    ("printer-speed", "printer.throughput", "lines_per_s", "lines/s", 20, None, 45, 5, "PRN-SLOW"),
    ("comms-eth", "comms.selftest", "eth_rtt_ms", "ms", None, 100, 3, 1, "NET-DOWN"),
    ("comms-wifi", "comms.selftest", "wifi_signal_dbm", "dBm", -80, None, -55, 8, "NET-WEAK"),
    ("keypad", "keypad.scan", "keys_ok", "", 16, None, 16, 0, "KEY-DEAD"),
    ("display", "display.pattern", "dead_pixels", "", None, 0, 0, 0, "DSP-DEAD-PIXELS"),
    ("msr", "msr.swipe", "msr_read_ms", "ms", None, 300, 90, 10, "MSR-READ"),
    ("tamper", "unit.tamper", "tamper_flags", "", None, 0, 0, 0, "SEC-TAMPER"),
    ("event-log", "unit.event_log", "log_errors", "", None, 0, 0, 0, "LOG-ERRORS"),
)
assert len(STEPS) == STEPS_PER_RUN


def serial_of(i: int) -> str:
    return f"PT{3 + i % 3}-{i:06d}"


def model_of(i: int) -> str:
    return RARE if i < 2 else MODELS[i % 3]


def default_path(steps: int = N_UNITS * RUNS_PER_UNIT * STEPS_PER_RUN) -> Path:
    return OUT / f"store-{steps}-v{VERSION}.db"


def _complete(path: Path, n_units: int) -> bool:
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(path)
        try:
            n = con.execute("SELECT count(*) FROM measurements").fetchone()[0]
            done = con.execute("SELECT count(*) FROM stations WHERE name = 'fill-complete'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return n == n_units * RUNS_PER_UNIT * STEPS_PER_RUN and done == 1


def fill(path: Path | None = None, force: bool = False, steps: int = N_UNITS * RUNS_PER_UNIT * STEPS_PER_RUN
         ) -> tuple[Path, float | None]:
    """Create (or reuse) the store of ``steps`` steps at ``path``; returns it and the seconds generating it took.

    For a cached store the seconds are those of the run that generated it (None if unknown).
    """
    n_units = steps // (RUNS_PER_UNIT * STEPS_PER_RUN)
    path = path or default_path(steps)
    took_file = Path(f"{path}.seconds")
    if not force and _complete(path, n_units):
        try:
            return path, float(took_file.read_text())
        except (OSError, ValueError):
            return path, None
    from bench.store import totals
    from bench.store.engine import Store
    from bench.store.rows import sqlite_time as _ts
    from bench.store.sqlite import SqliteDb

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    Store.open(f"sqlite:///{path}").close()  # the store creates its own schema

    rng = random.Random(20261124)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    con.execute("BEGIN")
    con.executemany("INSERT INTO stations (id, name) VALUES (?, ?)", list(enumerate(STATIONS, 1)))
    con.executemany("INSERT INTO units (id, model, serial) VALUES (?, ?, ?)",
                    [(i + 1, model_of(i), serial_of(i)) for i in range(n_units)])
    start = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)
    span = timedelta(days=730).total_seconds()
    run_rows, step_rows, m_rows, f_rows = [], [], [], []
    step_id = 0
    n_runs = n_units * RUNS_PER_UNIT
    # Runs in time order across the fleet: each unit comes back now and then.
    schedule = sorted((rng.random() * span, u) for u in range(n_units) for _ in range(RUNS_PER_UNIT))
    for r, (offset, u) in enumerate(schedule):
        at = start + timedelta(seconds=offset)
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        failing = rng.randrange(STEPS_PER_RUN) if rng.random() < 0.10 else -1
        t = at
        run_fault = None
        for k, (name, check, mname, unit, lo, hi, typical, spread, fault) in enumerate(STEPS):
            step_id += 1
            value = typical + rng.gauss(0, spread) if spread else typical
            if k == failing:
                value = (lo - abs(spread) - 1) if lo is not None else (hi + abs(spread) + 1)
                run_fault = fault
            value = round(value, 3)
            passed = k != failing
            msg = "" if passed else f"{mname} = {value:g} {unit}: out of limits"
            ts = _ts(t)
            step_rows.append((step_id, rid, k, name, check, "PASS" if passed else "FAIL", ts, 0.05, 1,
                              None if passed else fault, msg, "[]"))
            limit = {k2: v for k2, v in (("min", lo), ("max", hi), ("unit", unit or None), ("fault", fault))
                     if v is not None}
            m_rows.append((step_id, 0, mname, json.dumps(value), value, unit or None, json.dumps(limit),
                           lo, hi, 1 if passed else 0, None if passed else fault, msg, ts, model_of(u)))
            t += timedelta(seconds=0.05 + rng.random() * 0.2)
        verdict = "FAIL" if run_fault else "PASS"
        run_rows.append((rid, u + 1, "A", "2.4.1", 1 + r % len(STATIONS), "tech", "pos-full", "1.0", "0" * 64,
                         None, None, _ts(at), _ts(t), verdict, "", None, "bench-fill", "0.1.0"))
        if run_fault:
            f_rows.append((rid, 0, run_fault, f"fault {run_fault}", "hardware", "part", "repair", 1,
                           json.dumps([STEPS[failing][0]]), "[]"))
        if len(step_rows) >= 100_000 or r == n_runs - 1:
            con.executemany("INSERT INTO runs (id, unit_id, unit_hw_revision, unit_firmware, station_id, operator, "
                            "plan_name, plan_version, plan_hash, lot, scenario, started_at, ended_at, verdict, "
                            "summary, pid, hostname, bench_version) VALUES (" + ",".join("?" * 18) + ")", run_rows)
            con.executemany("INSERT INTO steps (id, run_id, idx, name, check_name, outcome, started_at, duration_s, "
                            "attempts, fault, message, log) VALUES (" + ",".join("?" * 12) + ")", step_rows)
            con.executemany("INSERT INTO measurements (step_id, seq, name, value_json, value_num, unit, limit_json, "
                            "limit_min, limit_max, passed, fault, message, measured_at, model) VALUES ("
                            + ",".join("?" * 14) + ")", m_rows)
            con.executemany("INSERT INTO findings (run_id, seq, fault, title, category, part, action, in_unit, "
                            "steps, consequences) VALUES (" + ",".join("?" * 10) + ")", f_rows)
            run_rows, step_rows, m_rows, f_rows = [], [], [], []
            print(f"  fill: {r + 1:,} of {n_runs:,} runs ({time.perf_counter() - t0:.0f} s)", file=sys.stderr,
                  flush=True)
    totals.rebuild(SqliteDb(con, str(path)))  # the summary rows bench stats reads
    con.execute("INSERT INTO stations (name) VALUES ('fill-complete')")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    took = time.perf_counter() - t0
    took_file.write_text(f"{took:.2f}\n")
    print(f"  fill: {step_id:,} steps written to {path} in {took:.0f} s", file=sys.stderr)
    return path, took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path)
    ap.add_argument("--steps", type=int, default=N_UNITS * RUNS_PER_UNIT * STEPS_PER_RUN,
                    help="steps in the store (a multiple of 200; default 1,000,000)")
    ap.add_argument("--force", action="store_true", help="rebuild even when a complete store is cached")
    args = ap.parse_args()
    print(fill(args.path, args.force, args.steps)[0])


if __name__ == "__main__":
    main()
