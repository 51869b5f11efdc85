"""``bench host``: the acquirer host alone, as a subprocess, for a real unit on the bench network."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drivers.acquirer.isoclient import PAN, Client, auth

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", "host", *args], cwd=ROOT, env=ENV, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.mark.slow
def test_json_lines_then_ctrl_c_exits_0(tmp_path):
    behaviours = tmp_path / "host.yaml"
    behaviours.write_text('rules:\n  - card: "541333"\n    answer: decline\n    code: "51"\n'
                          "  - amount: 1313\n    answer: never\n")
    proc = _start("--listen", "127.0.0.1:0", "--behaviour", str(behaviours), "--json")
    try:
        first = json.loads(proc.stdout.readline())
        host, port = first["listening"].rsplit(":", 1)
        with Client((host, int(port))) as unit:
            assert unit.request(auth("000001", pan="5413330089020011"))["39"] == "51"
            assert unit.request(auth("000002", 50, **{"35": PAN + "=28122011758928889"}))["39"] == "00"
            unit.send(auth("000003", 1313))
            seen = "".join(proc.stdout.readline() for _ in range(5))  # the five messages are out
    finally:
        code, out, err = _stop(proc)
    out = seen + out
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    exchanges = [line["exchange"] for line in lines if "exchange" in line]
    assert [(e["direction"], e["mti"], e["behaviour"]) for e in exchanges] == [
        ("in", "0100", "decline 51"), ("out", "0110", ""), ("in", "0100", "approve"), ("out", "0110", ""),
        ("in", "0100", "never")]
    assert [line["finding"]["code"] for line in lines if "finding" in line] == ["ISO-REVERSAL-MISSING"]
    assert lines[-1] == {"stopped": {"exchanges": 5, "findings": 1}}
    everything = first["listening"] + out + err
    assert "476173******0010" in out
    assert PAN not in re.sub(r"[^0-9\n]", "", everything) and "1758928889" not in everything


@pytest.mark.slow
def test_text_lines_one_per_message():
    proc = _start("--listen", "127.0.0.1:0")
    try:
        first = proc.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", first).group(1))
        with Client(("127.0.0.1", port)) as unit:
            unit.request(auth("000001"))
            seen = proc.stdout.readline() + proc.stdout.readline()
    finally:
        code, out, err = _stop(proc)
    out = seen + out
    assert code == 0, err
    lines = out.splitlines()
    assert re.search(r"#1 in +0100 stan=000001 tid=TERM0001 pan=476173\*{6}0010 amount=000000001000 \[approve\]",
                     lines[0])
    assert re.search(r"#1 out 0110 stan=000001 .* rc=00 [\d.]+ ms$", lines[1])
    assert lines[-1] == "bench host stopped: 2 messages, 0 findings"


def test_a_port_in_use_is_one_line_exit_3():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "bench", "host", "--listen", f"127.0.0.1:{port}"], cwd=ROOT,
                              env=ENV, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 3
    assert proc.stderr == f"bench: error: bench host: cannot listen on 127.0.0.1:{port}: the port is in use\n"
    assert proc.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--listen", "8583"], "--listen 8583: give ADDRESS:PORT"),
    (["--listen", "127.0.0.1:0", "--behaviour", "{bad}"], "host.yaml:2: answer must be one of"),
])
def test_usage_and_behaviour_file_errors_exit_2(tmp_path, capsys, args, message):
    from bench.cli import main

    bad = tmp_path / "host.yaml"
    bad.write_text("rules:\n  - answer: explode\n")
    with pytest.raises(SystemExit) as end:
        main(["host", *[str(bad) if a == "{bad}" else a for a in args]])
    assert end.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
