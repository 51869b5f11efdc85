"""A unit on a remote bench: ``bench run`` and ``bench station check`` on a station file whose unit is
``rfc2217://127.0.0.1:PORT``, Debian's ser2net publishing the pty of ``bench sim``'s unit (docs/fleet.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from ser2net import Ser2net, require_ser2net
from simproc import running_sim

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow

#: A full unit plan: intake checks, a firmware update over the network link, the log, the link's figures.
PLAN = """\
plan: remote-unit
version: "1.0"
models: [PT-300]
defaults: {timeout: 30, retries: 0}
steps:
  - {name: identify, check: unit.identify}
  - {name: self-test, check: unit.self_test, requires: [identify]}
  - {name: battery, check: power.battery, requires: [identify]}
  - {name: tamper, check: unit.tamper, requires: [identify]}
  - {name: update-state-before, check: unit.update_state}
  - name: flash
    check: unit.firmware_update
    timeout: 120
    params: {image: pt300-2.5.0.img, keys: [TEST-ONLY-signing-key.pub.pem], max_seconds: 100}
  - {name: update-state-after, check: unit.update_state}
  - {name: event-log, check: unit.event_log, requires: [identify]}
  - {name: link, check: unit.link, requires: [identify]}
"""


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[Ser2net, Path]]:
    """ser2net publishing ``bench sim``'s unit, and a station file that reaches the unit through it only."""
    require_ser2net()
    with running_sim(tmp_path / "sim.toml") as sim_station:
        pty = tomllib.loads(Path(sim_station).read_text())["devices"]["unit"]
        with Ser2net(Path(pty), tmp_path) as server:
            station = tmp_path / "remote.toml"
            station.write_text(f'name = "remote-1"\n[devices]\nunit = "{server.url}"\n')
            yield server, station


def bench(*args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)  # type: ignore[call-overload]


def test_a_full_plan_runs_through_ser2net_and_survives_the_server_restarting_mid_flash(
        remote: tuple[Ser2net, Path], tmp_path: Path) -> None:
    server, station = remote
    plan = tmp_path / "remote-unit.yaml"
    plan.write_text(PLAN)
    ops = tmp_path / "ops.yaml"
    ops.write_text('answers: {"*": true}\n')
    run = bench("run", str(plan), "--station", str(station), "--operator-script", str(ops),
                "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "reports"))
    assert run.stdout is not None
    lines = []
    for line in run.stdout:
        lines.append(line)
        if line.lstrip().startswith("flash ") and "/" in line:  # the flash's first progress line: mid-transfer
            # Hold the run still while the server dies and comes back: the connection it holds is dead when it
            # goes on, whatever the machine's load (the flash has 64 KiB still to send).
            run.send_signal(signal.SIGSTOP)
            try:
                server.kill()
                server.start()
            finally:
                run.send_signal(signal.SIGCONT)
            break
    else:
        pytest.fail("no progress line from the flash step:\n" + "".join(lines) + run.communicate()[1])
    out, err = run.communicate(timeout=120)
    out = "".join(lines) + out
    assert run.returncode == 0, out + err
    assert "Traceback" not in err and "Verdict: PASS  (9 pass)" in out, out + err
    record = json.loads(next((tmp_path / "reports").glob("*/run.json")).read_text())
    assert record["station"] == "remote-1" and record["unit"]["serial"] == "PT3-000123"
    steps = {s["name"]: s for s in record["steps"]}
    assert [s["outcome"] for s in record["steps"]] == ["PASS"] * 9
    assert steps["update-state-after"]["measurements"]  # the new firmware runs after the restart
    link = {m["name"]: m["value"] for m in steps["link"]["measurements"]}
    assert link["link.reconnects"] == 1, steps["link"]
    assert any("serial server dropped 1 time(s)" in note for note in steps["link"]["log"]), steps["link"]


def test_station_check_says_whether_the_serial_server_is_reachable(remote: tuple[Ser2net, Path]) -> None:
    server, station = remote
    check = bench("station", "check", str(station))
    out, err = check.communicate(timeout=60)
    assert check.returncode == 0, out + err
    unit_lines = [line for line in out.splitlines() if line.lstrip().startswith("unit ")]
    assert unit_lines == [f"  unit         {server.url}  OK    PT-300 serial PT3-000123, firmware 2.4.1 "
                          f"(serial server 127.0.0.1:{server.port} reachable)"], out
    server.kill()
    check = bench("station", "check", str(station), "--json")
    out, err = check.communicate(timeout=60)
    assert check.returncode == 3, out + err
    unit = json.loads(out)["slots"][0]["devices"][0]
    assert unit["server"] == {"address": f"127.0.0.1:{server.port}", "reachable": False}
    assert unit["fault_code"] == "BENCH-NET"
    check = bench("station", "check", str(station))
    out, err = check.communicate(timeout=60)
    assert check.returncode == 3 and not err, out + err
    assert f"  unit         {server.url}  FAIL  serial server 127.0.0.1:{server.port} unreachable: " \
           "connection refused\n" in out, out


def test_a_run_whose_serial_server_is_down_says_so_in_one_line(remote: tuple[Ser2net, Path], tmp_path: Path) -> None:
    server, station = remote
    server.kill()
    ops = tmp_path / "ops.yaml"
    ops.write_text('answers: {"*": true}\n')
    run = bench("run", "pos-quick", "--station", str(station), "--operator-script", str(ops),
                "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "reports"))
    out, err = run.communicate(timeout=60)
    assert run.returncode == 3, out + err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"cannot reach the serial server 127.0.0.1:{server.port} of unit port {server.url}: connection refused" \
           in err, err
