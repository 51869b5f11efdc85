"""Tests of UnitClient against the simulated unit served in-process on a real pty."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drivers.codecs.linkframe import Frame
from drivers.errors import DeviceError, LinkTimeout
from drivers.interfaces import MsrSwipe
from drivers.link import ReceivedEvent
from drivers.sim import unitcommands
from drivers.sim.unitcommands import encode_event
from drivers.sim.unitpanel import track_lrc
from drivers.unit import UnitClient, parse_event
from tests.drivers.conftest import ServeUnit

Start = Callable[..., UnitClient]


@pytest.fixture
def start_unit(serve_unit: ServeUnit) -> Start:
    def start(profile: str = "good", overrides: dict[str, Any] | None = None, **options: Any) -> UnitClient:
        return serve_unit(profile, overrides, **options)[0]

    return start


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


def test_both_ends_use_the_largest_payload_both_announce(start_unit: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    # The log's times are relative to the unit's start: both units start at one instant, so their logs match.
    now = datetime.now(UTC)
    monkeypatch.setattr(unitcommands, "build_log_image", functools.partial(unitcommands.build_log_image, now=now))
    big = start_unit(overrides={"event_log_fill": 1800, "max_payload": 1024})
    assert big.link.max_payload == 1024
    raw = big.event_log_bytes()
    assert big.stats.requests == 1 + -(-len(raw) // (1024 - 12))  # HELLO + full-size LOG_READ chunks

    small_host = start_unit(overrides={"event_log_fill": 1800, "max_payload": 1024}, max_payload=300)
    assert small_host.identity is not None and small_host.identity.max_payload == 1024
    assert small_host.link.max_payload == 300  # the unit announced more; we take 300
    assert small_host.event_log_bytes() == raw
    assert small_host.stats.requests == 1 + -(-len(raw) // (300 - 12))

    small_unit = start_unit(overrides={"max_payload": 64})
    assert small_unit.link.max_payload == 64


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


def test_reboot_answered_by_hello_leaves_no_stale_boot_event(start_unit: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under load the wait for BOOT can time out while the event is on its way; the HELLO that
    # follows finds the unit back. The BOOT event read along with the answer is the same restart.
    unit = start_unit()
    real = unit.link.next_event

    def slow_boot_wait(timeout: float, match: Any = None) -> ReceivedEvent | None:
        if match is not None and timeout > 0:
            time.sleep(min(timeout, 0.05))
            return None
        return real(timeout, match)

    monkeypatch.setattr(unit.link, "next_event", slow_boot_wait)
    assert unit.reboot(wait=3).serial == "PT3-000123"
    assert unit.next_event(0.3) is None
    assert unit.battery().charge_percent == 87


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
    track2 = ";4761739001010010=30122010000000?"
    swipe = encode_event("card_swipe", {"ok": True, "track1": "", "track2": track2 + track_lrc(2, track2)})
    event = parse_event(ReceivedEvent(0, swipe, 1.5, 1))
    assert event.kind == "card_swipe" and event.data["ok"] is True
    assert set(event.data) == {"ok", "swipe"}  # the raw tracks are not handed on
    summary = event.data["swipe"]
    assert isinstance(summary, MsrSwipe) and summary.masked_pan == "476173******0010"
    t2 = summary.track(2)
    assert t2 is not None and t2.format_ok and t2.lrc_ok
    assert "4761739001010010" not in repr(event)
    assert event.received_at == 1.5
    key = parse_event(ReceivedEvent(0, bytes.fromhex("0201350000ea60"), 0, 1))
    assert key.kind == "key_down" and key.data == {"key": "5", "t_ms": 60000}
    boot = parse_event(ReceivedEvent(0, encode_event("boot", {"reason": "watchdog", "boot_count": 7}), 0, 1))
    assert boot.data["reason"] == "watchdog" and boot.data["boot_count"] == 7
    assert parse_event(ReceivedEvent(0, b"\x77\x01", 0, 1)).kind == "unknown"


# --------------------------------------------------------------------------- keypad, display, magstripe


def test_keypad_layout_and_enable(start_unit: Start) -> None:
    unit = start_unit(overrides={"keys": ["1", "2", "ENTER"]})
    assert unit.keypad_enable(True) == ("1", "2", "ENTER")
    assert unit.keypad_enable(False) == ("1", "2", "ENTER")


def test_display_commands(start_unit: Start) -> None:
    from bench.checks.display import expected_crc

    unit = start_unit()
    info = unit.display_info()
    assert (info.width, info.height, info.bits_per_pixel, info.colour) == (128, 64, 1, False)
    assert info.checksum and info.backlight_sense and (info.text_rows, info.text_columns) == (8, 21)
    for pattern in ("off", "on", "checkerboard", "stripes"):
        unit.display_pattern(pattern)
        got = unit.display_checksum()
        assert (got.crc32, got.width, got.height) == (expected_crc(pattern, 128, 64, 1), 128, 64)
    with pytest.raises(DeviceError) as err:
        unit.display_pattern("colour_bars")
    assert err.value.fault_code == "LINK-UNSUPPORTED"
    unit.display_write(1, 2, "HELLO")
    assert unit.display_backlight(100) == pytest.approx(40.4)
    assert unit.display_backlight(0) == 0.0
    with pytest.raises(ValueError):
        unit.display_backlight(101)


def test_colour_display_and_dead_pixels(start_unit: Start) -> None:
    from bench.checks.display import expected_crc

    display = {"width": 40, "height": 30, "bits_per_pixel": 16}
    unit = start_unit(overrides={"display": display, "faults": {"dead_pixels": [[39, 4]]}})
    unit.display_pattern("colour_bars")
    assert unit.display_checksum().crc32 == expected_crc("colour_bars", 40, 30, 16)  # x=39 is in the black bar
    unit.display_pattern("off")
    assert unit.display_checksum().crc32 == expected_crc("off", 40, 30, 16)  # a dead pixel is dark anyway
    unit.display_pattern("on")
    assert unit.display_checksum().crc32 != expected_crc("on", 40, 30, 16)


def test_msr_tracks_and_swipe_event_without_track_data(start_unit: Start, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from drivers.sim.unitpanel import MSR_CARDS

    caplog.set_level(logging.DEBUG)
    unit = start_unit()
    assert unit.msr_enable(True) == (1, 2)
    card = MSR_CARDS["msr-test"]
    track2 = f";{card['pan']}={card['expiry']}{card['service']}{card['track2_dd']}?"
    payload = encode_event("card_swipe", {"ok": True, "track1": "", "track2": track2 + track_lrc(2, track2)})
    unit.link._accept_event(Frame(9, 0xE0, payload))  # as if it had come over the line
    event = unit.next_event(1.0)
    assert event is not None and event.kind == "card_swipe"
    swipe = event.data["swipe"]
    assert isinstance(swipe, MsrSwipe) and swipe.masked_pan == "476173******0010"
    text = caplog.text
    assert "kind=04" in text  # the swipe event was logged: its kind and length, not its bytes
    assert card["pan"] not in text and payload.hex() not in text and payload[1:].hex()[:20] not in text
