"""Tests of the host's link session: Link over loop:// and over a real pty served by the simulated unit."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.codecs.linkframe import (
    SOF,
    T_ACK,
    T_EVENT,
    T_NAK,
    Frame,
    encode_frame,
)
from drivers.errors import DeviceError, EquipmentError, LinkTimeout, ProtocolError
from drivers.link import Link
from drivers.sim.unit import PtyServer
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim

# ---------------------------------------------------------------------------- Link over loop://


def test_loop_timeout_is_bounded() -> None:
    link = Link("loop://", timeout=0.1, retries=2).open()
    try:
        started = time.monotonic()
        with pytest.raises(LinkTimeout) as info:
            link.request(0x11, name="BATTERY")
        elapsed = time.monotonic() - started
        assert 0.3 <= elapsed < 0.8
        assert info.value.fault_code == "LINK-NO-RESPONSE"
        assert link.stats.retransmissions == 2
        assert link.stats.timeouts == 3
    finally:
        link.close()


def test_loop_event_is_queued_acked_and_deduplicated() -> None:
    with Link("loop://").open() as link:
        assert link._serial is not None
        event = encode_frame(5, T_EVENT, b"\x02\x015")
        link._serial.write(event + event)  # a retransmitted duplicate
        got = link.next_event(0.5)
        assert got is not None and got.payload == b"\x02\x015" and got.seq == 5
        assert link.next_event(0.1) is None
        assert link.stats.events == 1


def test_loop_nak_after_an_event_ack_resends_the_ack() -> None:
    """The unit NAKs a damaged ACK: the host writes the ACK again (the unit's events wait on it)."""
    with Link("loop://").open() as link:
        assert link._serial is not None
        link._serial.write(encode_frame(7, T_EVENT, b"\x02\x015"))
        assert link.next_event(0.5) is not None
        assert link.stats.frames_sent == 1  # the ACK
        link._serial.write(encode_frame(0, T_NAK))
        link.poll()
        stats = link.stats
        assert stats.naks_received == 1 and stats.frames_sent == 2
        assert link._serial.read(100) == encode_frame(7, T_ACK)  # loop:// hands our writes back


def test_loop_gaps_in_event_seq_are_counted_as_missed() -> None:
    with Link("loop://").open() as link:
        assert link._serial is not None
        for seq in (3, 4, 7, 0, 1):  # 5 and 6 never came; 0 is a new boot, not a gap
            link._serial.write(encode_frame(seq, T_EVENT, bytes((2, 1, 0x30 + seq))))
        assert len([link.next_event(0.5) for _ in range(5)]) == 5
        assert link.stats.events == 5 and link.stats.events_missed == 2


def test_close_from_another_thread_unblocks_a_call() -> None:
    link = Link("loop://", timeout=5.0, retries=3).open()
    threading.Timer(0.2, link.close).start()
    started = time.monotonic()
    with pytest.raises(LinkTimeout, match="closed"):
        link.request(0x10)
    assert time.monotonic() - started < 1.0
    with pytest.raises(EquipmentError):
        link.request(0x10)


def test_missing_port_is_equipment_error_with_one_line() -> None:
    with pytest.raises(EquipmentError) as info:
        Link("/dev/does-not-exist-bench").open()
    assert info.value.fault_code == "BENCH-PORT"
    assert "/dev/does-not-exist-bench" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_url_is_equipment_error() -> None:
    with pytest.raises(EquipmentError, match="nosuch://x"):
        Link("nosuch://x").open()


# ---------------------------------------------------------------------------- Link over a real pty


class ScriptedSim(UnitSim):
    """A UnitSim whose input or output can be tampered with by a test."""

    corrupt_requests = 0
    nak_everything = False
    lose_answers = 0  # the next N answers vanish on the line
    damage_answers = 0  # the next N answers arrive with a flipped byte

    def feed(self, data: bytes, now: float | None = None) -> bytes:
        if self.nak_everything:
            return encode_frame(0, T_NAK)
        if self.corrupt_requests and SOF in data:
            self.corrupt_requests -= 1
            wire = bytearray(data)
            wire[-1] ^= 0xFF
            data = bytes(wire)
        out = super().feed(data, now)
        if out and self.lose_answers:
            self.lose_answers -= 1
            return b""
        if out and self.damage_answers:
            self.damage_answers -= 1
            return out[:-1] + bytes((out[-1] ^ 0x55,))
        return out


@contextlib.contextmanager
def _serving(sim: UnitSim, link: Path, baud: int | None = None) -> Iterator[str]:
    server = PtyServer(sim, link, baud)
    server.open()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield str(link)
    finally:
        server.stop()
        thread.join(2)
        server.close()


@pytest.fixture
def pty_unit(tmp_path: Path) -> Iterator[tuple[ScriptedSim, str]]:
    sim = ScriptedSim(load_profile("good", {"boot_time": 0.2}))
    server = PtyServer(sim, tmp_path / "unit")
    server.open()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield sim, str(tmp_path / "unit")
    server.stop()
    thread.join(2)
    server.close()


def test_pty_request_response(pty_unit: tuple[ScriptedSim, str]) -> None:
    _, path = pty_unit
    with Link(path).open() as link:
        answer = link.request(0x02, b"ping")
        assert answer == Frame(1, 0x82, b"ping")
        assert link.stats.retransmissions == 0


def test_pty_the_response_stands_for_the_ack(pty_unit: tuple[ScriptedSim, str]) -> None:
    _, path = pty_unit
    with Link(path).open() as link:
        assert link.request(0x11, name="BATTERY").type == 0x91
        stats = link.stats
        assert (stats.frames_sent, stats.frames_received, stats.retransmissions) == (1, 1, 0)


def test_pty_a_lost_response_is_recovered_by_retransmission_not_run_twice(pty_unit: tuple[ScriptedSim, str]) -> None:
    sim, path = pty_unit
    sim.lose_answers = 1
    with Link(path, timeout=0.2).open() as link:
        assert link.request(0x02, b"again").payload == b"again"
        stats = link.stats
        assert (stats.timeouts, stats.retransmissions) == (1, 1)
    assert sim.commands == 1  # the unit answered the retransmission from its cache


def test_pty_a_damaged_response_is_resent_after_the_hosts_nak(pty_unit: tuple[ScriptedSim, str]) -> None:
    sim, path = pty_unit
    sim.damage_answers = 1
    with Link(path, timeout=0.3).open() as link:
        assert link.request(0x02, b"crc").payload == b"crc"
        stats = link.stats
        assert stats.naks_sent == 1 and stats.crc_errors == 1 and stats.retransmissions == 0
    assert sim.commands == 1


def test_pty_a_unit_that_acks_first_is_waited_for_past_the_first_answer_timeout(tmp_path: Path) -> None:
    sim = UnitSim(load_profile("good", {"faults": {"slow_ms": 400}}))
    with _serving(sim, tmp_path / "unit") as path, Link(path, timeout=0.1).open() as link:
        assert link.request(0x11, name="BATTERY").type == 0x91
        stats = link.stats
        assert stats.frames_received == 2 and stats.retransmissions == 0 and stats.timeouts == 0


@pytest.mark.slow
def test_pty_at_a_low_baud_rate_long_frames_outlast_the_timeout_without_retransmission(tmp_path: Path) -> None:
    """At 9600 baud a 607-byte request and its answer take 0.63 s each way, more than the 0.3 s timeout."""
    sim = UnitSim(load_profile("good"))
    with _serving(sim, tmp_path / "unit", baud=9600) as path, Link(path, baudrate=9600, timeout=0.3).open() as link:
        assert link.request(0x02, bytes(600)).payload == bytes(600)
        assert link.stats.retransmissions == 0 and link.stats.timeouts == 0


def test_pty_retransmits_after_unit_naks_a_corrupted_request(pty_unit: tuple[ScriptedSim, str]) -> None:
    sim, path = pty_unit
    sim.corrupt_requests = 1
    with Link(path, timeout=0.3).open() as link:
        assert link.request(0x02, b"x").payload == b"x"
        stats = link.stats
        assert stats.naks_received == 1
        assert stats.retransmissions == 1


def test_pty_nak_storm(pty_unit: tuple[ScriptedSim, str]) -> None:
    sim, path = pty_unit
    sim.nak_everything = True
    with Link(path, timeout=0.2, retries=3).open() as link, pytest.raises(DeviceError) as info:
        link.request(0x02)
    assert info.value.fault_code == "LINK-NAK-STORM"


def test_pty_unknown_command_is_explicitly_unsupported(pty_unit: tuple[ScriptedSim, str]) -> None:
    _, path = pty_unit
    with Link(path).open() as link, pytest.raises(DeviceError) as info:
        link.request(0x5E, name="NOPE")
    assert info.value.fault_code == "LINK-UNSUPPORTED"


def test_pty_busy_port_is_equipment_error(pty_unit: tuple[ScriptedSim, str]) -> None:
    _, path = pty_unit
    with Link(path).open(), pytest.raises(EquipmentError) as info:
        Link(path).open()
    assert info.value.fault_code == "BENCH-PORT"
    assert "\n" not in str(info.value)


def test_pty_garbage_only_is_protocol_error(tmp_path: Path) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def babble() -> None:
        while not stop.is_set():
            os.write(master, bytes(range(0, 0xA0)))
            time.sleep(0.02)

    thread = threading.Thread(target=babble, daemon=True)
    thread.start()
    try:
        with Link(os.ttyname(slave), timeout=0.1, retries=1).open() as link, pytest.raises(ProtocolError):
            link.request(0x02)
    finally:
        stop.set()
        thread.join(1)
        os.close(master)
        os.close(slave)


def test_pty_vanishing_unit_is_link_timeout() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    link = Link(path, timeout=0.2, retries=1).open()
    os.close(slave)
    os.close(master)
    started = time.monotonic()
    try:
        with pytest.raises(LinkTimeout):
            link.request(0x02)
        assert time.monotonic() - started < 1.0
    finally:
        link.close()


def test_no_answer_says_what_it_means_and_keeps_the_wire_facts_as_detail() -> None:
    link = Link("loop://", timeout=0.05, retries=1).open()
    try:
        with pytest.raises(LinkTimeout) as info:
            link.request(0x11, name="BATTERY")
    finally:
        link.close()
    assert str(info.value) == "the unit stopped answering on its diagnostic port"
    assert info.value.detail == "BATTERY: no answer from unit on loop:// after 2 tries of 0.05 s"
