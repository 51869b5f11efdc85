"""`bench run --station` against real ports: the simulated unit on a pty, a missing port,
a silent line and a line of garbage. Each bad case is one line on stderr and the right exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.sim.bench import SimUnitProcess
from drivers.sim.unit import load_profile

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def bench_run(station: Path, tmp: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "run", "testplans/pos-quick.yaml", "--station", str(station),
         "--report", str(tmp / "reports"), "--db", f"sqlite:///{tmp / 'b.db'}", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def station_file(tmp: Path, unit_url: str) -> Path:
    f = tmp / "station.toml"
    f.write_text(f'name = "test-bench"\n[devices]\nunit = "{unit_url}"\n')
    return f


@pytest.fixture
def sim_unit(tmp_path: Path) -> Iterator[Path]:
    proc = SimUnitProcess(load_profile("good"), tmp_path / "unit0")
    proc.start()
    try:
        yield tmp_path / "unit0"
    finally:
        proc.stop()


def test_station_run_over_a_pty_passes(sim_unit: Path, tmp_path: Path) -> None:
    proc = bench_run(station_file(tmp_path, str(sim_unit)), tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["verdict"] == "PASS" and record["station"] == "test-bench"
    assert record["unit"]["serial"] == "PT3-000123"
    assert [s["outcome"] for s in record["steps"]] == ["PASS"] * 5


def test_console_output_shows_steps_and_verdict(sim_unit: Path, tmp_path: Path) -> None:
    proc = bench_run(station_file(tmp_path, str(sim_unit)), tmp_path)
    assert proc.returncode == 0
    assert "on PT-300 PT3-000123 (firmware 2.4.1)  station test-bench" in proc.stdout
    assert "Verdict: PASS" in proc.stdout and "Report: " in proc.stdout


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_missing_port_is_exit_3_one_line(tmp_path: Path) -> None:
    proc = bench_run(station_file(tmp_path, "/dev/ttyNOPE0"), tmp_path)
    assert proc.returncode == 3
    line = _one_line(proc)
    assert line.startswith("bench: error: ") and "/dev/ttyNOPE0" in line


def test_silent_unit_is_exit_1_one_line_and_bounded(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        t0 = time.monotonic()
        proc = bench_run(station_file(tmp_path, os.ttyname(slave)), tmp_path, timeout=60)
        assert time.monotonic() - t0 < 30
        assert proc.returncode == 1
        assert "LINK-NO-RESPONSE" in _one_line(proc) or "answer" in _one_line(proc)
    finally:
        os.close(master)
        os.close(slave)


def test_garbage_unit_is_exit_1_one_line(tmp_path: Path) -> None:
    master, slave = os.openpty()
    stop = threading.Event()

    def babble() -> None:
        import random

        rng = random.Random(7)
        while not stop.is_set():
            try:
                os.write(master, bytes(rng.randrange(256) for _ in range(64)))
            except OSError:
                return
            time.sleep(0.01)

    t = threading.Thread(target=babble, daemon=True)
    t.start()
    try:
        proc = bench_run(station_file(tmp_path, os.ttyname(slave)), tmp_path, timeout=60)
        assert proc.returncode == 1
        line = _one_line(proc)
        assert line.startswith("bench: error: ")
    finally:
        stop.set()
        os.close(master)
        os.close(slave)
