"""Run every benchmark (``make bench``) and print the summary table.

Each benchmark runs in its own process (``python -m benchmarks.bench_X``) and prints its own
section (min/median/max, the machine, the load); this script then prints one table of our
figure, the reference measured in the same run, their ratio and the target, and writes it to
``benchmarks/.out/results.md``. Other work on the machine disturbs timings: before each benchmark
it waits (up to 30 s) for the 1-minute load to drop below the CPU count, and a benchmark whose
figures spread by more than 50 % around the median is run once more; the steadier run is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from benchmarks.common import OUT, ROOT, VENV_BIN, Row, load, machine, table

BENCHES = ("bench_steps", "bench_apdu", "bench_link", "bench_cli", "bench_store", "bench_multiup", "bench_host", "bench_soak",
           "bench_flash", "bench_dashboard", "bench_fleet", "bench_serve")

#: Run once whatever the spread: the dashboard's figures are a p95 over many calls already, and a
#: second run would generate its 10^7-step store again (about two minutes); bench serve's are p95s
#: over 15-second windows of many pages.
ONCE = frozenset({"bench_dashboard", "bench_serve"})


def _spread(rows: list[Row]) -> float:
    return max((r.ours.max - r.ours.min) / r.ours.median for r in rows if r.ours.median)


def _wait_for_quiet(limit: float = 30.0) -> None:
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= cpus and time.monotonic() < deadline:
        time.sleep(2)


class BenchmarkFailed(Exception):
    """A benchmark's process ended without its figures (the message says which and how)."""


def _run_one(name: str, extra: list[str]) -> list[Row]:
    out = OUT / f"{name}.json"
    out.unlink(missing_ok=True)
    _wait_for_quiet()
    cmd = [str(VENV_BIN / "python"), "-m", f"benchmarks.{name}", "--json-out", str(out), *extra]
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    if done.returncode != 0 or not out.exists():
        raise BenchmarkFailed(f"{name} exited {done.returncode} without its figures (its output above says why)")
    return [Row.from_dict(d) for d in json.loads(out.read_text())]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHES)})")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test of the benchmarks)")
    args = ap.parse_args()
    names = [n if n.startswith("bench_") else f"bench_{n}" for n in args.only] or list(BENCHES)
    extra = ["--reps", "2"] if args.quick else []
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"make bench: {machine()}\n  {load()}", flush=True)
    rows: list[Row] = []
    failed: list[str] = []
    for name in names:  # one benchmark that cannot run (a busy pcscd, no PostgreSQL) does not lose the others
        try:
            got = _run_one(name, extra)
            if _spread(got) > 0.5 and name not in ONCE:
                print(f"  [{name}: figures spread {_spread(got):.0%} around the median ({load()}): running it again]",
                      flush=True)
                again = _run_one(name, extra)
                got = again if _spread(again) < _spread(got) else got
        except BenchmarkFailed as exc:
            print(f"  [make bench: {exc}]", flush=True)
            failed.append(str(exc))
            continue
        rows.extend(got)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"Measured {stamp} on {machine()}; whole run {time.monotonic() - started:.0f} s.\n\n"
            + table(rows) + "\n")
    (OUT / "results.md").write_text(text)
    print("\n" + "=" * 100 + "\n" + text, flush=True)
    missed = [f"{r.bench}: {r.what}" for r in rows if r.met is False]
    if missed:
        print("Targets missed:\n  " + "\n  ".join(missed))
    if failed:
        print("Benchmarks that did not run:\n  " + "\n  ".join(failed))
    sys.stdout.flush()
    if failed:
        sys.exit(3)


if __name__ == "__main__":
    main()
