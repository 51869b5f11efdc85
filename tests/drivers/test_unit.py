"""Tests of UnitClient against the simulated unit served in-process on a real pty."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.errors import DeviceError, LinkTimeout
from drivers.link import ReceivedEvent
from drivers.sim.unit import PtyServer
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim, encode_event
from drivers.unit import UnitClient, open_unit, parse_event

Start = Callable[..., UnitClient]


@pytest.fixture
def start_unit(tmp_path: Path) -> Iterator[Start]:
    servers: list[tuple[PtyServer, threading.Thread]] = []
    clients: list[UnitClient] = []

    def start(profile: str = "good", overrides: dict[str, Any] | None = None, **options: Any) -> UnitClient:
        merged = {"boot_time": 0.2, **(overrides or {})}
        server = PtyServer(UnitSim(load_profile(profile, merged)), tmp_path / f"unit{len(servers)}")
        server.open()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        servers.append((server, thread))
        client = open_unit(str(server.link), **options)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for server, thread in servers:
        server.stop()
        thread.join(2)
        server.close()


def test_identity_from_handshake(start_unit: Start) -> None:
    unit = start_unit()
    ident = unit.identify()
    assert (ident.model, ident.serial) == ("PT-300", "PT3-000123")
    assert (ident.firmware, ident.hw_revision) == ("2.4.1", "C")
    assert ident.protocol_version == 1 and ident.max_payload == 512
    assert {"selftest", "battery", "eventlog", "reboot"} <= ident.capabilities


def test_every_command_on_good_unit(start_unit: Start) -> None:
    unit = start_unit()
    tests = unit.self_test()
    assert {t.subsystem for t in tests} >= {"ram", "flash", "rtc", "secure_element"}
    assert all(t.passed and t.code == 0 for t in tests)
    batt = unit.battery()
    assert batt.voltage == pytest.approx(7.6) and batt.charge_percent == 87 and batt.adapter_present
    tamper = unit.tamper()
    assert not tamper.tampered and tamper.keys_present and tamper.flags == ()
    comms = {c.interface: c for c in unit.comms_test()}
    assert comms["ethernet"].signal_dbm is None and comms["ethernet"].rtt_ms == pytest.approx(3.1)
    assert comms["wifi"].signal_dbm == -58
    log = unit.event_log()
    assert [e.text for e in log][-1] == "power on" and log[-1].timestamp.tzinfo is UTC
    now = datetime.now(UTC)
    assert now - timedelta(hours=2, minutes=1) < log[-1].timestamp < now - timedelta(hours=1, minutes=59)
    assert log == sorted(log, key=lambda e: e.timestamp)
    assert unit.ping(b"abc") == b"abc"


def test_tampered_profile(start_unit: Start) -> None:
    unit = start_unit("tampered")
    tamper = unit.tamper()
    assert tamper.tampered and not tamper.keys_present and tamper.flags == ("mesh_open", "case_switch")
    se = {t.subsystem: t for t in unit.self_test()}["secure_element"]
    assert not se.passed and se.code == 0x0902 and se.detail == "locked after tamper"


def test_large_log_is_downloaded_in_chunks(start_unit: Start) -> None:
    unit = start_unit(overrides={"event_log_fill": 1800, "max_payload": 256})
    raw = unit.event_log_bytes()
    assert len(raw) >= 64 * 1024
    log = unit.event_log()
    assert len(log) == 1800 + 5
    texts = [e.text for e in log if e.text.startswith("fill entry")]
    assert texts == [f"fill entry {i:05d}: periodic status report ok" for i in range(1800)]
    assert unit.stats.requests > len(raw) // 256


def test_unsupported_capability_is_link_unsupported(start_unit: Start) -> None:
    unit = start_unit(overrides={"capabilities": ["selftest"]})
    with pytest.raises(DeviceError) as info:
        unit.battery()
    assert info.value.fault_code == "LINK-UNSUPPORTED"


def test_reboot_returns_identity(start_unit: Start) -> None:
    unit = start_unit()
    started = time.monotonic()
    ident = unit.reboot(wait=3)
    assert ident.serial == "PT3-000123"
    assert 0.2 <= time.monotonic() - started < 2.0
    assert unit.battery().charge_percent == 87  # no LINK-REBOOT: that reboot was expected


def test_reboot_timeout_when_unit_never_comes_back(start_unit: Start) -> None:
    unit = start_unit(overrides={"boot_time": 30})
    started = time.monotonic()
    with pytest.raises(LinkTimeout):
        unit.reboot(wait=1.0)
    assert time.monotonic() - started < 2.0


def test_spontaneous_reboot_is_link_reboot(start_unit: Start) -> None:
    unit = start_unit(overrides={"faults": {"reboot_after": 2}}, timeout=0.2, retries=4)
    unit.battery()  # command 2: the unit resets after answering
    with pytest.raises(DeviceError) as info:
        unit.battery()
    assert info.value.fault_code == "LINK-REBOOT"
    assert "watchdog" in str(info.value)
    assert unit.battery().charge_percent == 87


def test_noise_passes_with_retransmissions(start_unit: Start) -> None:
    unit = start_unit(overrides={"faults": {"noise": 3}}, timeout=0.3)
    for _ in range(5):
        assert unit.battery().charge_percent == 87
    assert len(unit.event_log()) == 5
    stats = unit.stats
    assert stats.crc_errors + stats.resyncs > 0
    assert stats.naks_sent + stats.retransmissions > 0


def test_silent_unit_times_out(start_unit: Start) -> None:
    unit = start_unit(overrides={"faults": {"silent_after": 1}}, timeout=0.1, retries=2)
    with pytest.raises(LinkTimeout):
        unit.battery()


def test_scripted_key_event(start_unit: Start) -> None:
    unit = start_unit(overrides={"script": [{"at": 0.3, "event": "key_down", "key": "5"}]})
    event = unit.next_event(2.0)
    assert event is not None and event.kind == "key_down" and event.data == {"key": "5"}
    assert unit.next_event(0.4) is None


def test_parse_events() -> None:
    swipe = encode_event("card_swipe", {"ok": True, "track1": "%B4111^X^25", "track2": ";4111=25?"})
    event = parse_event(ReceivedEvent(0, swipe, 1.5, 1))
    assert event.kind == "card_swipe" and event.data["ok"] is True and event.data["track2"] == ";4111=25?"
    assert event.received_at == 1.5
    boot = parse_event(ReceivedEvent(0, encode_event("boot", {"reason": "watchdog", "boot_count": 7}), 0, 1))
    assert boot.data["reason"] == "watchdog" and boot.data["boot_count"] == 7
    assert parse_event(ReceivedEvent(0, b"\x77\x01", 0, 1)).kind == "unknown"
