"""``bench sim`` as a user keeps it up, and what SIGTERM / SIGKILL leave behind (nothing)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}

pytestmark = pytest.mark.slow


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    end = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    proc.kill()
    raise AssertionError(f"no {marker!r} in {lines!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (the simulated unit's pty path is unique per bench)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def _wait_gone(text: str, timeout: float = 10) -> list[int]:
    end = time.monotonic() + timeout
    while (left := _processes_mentioning(text)) and time.monotonic() < end:
        time.sleep(0.1)
    return left


def _sim_station(proc: subprocess.Popen[str]) -> tuple[Path, str]:
    lines = _read_until(proc, "Station file:")
    station = Path(lines[-1].split("Station file:", 1)[1].strip())
    unit_url = next(line.split()[1] for line in lines if line.strip().startswith("unit "))
    return station, unit_url


def test_bench_sim_serves_a_station_and_sigterm_tears_it_down(tmp_path: Path) -> None:
    sim = _start("sim", "--station-out", str(tmp_path / "sim.toml"))
    try:
        station, unit_url = _sim_station(sim)
        assert station == tmp_path / "sim.toml" and _processes_mentioning(unit_url)
        run = subprocess.run(
            [sys.executable, "-m", "bench", "run", "testplans/pos-quick.yaml", "--station", str(station),
             "--db", f"sqlite:///{tmp_path / 'bench.db'}", "--report", str(tmp_path / "reports"), "--json"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["verdict"] == "PASS"
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(15) == 0  # stopping it is how a bench sim session ends
        assert "simulated bench stopped" in (sim.stderr.read() if sim.stderr else "")
        assert _wait_gone(unit_url) == [], "the simulated unit outlived bench sim"
        assert not Path(unit_url).exists()
    finally:
        if sim.poll() is None:
            sim.kill()


def test_a_killed_bench_sim_takes_its_unit_with_it(tmp_path: Path) -> None:
    sim = _start("sim", "--station-out", str(tmp_path / "sim.toml"))
    try:
        _, unit_url = _sim_station(sim)
        sim.kill()  # SIGKILL: no teardown of its own
        sim.wait(10)
        assert _wait_gone(unit_url) == [], "the simulated unit was orphaned"
    finally:
        if sim.poll() is None:
            sim.kill()


def test_sigterm_during_a_run_records_it_aborted(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    run = _start("run", "testplans/pos-full.yaml", "--sim", "--db", db, "--report", str(tmp_path / "reports"))
    try:
        _read_until(run, "  3/", timeout=60)
        run.send_signal(signal.SIGTERM)
        assert run.wait(30) == 130
        assert "interrupted" in (run.stderr.read() if run.stderr else "")
    finally:
        if run.poll() is None:
            run.kill()
    hist = subprocess.run([sys.executable, "-m", "bench", "history", "PT3-000123", "--db", db, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    runs = json.loads(hist.stdout)["runs"]
    assert [r["verdict"] for r in runs] == ["ABORTED"]
