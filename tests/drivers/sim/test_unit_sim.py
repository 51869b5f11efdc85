"""Tests of the simulated unit: the state machine, profiles, and the real process on a pty."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.codecs.linkframe import T_ACK, T_ERROR, T_EVENT, T_NAK, Frame, FrameDecoder, encode_frame
from drivers.errors import ConfigError, DeviceError, LinkTimeout, ProtocolError
from drivers.sim.unitprofile import load_profile, parse_time, validate_profile
from drivers.sim.unitsim import UnitSim
from drivers.unit import open_unit

REPO = Path(__file__).resolve().parents[3]
PROFILES = ["good", "low-battery", "old-firmware", "tampered"]

# ---------------------------------------------------------------------------- state machine


def _frames(data: bytes) -> list[Frame]:
    return FrameDecoder().feed(data)


def test_sim_answers_battery_and_the_answer_stands_for_the_ack() -> None:
    sim = UnitSim(load_profile("good"), now=0.0)
    out = _frames(sim.feed(encode_frame(9, 0x11), now=0.0))
    # 7.6 V = 7600 mV = 0x1DB0, 87 %, flags: adapter present (0x02); no ACK before it
    assert out == [Frame(9, 0x91, bytes.fromhex("1DB0 57 02"))]


def test_a_nak_after_events_followed_the_answer_gets_the_answer_again_too() -> None:
    sim = UnitSim(load_profile("good"), now=0.0)
    assert _frames(sim.feed(encode_frame(9, 0x11), now=0.0))[0].type == 0x91
    sim.emit_event("power", {"adapter_present": True, "charge_percent": 80}, 0.01)
    assert [f.type for f in _frames(sim.poll(0.01))] == [T_EVENT]
    # The host's NAK: the event (the last frame) and the answer (which may have been the damaged one).
    again = _frames(sim.feed(encode_frame(0, T_NAK), now=0.02))
    assert [(f.type, f.seq) for f in again] == [(T_EVENT, 0), (0x91, 9)]


def test_sim_with_a_bad_receive_line_naks_every_nth_frame() -> None:
    profile = load_profile("good")
    profile["faults"]["rx_noise"] = 2
    sim = UnitSim(validate_profile(profile), now=0.0)
    answers = [_frames(sim.feed(encode_frame(seq, 0x11), now=seq / 10)) for seq in range(1, 5)]
    assert [a[0].type for a in answers] == [0x91, T_NAK, 0x91, T_NAK]
    assert sim.commands == 2  # a damaged frame is never executed


def test_sim_retransmission_is_not_executed_twice() -> None:
    sim = UnitSim(load_profile("good"), now=0.0)
    first = sim.feed(encode_frame(3, 0x11), now=0.0)
    again = sim.feed(encode_frame(3, 0x11), now=0.1)
    assert first == again and sim.commands == 1


def _log_chunk(sim: UnitSim, seq: int, now: float) -> int:
    """Bytes of log data in the sim's answer to LOG_READ at offset 0 asking for 1000 bytes."""
    (answer,) = _frames(sim.feed(encode_frame(seq, 0x14, bytes.fromhex("00000000 03E8")), now=now))
    return len(answer.payload) - 12


@pytest.mark.parametrize(
    ("hello", "unit_max", "used"),
    [
        (bytes.fromhex("01 0400"), 1024, 1024),  # both take 1024
        (bytes.fromhex("01 0100"), 1024, 256),  # the host announced 256
        (bytes.fromhex("01 0400"), 512, 512),  # the unit's own maximum
        (b"", 512, 512),  # a host that announced nothing: the unit's maximum
        (bytes.fromhex("01 0008"), 512, 32),  # below the protocol's floor of 32
    ],
)
def test_sim_sends_no_more_than_the_host_announced(hello: bytes, unit_max: int, used: int) -> None:
    sim = UnitSim(load_profile("good", {"event_log_fill": 100, "max_payload": unit_max}), now=0.0)
    (answer,) = _frames(sim.feed(encode_frame(1, 0x01, hello), now=0.0))
    assert int.from_bytes(answer.payload[1:3], "big") == unit_max  # it announces its own maximum
    assert _log_chunk(sim, 2, 0.0) == min(used, 1000 + 12) - 12


def test_sim_unknown_command_gets_error_frame() -> None:
    sim = UnitSim(load_profile("good"), now=0.0)
    out = _frames(sim.feed(encode_frame(1, 0x5E), now=0.0))
    assert len(out) == 1 and out[0].type == T_ERROR and out[0].payload[:2] == bytes((0x5E, 0x01))


