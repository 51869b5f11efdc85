"""``bench sim`` as a person or a script uses it: several units, cards held and moved from stdin,
seen by an independent PC/SC client (pcsc_scan, pyscard), and nothing left behind when it stops."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest
from simproc import processes_mentioning

from bench.cli.simcards import CardSlots, answer
from drivers.sim.cardbench import _try_lock
from drivers.sim.pcscd import list_readers_now, reader_name

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _needs_pcscd() -> None:
    if os.geteuid() != 0 and list_readers_now() is None:
        pytest.skip("pcscd is not running and only root can start it")


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", "sim", *args], cwd=ROOT, env=ENV, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 60) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    proc.kill()
    raise AssertionError(f"no {marker!r} in {lines!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")


def _command(proc: subprocess.Popen[str], line: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def _pcsc_scan() -> dict[str, bool]:
    """Reader -> whether pcsc_scan reports a card in it (its last state for the reader)."""
    out = subprocess.run(["timeout", "5", "pcsc_scan", "-n"], capture_output=True, text=True, check=False)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout)
    assert "Invalid parameter" not in text + out.stderr, "pcsc_scan could not watch the readers"
    state: dict[str, bool] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"\s*Reader \d+: (.*\S)", line):
            current = m.group(1)
        elif current and "Card state:" in line:
            state[current] = "Card inserted" in line
    return state


def _present(names: list[str]) -> dict[str, bool]:
    """What pyscard sees in each reader now."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hr == scard.SCARD_S_SUCCESS
    try:
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        assert hr == scard.SCARD_S_SUCCESS
        return {name: bool(ev & scard.SCARD_STATE_PRESENT) for name, ev, _ in states}
    finally:
        scard.SCardReleaseContext(ctx)


