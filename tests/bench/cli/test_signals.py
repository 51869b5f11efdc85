"""``bench sim`` and ``bench run`` as a user ends them: every terminating signal, a closed terminal,
``kill -9``, and what each leaves behind (a stored run that says what happened; no processes, no folders)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}

pytestmark = pytest.mark.slow


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env or ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env or ENV, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def tmp_env() -> Iterator[tuple[Path, dict[str, str]]]:
    """A temp directory of its own for the benches of one test (short: it holds a Unix socket path)."""
    tmp = Path(tempfile.mkdtemp(prefix="bsig-", dir="/tmp"))
    try:
        yield tmp, {**ENV, "TMPDIR": str(tmp)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verdicts(db: str, env: dict[str, str] | None = None) -> list[str]:
    hist = _bench("history", "PT3-000123", "--db", db, "--json", env=env)
    assert hist.returncode == 0, hist.stderr
    return [r["verdict"] for r in json.loads(hist.stdout)["runs"]]


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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name)
def test_bench_sim_stops_whole_on_every_terminating_signal(tmp_env: tuple[Path, dict[str, str]],
                                                           sig: signal.Signals) -> None:
    tmp, env = tmp_env
    sim = _start("sim", env=env)
    try:
        station, unit_url = _sim_station(sim)
        assert station.is_file()
        sim.send_signal(sig)
        assert sim.wait(30) == 0
        assert "simulated bench stopped" in (sim.stderr.read() if sim.stderr else "")
    finally:
        if sim.poll() is None:
            sim.kill()
    assert _wait_gone(unit_url) == []
    assert list(tmp.iterdir()) == [], "bench sim left files behind"  # its station file went with it


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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=lambda s: s.name)
def test_every_terminating_signal_ends_a_run_like_ctrl_c(tmp_path: Path, tmp_env: tuple[Path, dict[str, str]],
                                                        sig: signal.Signals) -> None:
    tmp, env = tmp_env
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    run = _start("run", "testplans/pos-full.yaml", "--sim", "--db", db, "--report", str(tmp_path / "r"), env=env)
    try:
        _read_until(run, "  3/", timeout=60)
        run.send_signal(sig)
        assert run.wait(60) == 130
        said = [ln for ln in (run.stderr.read() if run.stderr else "").splitlines() if "interrupted" in ln]
        assert len(said) == 1 and said[0].startswith("bench: error: interrupted by ") and sig.name in said[0], said
    finally:
        if run.poll() is None:
            run.kill()
    assert _verdicts(db) == ["ABORTED"]
    # The stored run says who interrupted it, and so does the step it cut short (if one was in flight).
    stored = json.loads(_bench("report", "latest", "--format", "json", "--db", db, env=env).stdout)
    assert stored["summary"] == said[0].removeprefix("bench: error: ")
    cut = [s for s in stored["steps"] if s["outcome"] == "ERROR"]
    assert all(s["message"] == stored["summary"] for s in cut), cut
    assert list(tmp.glob("bench-sim-*")) == [], "the simulated bench was not torn down"
    assert _wait_gone(str(tmp)) == [], "the simulated unit outlived the run"


def test_closing_the_terminal_ends_a_run_like_ctrl_c(tmp_path: Path, tmp_env: tuple[Path, dict[str, str]]) -> None:
    """The bench runs in a terminal of its own (its controlling tty); closing it hangs the session up."""
    tmp, env = tmp_env
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    master, slave = pty.openpty()
    run = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "testplans/pos-full.yaml", "--sim", "--db", db,
         "--report", str(tmp_path / "r")],
        cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    try:
        seen = b""
        end = time.monotonic() + 60
        while b"  3/" not in seen and time.monotonic() < end:
            if select.select([master], [], [], 1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        assert b"  3/" in seen, seen
        os.close(master)  # the terminal window closes
        master = -1
        assert run.wait(60) == 130
    finally:
        if master >= 0:
            os.close(master)
        if run.poll() is None:
            run.kill()
    assert _verdicts(db) == ["ABORTED"]
    assert list(tmp.glob("bench-sim-*")) == []
    assert _wait_gone(str(tmp)) == []


LINGER = """
import os, time

class _Linger:
    # Runs while Python shuts down (module teardown): the moment a SIGTERM used to kill the bench.
    def __del__(self, write=os.write, exists=os.path.exists, sleep=time.sleep, go=os.environ["LINGER_GO"]):
        write(2, b"LINGERING\\n")
        for _ in range(2400):
            if exists(go):
                return
            sleep(0.05)