def test_sim_reboot_is_silent_then_sends_boot() -> None:
    sim = UnitSim(load_profile("good", {"boot_time": 2.0}), now=0.0)
    sim.feed(encode_frame(1, 0x03), now=0.0)
    assert sim.booting
    assert sim.feed(encode_frame(2, 0x11), now=1.0) == b""  # input dropped while booting
    boot = _frames(sim.poll(now=2.0))
    assert boot[0].type == T_EVENT and boot[0].payload[0] == 0x01 and boot[0].payload[1] == 1
    assert _frames(sim.poll(now=2.3))[0] == boot[0]  # retransmitted until ACKed
    sim.feed(encode_frame(boot[0].seq, T_ACK), now=2.4)
    assert sim.poll(now=3.0) == b""


def test_sim_power_off_after() -> None:
    sim = UnitSim(load_profile("good", {"faults": {"power_off_after": 1}}), now=0.0)
    assert _frames(sim.feed(encode_frame(1, 0x11), now=0.0))[0].type == 0x91
    assert sim.powered_off


def test_sim_slow_ms_acks_at_once_and_answers_later() -> None:
    sim = UnitSim(load_profile("good", {"faults": {"slow_ms": 200}}), now=0.0)
    assert _frames(sim.feed(encode_frame(1, 0x11), now=0.0)) == [Frame(1, T_ACK)]
    assert sim.next_deadline() == pytest.approx(0.2)
    assert sim.poll(now=0.1) == b""
    # the host retransmits before the answer is out: ACK again; one answer at 0.2 s; run once
    assert _frames(sim.feed(encode_frame(1, 0x11), now=0.1)) == [Frame(1, T_ACK)]
    assert sim.poll(now=0.19) == b""
    assert [f.type for f in _frames(sim.poll(now=0.2))] == [0x91] and sim.commands == 1
    # ... and after it: the cached answer again at once (the first one was lost)
    assert [f.type for f in _frames(sim.feed(encode_frame(1, 0x11), now=0.7))] == [0x91] and sim.commands == 1


# ---------------------------------------------------------------------------- profiles


def test_shipped_profiles_load() -> None:
    assert load_profile("good")["firmware"] == "2.4.1"
    assert load_profile("old-firmware")["firmware"] == "1.9.0"
    assert load_profile("low-battery")["battery"]["charge_percent"] < 10
    tampered = load_profile("tampered")
    assert tampered["tamper"]["tampered"] and tampered["self_test"]["ram"] == "pass"  # deep merge


def test_overrides_deep_merge_and_profile_is_json() -> None:
    prof = load_profile("good", {"battery": {"charge_percent": 3}, "faults": {"noise": 4}})
    assert prof["battery"]["charge_percent"] == 3 and prof["battery"]["voltage"] == 7.6
    assert prof["faults"]["noise"] == 4 and prof["faults"]["slow_ms"] == 0
    assert validate_profile(json.loads(json.dumps(prof))) == prof


def test_base_in_a_user_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("spec: 1\nbase: good\nserial: X-1\n")
    assert load_profile(path)["serial"] == "X-1"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("model: A\n", "spec"),
        ("spec: 2\nbase: good\n", "unsupported profile spec 2"),
        ("spec: 1\nbase: good\ncolour: red\n", "unknown profile key"),
        ("spec: 1\nbase: good\nbattery: {volts: 3}\n", "battery.volts"),
        ("spec: 1\nbase: good\nfaults: {noise: lots}\n", "faults.noise"),
        ("spec: 1\nbase: good\nevent_log: [{time: yesterday, code: 1}]\n", "event_log"),
        ("spec: 1\nbase: good\nself_test: {ram: maybe}\n", "self_test.ram"),
        ("spec: 1\nbase: nosuch\n", "no such profile"),
        ("spec: 1\nbase: [\n", "YAML error"),
        ("spec: 1\nbase: good\nboot_time: 1.0e+9\n", "boot_time"),
        ("spec: 1\nbase: good\nevent_log_fill: 100000000\n", "event_log_fill"),
        ("spec: 1\nbase: good\nbattery: {voltage: .nan}\n", "not a finite number"),
        ("spec: 1\nbase: good\nserial: " + "9" * 50 + "\n", "too long"),
    ],
)
def test_bad_profiles_are_plan_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_profile(path)


def test_relative_times() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_time("-2h", now) == now - timedelta(hours=2)
    assert parse_time("-30d", now) == now - timedelta(days=30)
    assert parse_time("2024-05-01T10:00:00Z", now) == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("soon", now)