@pytest.mark.slow
@pytest.mark.usefixtures("many_slots")
def test_three_units_a_held_card_cards_moved_from_stdin_and_nothing_left_after_ctrl_c() -> None:
    _needs_pcscd()
    sim = _start("--units", "3", "--card", "2=emv-visa-contact", "--device", "unit", "--device", "card_reader")
    try:
        lines = _read_until(sim, "Ctrl-C stops the bench.")
        station_file = Path(next(ln for ln in lines if ln.startswith("Station file:")).split(":", 1)[1].strip())
        station = tomllib.loads(station_file.read_text())
        assert sorted(station["slots"]) == ["1", "2", "3"] and "devices" not in station
        assert all(set(urls) == {"unit", "card_reader"} for urls in station["slots"].values())
        readers = {int(s): unquote(u["card_reader"].removeprefix("pcsc://")) for s, u in station["slots"].items()}
        units = [u["unit"] for u in station["slots"].values()]
        assert all(processes_mentioning(u) for u in units)
        assert "    card         emv-visa-contact\n" in lines

        check = subprocess.run([sys.executable, "-m", "bench", "station", "check", str(station_file), "--json"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr  # the station file is one `bench station check` reads
        found = {(s["slot"], d["role"]): d["identity"] for s in json.loads(check.stdout)["slots"] for d in s["devices"]}
        assert [found[(s, "unit")]["serial"] for s in (1, 2, 3)] == ["PT3-000123-01", "PT3-000123-02", "PT3-000123-03"]

        scan = _pcsc_scan()
        assert {slot: scan.get(name) for slot, name in readers.items()} == {1: False, 2: True, 3: False}

        assert _command(sim, "insert 3 emv-mastercard-contact") == "slot 3: emv-mastercard-contact inserted"
        assert _command(sim, "insert 9 mute").startswith("error: no slot '9'; slots: 1, 2, 3")
        assert _command(sim, "remove 2") == "slot 2: emv-visa-contact removed"
        seen = _present(list(readers.values()))
        assert {slot: seen[name] for slot, name in readers.items()} == {1: False, 2: False, 3: True}
        assert _command(sim, "cards") == "slot 1: empty, slot 2: empty, slot 3: emv-mastercard-contact"

        sim.send_signal(signal.SIGINT)
        assert sim.wait(30) == 0  # a signal is how a bench sim session ends (README)
        assert "simulated bench stopped" in (sim.stderr.read() if sim.stderr else "")
    finally:
        if sim.poll() is None:
            sim.kill()
    assert not station_file.parent.exists(), "bench sim left its folder behind"
    assert all(processes_mentioning(u) == [] for u in units), "a unit outlived bench sim"
    for name in readers.values():
        slot = next(s for s in range(16) if reader_name(s) == name)
        fd = _try_lock(slot)
        assert fd is not None, f"{name} is still leased"
        os.close(fd)


@pytest.mark.slow
def test_one_unit_holds_a_card_prints_json_and_quits_from_stdin(tmp_path: Path) -> None:
    _needs_pcscd()
    sim = _start("--card", "emv-visa-contact", "--json", "--station-out", str(tmp_path / "sim.toml"))
    try:
        assert sim.stdout is not None
        up = json.loads(sim.stdout.readline())
        assert up["station"] == str(tmp_path / "sim.toml")
        assert set(up["slots"]["1"]) == {"unit", "card_reader"} and up["devices"] == up["slots"]["1"]
        assert up["cards"] == {"1": "emv-visa-contact"}
        assert set(tomllib.loads((tmp_path / "sim.toml").read_text())["devices"]) == {"unit", "card_reader"}
        name = unquote(up["slots"]["1"]["card_reader"].removeprefix("pcsc://"))
        assert _present([name]) == {name: True}
        reply = json.loads(_command(sim, "remove 1"))
        assert reply == {"ok": True, "message": "slot 1: emv-visa-contact removed", "cards": {"1": None}}
        assert _present([name]) == {name: False}
        assert json.loads(_command(sim, "eject 1"))["ok"] is False
        assert json.loads(_command(sim, "quit"))["ok"] is True
        assert sim.wait(30) == 0
    finally:
        if sim.poll() is None:
            sim.kill()


@pytest.mark.parametrize(("args", "error"), [
    (("--units", "3", "--card", "2=nope"), "--card 2=nope: unknown card 'nope'; known: bad-tck, emv-contactless,"),
    (("--units", "3", "--card", "4=mute"), "--card 4=mute: no slot 4 (slots 1-3)"),
    (("--units", "3", "--card", "mute"), "--card mute: give SLOT=CARD"),
    (("--units", "2", "--card", "1=mute", "--card", "1=flaky"), "--card 1=flaky: slot 1 already holds mute"),
    (("--units", "17",), "--units: 17 is not in the range 1<=x<=16"),
])
def test_bad_options_are_one_line_before_anything_starts(args: tuple[str, ...], error: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"bench: error: {error}"), proc.stderr


def test_commands_on_a_bench_without_a_card_reader_say_so_and_keep_it_running() -> None:
    slots = CardSlots(None, {}, {})
    assert answer(slots, "") == (None, False)
    assert answer(slots, "cards")[0] == "error: this bench has no card reader (start it with --device card_reader or --card)"
    assert answer(slots, "insert 1 mute") == answer(slots, "cards")
    assert answer(slots, "insert 1") == ("error: usage: insert SLOT CARD", False)
    assert answer(slots, "frobnicate")[0].startswith("error: unknown command 'frobnicate'; commands: insert SLOT")
    assert answer(slots, "help")[0].startswith("commands: insert SLOT CARD, remove SLOT, tap SLOT CARD, cards, help")
    assert answer(slots, "QUIT") == ("stopping the simulated bench", True)


@pytest.mark.slow
def test_simulated_instruments_go_in_the_station_file_and_answer_station_check(tmp_path: Path) -> None:
    station = tmp_path / "sim.toml"
    sim = _start("--device", "supply", "--device", "dmm", "--device", "scope", "--json", "--station-out", str(station))
    try:
        assert sim.stdout is not None
        up = json.loads(sim.stdout.readline())
        assert set(up["devices"]) == {"supply", "dmm", "scope"}
        assert all(url.startswith("visa://") and url.endswith("@sim") for url in up["devices"].values())
        descriptions = Path(up["devices"]["supply"].split("?backend=")[1].removesuffix("@sim")).parent
        assert (descriptions / "supply-keysight.yaml").is_file()
        check = subprocess.run([sys.executable, "-m", "bench", "station", "check", str(station), "--json"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert check.returncode == 0, check.stderr
        said = {d["role"]: d["identity"]["model"] for d in json.loads(check.stdout)["slots"][0]["devices"]}
        assert said == {"supply": "E36103B", "dmm": "34461A", "scope": "DS1104Z"}
        assert json.loads(_command(sim, "quit"))["ok"] is True
        assert sim.wait(30) == 0
    finally:
        if sim.poll() is None:
            sim.kill()
    assert not descriptions.exists()  # the bench's copy went with it
