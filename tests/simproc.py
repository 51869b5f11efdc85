"""Test helpers around simulated benches in other processes: `bench sim` held up for a test, and who is still running."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def running_sim(station_out: Path, units: int | None = None, options: Sequence[str] = ()) -> Iterator[str]:
    """``bench sim [--units N] OPTIONS`` up for the block; its station file's path. Stopped with ``quit`` after."""
    more = ["--units", str(units)] if units is not None else []
    sim = subprocess.Popen([sys.executable, "-m", "bench", "sim", *more, *options, "--json",
                            "--station-out", str(station_out)], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert sim.stdout is not None
        yield json.loads(sim.stdout.readline())["station"]
    finally:
        if sim.poll() is None:
            assert sim.stdin is not None
            sim.stdin.write("quit\n")
            sim.stdin.flush()
            sim.wait(30)


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def run_sim_debug(plan: Path, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``bench --debug run PLAN --sim --json`` with its store (``b.db``) and reports in ``tmp_path``."""
    return subprocess.run(
        [sys.executable, "-m", "bench", "--debug", "run", str(plan), "--sim", "--json",
         "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def assert_nowhere(secrets: list[str], proc: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    """None of ``secrets`` (as given or upper-cased) in the run's output, log, store (and its WAL) or reports."""
    blobs = {"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode(),
             "db": (tmp_path / "b.db").read_bytes()}
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            blobs[str(path)] = path.read_bytes()
    for wal in tmp_path.glob("b.db-*"):
        blobs[str(wal)] = wal.read_bytes()
    assert len(blobs) > 4
    for where, data in blobs.items():
        for secret in secrets:
            assert secret.encode() not in data and secret.upper().encode() not in data, (where, secret)