# ---------------------------------------------------------------------------- the real process

Spawn = Callable[..., tuple[subprocess.Popen[str], str]]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    procs: list[tuple[subprocess.Popen[str], Path]] = []

    def start(profile: str = "good", overrides: dict[str, Any] | None = None, *extra: str) -> tuple[
        subprocess.Popen[str], str
    ]:
        link = tmp_path / f"unit{len(procs)}"
        args = ["--profile-json", json.dumps(load_profile(profile, overrides))] if overrides else [
            "--profile", profile
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "drivers.sim.unit", *args, "--link", str(link), *extra],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append((proc, link))
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready, "simulated unit did not start"
        assert proc.stdout.readline() == f"READY {link}\n"
        return proc, str(link)

    yield start
    for proc, link in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert not link.is_symlink()
        assert proc.stdout is not None and proc.stdout.read() == ""  # exactly one line on stdout


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_process_serves_every_command(spawn: Spawn, profile: str) -> None:
    expected = load_profile(profile)
    _, link = spawn(profile)
    with open_unit(link) as unit:
        ident = unit.identify()
        assert (ident.serial, ident.firmware) == (expected["serial"], expected["firmware"])
        assert len(unit.self_test()) == len(expected["self_test"])
        assert unit.battery().charge_percent == expected["battery"]["charge_percent"]
        assert unit.tamper().tampered == expected["tamper"]["tampered"]
        assert len(unit.comms_test()) == len(expected["comms"])
        assert len(unit.event_log()) == len(expected["event_log"])
        assert unit.reboot(wait=5).serial == expected["serial"]
        assert unit.battery().voltage == pytest.approx(expected["battery"]["voltage"])
        assert unit.next_event(0.1) is None


@pytest.mark.slow
def test_process_noise_passes_with_retransmissions(spawn: Spawn) -> None:
    _, link = spawn("good", {"faults": {"noise": 3}})
    with open_unit(link, timeout=0.3) as unit:
        for _ in range(6):
            assert unit.tamper().keys_present
        stats = unit.stats
        assert stats.retransmissions + stats.naks_sent > 0


@pytest.mark.slow
def test_process_silent_after(spawn: Spawn) -> None:
    _, link = spawn("good", {"faults": {"silent_after": 2}})
    with open_unit(link, timeout=0.1, retries=2) as unit:
        unit.battery()
        with pytest.raises(LinkTimeout):
            unit.battery()


@pytest.mark.slow
def test_process_garbage(spawn: Spawn) -> None:
    _, link = spawn("good", {"faults": {"garbage": True}})
    with pytest.raises(ProtocolError) as info:
        open_unit(link, timeout=0.1, retries=2)
    assert info.value.fault_code == "LINK-GARBAGE"


@pytest.mark.slow
def test_process_power_off(spawn: Spawn) -> None:
    proc, link = spawn("good", {"faults": {"power_off_after": 2}})
    unit = open_unit(link, timeout=0.2, retries=2)
    try:
        unit.battery()
        assert proc.wait(5) == 0
        started = time.monotonic()
        with pytest.raises(DeviceError) as info:
            unit.battery()
        assert isinstance(info.value, LinkTimeout) and time.monotonic() - started < 2.0
        assert not os.path.islink(link)
    finally:
        unit.close()


@pytest.mark.slow
def test_process_large_log_at_line_rate(spawn: Spawn) -> None:
    _, link = spawn("good", {"event_log_fill": 1800}, "--baud", "1000000")
    with open_unit(link) as unit:
        started = time.monotonic()
        raw = unit.event_log_bytes()
        elapsed = time.monotonic() - started
        assert len(raw) >= 64 * 1024
        assert elapsed >= len(raw) / 100_000 * 0.9  # paced at 100 kB/s
        log = unit.event_log()
        assert len(log) == 1805 and log == sorted(log, key=lambda e: e.timestamp)


