"""The simulated serial line: strict 8N1 pacing both ways, no banked idle time (accounting, no clock)."""

from __future__ import annotations

import pytest

from drivers.codecs.linkframe import FrameDecoder, encode_frame
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim
from drivers.sim.wire import PacedUnit, Wire

BAUD = 115200
BT = 10 / BAUD  # one byte, 8N1


def test_a_burst_after_a_long_idle_still_takes_its_bytes_times() -> None:
    """A banking pacer (a token bucket filled while idle) would let the start of this burst through at once."""
    wire = Wire(BAUD)
    wire.send(b"x" * 10, now=0.0)
    assert wire.arrived(1.0) == b"x" * 10
    end = wire.send(b"y" * 1000, now=100.0)  # the line was idle for 100 s
    assert end == pytest.approx(100.0 + 1000 * BT)
    assert wire.arrived(100.0) == b""
    assert len(wire.arrived(100.0 + 0.5 * BT)) == 0  # half a byte is not a byte
    assert len(wire.arrived(100.0 + 500 * BT)) == 500
    assert len(wire.arrived(end - BT / 2)) == 499
    assert len(wire.arrived(end)) == 1
    assert wire.bytes_sent == 1010 and wire.busy_s == pytest.approx(1010 * BT)


def test_a_busy_wire_carries_one_byte_at_a_time() -> None:
    wire = Wire(BAUD)
    first = wire.send(b"a" * 100, now=0.0)
    second = wire.send(b"b" * 100, now=10 * BT)  # written while the first is still going out
    assert first == pytest.approx(100 * BT) and second == pytest.approx(200 * BT)
    assert wire.arrived(150 * BT) == b"a" * 100 + b"b" * 50


def test_writes_are_handed_over_whole_and_batches_never_delay_a_writes_end() -> None:
    wire = Wire(BAUD)
    wire.send(b"a" * 30, now=0.0)
    wire.send(b"b" * 5, now=0.0)
    assert wire.next_arrival(batch_s=100 * BT) == pytest.approx(30 * BT)  # the write's end, not 100 bytes
    assert wire.next_arrival(batch_s=10 * BT) == pytest.approx(10 * BT)
    assert wire.next_arrival() == pytest.approx(30 * BT)
    assert wire.arrived_writes(29 * BT) == []
    assert wire.arrived_writes(35 * BT) == [b"a" * 30, b"b" * 5]
    assert wire.next_arrival() is None and wire.pending == 0


def test_without_a_baud_rate_bytes_arrive_at_once() -> None:
    wire = Wire(None)
    wire.send(b"abc", now=5.0)
    assert wire.arrived(5.0) == b"abc" and wire.busy_s == 0


def test_the_unit_hears_a_request_only_once_it_crossed_the_line_and_answers_at_line_rate() -> None:
    sim = UnitSim(load_profile("good"), now=0.0)
    line = PacedUnit(sim, BAUD)
    assert line.step(50.0) == b""  # 50 s of idle line: nothing may be banked
    request = encode_frame(1, 0x02, bytes(100))  # PING, 107 bytes each way
    line.from_host(request, now=50.0)
    heard = 50.0 + len(request) * BT
    assert line.next_wake() == pytest.approx(heard)
    assert line.step(heard - BT / 2) == b"" and sim.commands == 0  # the request's last byte is not across
    got = line.step(heard)
    assert sim.commands == 1 and got == b""  # the answer starts now; its first byte needs a byte time
    answered = heard + len(request) * BT
    for k in range(1, 107):
        got += line.step(heard + k * BT - BT / 2)  # never a byte before its time
        assert len(got) == k - 1
    got += line.step(answered)
    assert FrameDecoder().feed(got)[0].payload == bytes(100)
    assert line.to_unit.busy_s == pytest.approx(107 * BT) and line.to_host.busy_s == pytest.approx(107 * BT)