_keep = _Linger()
"""


@pytest.mark.parametrize("args", [("run", "testplans/pos-quick.yaml", "--sim"), ("history", "PT3-000123")],
                         ids=["run", "history"])
def test_a_signal_while_the_bench_exits_does_not_kill_it(tmp_path: Path, tmp_env: tuple[Path, dict[str, str]],
                                                         args: tuple[str, ...]) -> None:
    """SIGTERM after the verdict (the report line), as Python shuts down: the exit code stays the command's."""
    _, env = tmp_env
    (tmp_path / "linger.py").write_text(LINGER)
    go = tmp_path / "go"
    env = {**env, "LINGER_GO": str(go), "PYTHONPATH": str(tmp_path)}
    code = "import linger; from bench.cli import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, *args, "--db", f"sqlite:///{tmp_path / 'bench.db'}",
                             *(["--report", str(tmp_path / "r")] if args[0] == "run" else [])],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        lines = []
        end = time.monotonic() + 60
        while time.monotonic() < end:
            line = proc.stderr.readline()
            lines.append(line)
            if not line or "LINGERING" in line:
                break
        assert "LINGERING" in lines[-1], lines
        proc.send_signal(signal.SIGTERM)
        go.touch()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Verdict: PASS" in out if args[0] == "run" else "no runs" in out


def test_after_kill_9_readers_show_the_run_aborted_and_the_next_bench_cleans_up(
        tmp_path: Path, tmp_env: tuple[Path, dict[str, str]]) -> None:
    tmp, env = tmp_env
    db_file = tmp_path / "bench.db"
    run = _start("run", "testplans/pos-full.yaml", "--sim", "--db", f"sqlite:///{db_file}",
                 "--report", str(tmp_path / "r"), env=env)
    try:
        _read_until(run, "  3/", timeout=60)
        run.kill()  # SIGKILL: nothing of its own runs
        run.wait(30)
    finally:
        if run.poll() is None:
            run.kill()
    left = list(tmp.glob("bench-sim-*"))
    assert len(left) == 1
    for reader, args in {"history": ("history", "PT3-000123"), "stats": ("stats",),
                         "report": ("report", "latest", "--format", "json"), "runs": ("runs", "open")}.items():
        copy = tmp_path / reader  # each reader on a store of its own, as kill -9 left it
        copy.mkdir()
        for suffix in ("", "-wal"):
            if Path(f"{db_file}{suffix}").exists():
                shutil.copy(f"{db_file}{suffix}", copy / f"bench.db{suffix}")
        out = _bench(*args, "--db", f"sqlite:///{copy / 'bench.db'}", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        shown = {"history": lambda d: [r["verdict"] for r in d["runs"]],
                 "stats": lambda d: d["verdicts"],
                 "report": lambda d: d["content"]["verdict"],
                 "runs": lambda d: d}[reader](doc)
        assert shown == {"history": ["ABORTED"], "stats": {"ABORTED": 1}, "report": "ABORTED", "runs": []}[reader]
    again = _bench("run", "testplans/pos-quick.yaml", "--sim", "--db", f"sqlite:///{tmp_path / 'other.db'}",
                   "--report", str(tmp_path / "r"), env=env)
    assert again.returncode == 0, again.stderr
    assert list(tmp.glob("bench-sim-*")) == [], "the folder of the killed run is still there"


def test_a_report_that_cannot_be_written_keeps_the_run_and_the_verdict(
        tmp_path: Path, tmp_env: tuple[Path, dict[str, str]]) -> None:
    """The destinations were fine at the start; by the end a file is in their way (as a full disk would be)."""
    _, env = tmp_env
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    reports, junit_dir = tmp_path / "reports", tmp_path / "ci"
    run = _start("run", "testplans/pos-full.yaml", "--sim", "--db", db, "--report", str(reports),
                 "--junit", str(junit_dir / "junit.xml"), env=env)
    try:
        _read_until(run, "  3/", timeout=60)
        for folder in (reports, junit_dir):
            shutil.rmtree(folder)
            folder.write_text("in the way")
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 3  # whatever the verdict: the bench did not do all it was asked
    verdict = re.search(r"^Verdict: (\w+)", out, re.M)
    assert verdict, out
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("bench: error: cannot write the report folder"), err
    assert f"cannot write --junit {junit_dir / 'junit.xml'}" in errors[0]
    assert _verdicts(db) == [verdict.group(1)]
    assert reports.read_text() == junit_dir.read_text() == "in the way"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left