@pytest.mark.slow
def test_process_rejects_bad_profile(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "drivers.sim.unit", "--profile-json", '{"spec": 9}', "--link", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2 and "spec" in result.stderr and result.stdout == ""


# ---------------------------------------------------------------------------- keypad, display, magstripe


def _events(sim: UnitSim, until: float, step: float = 0.001) -> list[tuple[float, bytes]]:
    """Poll the sim every ``step`` s up to ``until``; every event payload with the time it went out."""
    out = []
    t = 0.0
    while t <= until:
        for frame in _frames(sim.poll(now=t)):
            if frame.type == T_EVENT:
                out.append((round(t, 3), frame.payload))
                sim.feed(encode_frame(frame.seq, T_ACK), now=t)
        t += step
    return out


def test_sim_key_presses_only_in_test_mode_with_unit_timestamps() -> None:
    sim = UnitSim(load_profile("good", {"keys": ["1", "2"]}), now=0.0)
    sim.operator_action("press_keys", {"keys": ["1"]}, now=0.0)
    assert _events(sim, 1.0) == []  # test mode off: the payment app gets the key
    answer = _frames(sim.feed(encode_frame(1, 0x30, b"\x01"), now=1.0))
    assert answer == [Frame(1, 0xB0, bytes.fromhex("02 01 31 01 32"))]
    sim.operator_action("press_keys", {"keys": ["1", "2"]}, now=1.0)
    got = _events(sim, 2.0)
    # 1 pressed at 1.2 s, released 80 ms later; 2 pressed 150 ms after 1
    assert [p for _, p in got] == [
        bytes.fromhex("02 01 31 000004B0"), bytes.fromhex("03 01 31 00000500"),
        bytes.fromhex("02 01 32 00000546"), bytes.fromhex("03 01 32 00000596"),
    ]


def test_sim_keypad_faults() -> None:
    faults = {"dead_keys": ["1"], "stuck_keys": ["2"], "bouncing_keys": ["3"]}
    sim = UnitSim(load_profile("good", {"keys": ["1", "2", "3"], "faults": faults}), now=0.0)
    sim.feed(encode_frame(1, 0x30, b"\x01"), now=0.0)
    sim.operator_action("press_keys", {}, now=0.0)
    got = [p for _, p in _events(sim, 1.0)]
    assert got[0] == bytes.fromhex("02 01 32 00000032")  # the stuck key is down 50 ms after test mode starts
    key3 = [(p[0], int.from_bytes(p[3:], "big")) for p in got[1:]]
    assert key3 == [(2, 500), (3, 502), (2, 505), (3, 580)]  # bounce: down again 5 ms after the press


def test_sim_events_survive_lost_frames_and_lost_acks_in_order() -> None:
    """A lost event frame or a lost ACK delays the events behind it; none is lost or reordered."""
    keys = [str(k) for k in range(10)]
    sim = UnitSim(load_profile("good", {"keys": keys}), now=0.0)
    sim.feed(encode_frame(1, 0x30, b"\x01"), now=0.0)
    sim.operator_action("press_keys", {}, now=0.0)
    received: list[bytes] = []
    last: tuple[int, bytes] | None = None
    frames_seen = acks_sent = 0
    for ms in range(15000):
        t = ms / 1000
        for frame in _frames(sim.poll(now=t)):
            if frame.type != T_EVENT:
                continue
            frames_seen += 1
            if frames_seen % 3 == 0:
                continue  # damaged on the line: the host never sees it
            if (frame.seq, frame.payload) != last:
                received.append(frame.payload)
                last = (frame.seq, frame.payload)
            acks_sent += 1
            if acks_sent % 4 != 0:  # every fourth ACK is lost on the way back
                sim.feed(encode_frame(frame.seq, T_ACK), now=t)
    kinds = [(p[0], p[2:3].decode()) for p in received]
    assert kinds == [(kind, key) for key in keys for kind in (2, 3)]
    assert sim.events_dropped == 0


def test_sim_gives_up_on_an_event_after_its_retries_and_sends_the_next() -> None:
    sim = UnitSim(load_profile("good", {"keys": ["1", "2"]}), now=0.0)
    sim.feed(encode_frame(1, 0x30, b"\x01"), now=0.0)
    sim.operator_action("press_keys", {}, now=0.0)
    sent: list[tuple[float, int, int]] = []
    for ms in range(5000):  # a host that never answers
        sent += [(ms / 1000, f.seq, f.payload[0]) for f in _frames(sim.poll(now=ms / 1000)) if f.type == T_EVENT]
    # the first key_down (pressed at 0.2 s) goes out 1 + 3 times, 250 ms apart; then the next one
    assert [s for s in sent if s[1] == sent[0][1]] == [(0.2, 0, 2), (0.45, 0, 2), (0.7, 0, 2), (0.95, 0, 2)]
    assert sent[4] == (1.2, 1, 3)
    assert [seq for _, seq, _ in sent[::4]] == [0, 1, 2, 3] and len(sent) == 16
    assert sim.events_dropped == 4


def test_sim_display_commands() -> None:
    import zlib

    sim = UnitSim(load_profile("good", {"display": {"width": 10, "height": 2}}), now=0.0)
    out = _frames(sim.feed(encode_frame(1, 0x24), now=0.0))
    assert out[0].payload == bytes.fromhex("000A 0002 01 08 15 03")
    sim.feed(encode_frame(2, 0x21, b"\x01"), now=0.0)
    out = _frames(sim.feed(encode_frame(3, 0x22), now=0.0))
    assert out[0].payload == zlib.crc32(bytes.fromhex("FFC0 FFC0")).to_bytes(4, "big") + bytes.fromhex("000A 0002")
    out = _frames(sim.feed(encode_frame(4, 0x21, b"\x04"), now=0.0))
    assert out[0].type == T_ERROR and out[0].payload[:2] == b"\x21\x01"  # colour bars on a mono display
    sim.feed(encode_frame(5, 0x20, bytes.fromhex("01 02 02 4F4B")), now=0.0)
    assert sim.operator_action("state", {})["text"][1] == "  OK"
    out = _frames(sim.feed(encode_frame(6, 0x23, b"\x32"), now=0.0))
    assert out[0].payload == (204).to_bytes(2, "big")  # 40 mA * 50 % + 0.4 mA = 20.4 mA


def test_sim_swipe_tracks_carry_their_lrc() -> None:
    from drivers.codecs.msr import check_track

    sim = UnitSim(load_profile("good"), now=0.0)
    sim.feed(encode_frame(1, 0x38, b"\x01"), now=0.0)
    sim.operator_action("swipe_card", {"card": "msr-test"}, now=0.0)
    (_, payload), = _events(sim, 1.0)
    assert payload[:2] == b"\x04\x00"
    t1_len = payload[2]
    t1 = payload[3 : 3 + t1_len].decode()
    t2 = payload[4 + t1_len : 4 + t1_len + payload[3 + t1_len]].decode()
    assert check_track(1, t1)[0].lrc_ok and check_track(2, t2)[0].lrc_ok
    with pytest.raises(ValueError, match="unknown magstripe card"):
        sim.operator_action("swipe_card", {"card": "nope"}, now=1.0)


def test_sim_dirty_head_fails_k_of_n_seeded() -> None:
    def pattern(seed: int) -> list[bool]:
        sim = UnitSim(load_profile("good", {"faults": {"msr_misreads": {"fail": 3, "of": 5}, "seed": seed}}), now=0.0)
        sim.feed(encode_frame(1, 0x38, b"\x01"), now=0.0)
        reads = []
        for i in range(10):
            sim.operator_action("swipe_card", {}, now=float(i))
            (_, payload), = _events_from(sim, float(i), float(i) + 0.9)
            reads.append(payload[1] == 0)
        return reads

    first = pattern(7)
    assert first == pattern(7) and sum(first[:5]) == 2 and sum(first[5:]) == 2


def _events_from(sim: UnitSim, start: float, until: float) -> list[tuple[float, bytes]]:
    out = []
    t = start
    while t <= until:
        for frame in _frames(sim.poll(now=t)):
            if frame.type == T_EVENT:
                out.append((t, frame.payload))
                sim.feed(encode_frame(frame.seq, T_ACK), now=t)
        t += 0.01
    return out


@pytest.mark.slow
def test_process_control_socket(spawn: Spawn, tmp_path: Path) -> None:
    from drivers.errors import EquipmentError
    from drivers.sim.unit import SimUnitControl

    control = Path("/tmp") / f"ctl-{os.getpid()}-{time.monotonic_ns()}.sock"  # short: AF_UNIX path limit
    _, link = spawn("good", None, "--control", str(control))
    ctl = SimUnitControl(control)
    with open_unit(link) as unit:
        unit.keypad_enable(True)
        assert ctl.send("press_keys", keys=["ENTER"])["done_in_s"] == pytest.approx(0.35)
        down = unit.next_event(2.0)
        up = unit.next_event(2.0)
        assert down is not None and up is not None
        assert (down.kind, down.data["key"], up.kind) == ("key_down", "ENTER", "key_up")
        assert isinstance(up.data["t_ms"], int) and isinstance(down.data["t_ms"], int)
        assert up.data["t_ms"] - down.data["t_ms"] == 80
        unit.display_pattern("checkerboard")
        assert ctl.send("state")["pattern"] == "checkerboard"
        with pytest.raises(EquipmentError, match="unknown operator action"):
            ctl.send("juggle")
    assert control.is_socket()
