"""The simulated unit as a transport-free state machine: bytes in, bytes out, time explicit.

:class:`UnitSim` speaks the unit side of docs/protocol.md from a validated profile
(:mod:`drivers.sim.unitprofile`). ``feed(data, now)`` takes bytes from the host and
returns bytes to send; ``poll(now)`` returns bytes that became due with time (a BOOT
event after a reboot, event retransmissions, delayed answers, scripted events);
``next_deadline()`` says when to poll next. The pty process in :mod:`drivers.sim.unit`
and the tests drive it the same way; how long those bytes take on a serial line is
:mod:`drivers.sim.wire`'s business, not this module's.

This module is the link session of the unit: frames, ACK/NAK, duplicate requests, the
queue of events in flight, reboots and the link faults. What each command answers is
:mod:`drivers.sim.unitcommands`'; the display, keypad and magstripe head, and what a
person does to them (:meth:`UnitSim.operator_action`, served by the pty process on a
separate control socket, never over the link) are :mod:`drivers.sim.unitpanel`'s.

A command the unit answers at once gets its response alone: the response stands for the
ACK. With the ``slow_ms`` fault the unit ACKs at once and answers ``slow_ms`` later.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from drivers import unitproto as up
from drivers.codecs.linkframe import (
    MAX_PAYLOAD,
    RESPONSE_BIT,
    T_ACK,
    T_ERROR,
    T_EVENT,
    T_NAK,
    Frame,
    FrameDecoder,
    encode_frame,
)
from drivers.sim.unitcommands import UnitCommands, encode_event
from drivers.sim.unitpanel import Panel
from drivers.sim.unitpower import ACTIONS as POWER_ACTIONS
from drivers.sim.unitpower import UnitPower

EVENT_RETRY_S = 0.25
EVENT_RETRIES = 3
UNPOWERED_S = 3600.0  # how long an unpowered unit stays silent unless the supply comes back
EVENT_QUEUE = 64  # events waiting behind the one in flight; a full queue drops the oldest


class UnitSim:
    """A simulated POS unit over bytes, configured by a validated profile dict."""

    def __init__(self, profile: Mapping[str, Any], *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.profile = profile
        self.faults: Mapping[str, Any] = profile["faults"]
        self._rng = random.Random(self.faults["seed"])
        self._decoder = FrameDecoder(MAX_PAYLOAD)
        self._outbox: list[tuple[float, bytes]] = []
        self._frames_sent = 0
        self._chunks_read = 0
        self.commands = 0
        self._since_boot = 0
        self.boot_count = 1
        self._booting_until: float | None = None
        self._boot_reason = "power_on"
        self._silent = False
        self._power_off = False
        # The last request, its answer and when that answer goes out (for retransmissions).
        self._cache: tuple[tuple[int, int, bytes], bytes, float] | None = None
        self._last_data: bytes | None = None
        self._event_seq = 0
        self._events: deque[tuple[int, bytes]] = deque()  # (seq, frame): the head is in flight
        self._event_retry_at = 0.0
        self._event_retries = 0
        self.events_dropped = 0
        self._script = sorted(
            ((now + float(item["at"]), dict(item)) for item in profile["script"]), key=lambda x: x[0]
        )
        self.panel = Panel(profile, now)
        self.device = UnitCommands(profile, self.panel)
        self.power = UnitPower(profile)

    # ------------------------------------------------------------------ public

    @property
    def booting(self) -> bool:
        """True while the unit reboots (input is dropped)."""
        return self._booting_until is not None

    @property
    def powered_off(self) -> bool:
        """True once the unit lost power and everything due before was sent."""
        return self._power_off and not self._outbox

    def feed(self, data: bytes, now: float | None = None) -> bytes:
        """Take bytes from the host; return the bytes the unit sends now."""
        now = time.monotonic() if now is None else now
        if self._power_off or self._booting_until is not None:
            return self.poll(now)
        rx_noise = self.faults["rx_noise"]
        if rx_noise and data:
            self._chunks_read += 1
            if self._chunks_read % rx_noise == 0:
                # The receive line flips a bit of the chunk's last byte (a frame's CRC, as the host
                # writes a frame at a time): the frame fails its CRC and the unit NAKs it.
                data = data[:-1] + bytes((data[-1] ^ (1 << self._rng.randrange(8)),))
        crc_before = self._decoder.crc_errors
        frames = self._decoder.feed(data)
        if self._decoder.crc_errors > crc_before:
            self._send(encode_frame(0, T_NAK), now, data=False)
        for frame in frames:
            if self._booting_until is not None or self._power_off:
                break  # the rest of the input is lost with the reboot
            self._handle(frame, now)
        return self.poll(now)

    def poll(self, now: float | None = None) -> bytes:
        """Return bytes that became due by ``now`` (boot event, retransmissions, slow answers)."""
        now = time.monotonic() if now is None else now
        if self._booting_until is not None and now >= self._booting_until:
            self._finish_boot(now)
        if not self._power_off and self._booting_until is None:
            while self._script and self._script[0][0] <= now:
                _, item = self._script.pop(0)
                self.emit_event(str(item.pop("event")), {k: v for k, v in item.items() if k != "at"}, now)
            for kind, data in self.panel.due_events(now):
                self.emit_event(kind, data, now)
            for kind, data in self.device.txn.due_events():
                self.emit_event(kind, {**data, "max_payload": self.device.max_payload}, now)
            if self._events and now >= self._event_retry_at:
                if self._event_retries > 0:
                    self._event_retries -= 1
                    self._event_retry_at = now + EVENT_RETRY_S
                    self._send(self._events[0][1], now)
                else:  # the host never ACKed it: give up on this one, go on with the next
                    self.events_dropped += 1
                    self._next_event_out(now)
        out = [frame for due, frame in self._outbox if due <= now]
        self._outbox = [(due, frame) for due, frame in self._outbox if due > now]
        return b"".join(out)

    def next_deadline(self) -> float | None:
        """The monotonic time at which ``poll`` has something to do, or None."""
        times = [due for due, _ in self._outbox]
        if self._booting_until is not None:
            times.append(self._booting_until)
        if self._events:
            times.append(self._event_retry_at)
        if self._script:
            times.append(self._script[0][0])
        for when in (self.panel.next_time(), self.device.txn.next_time()):
            if when is not None:
                times.append(when)
        return min(times) if times else None

    def reboot(self, now: float, reason: str = "commanded") -> None:
        """Start a reboot: silent for the profile's boot_time, then a BOOT event."""
        self._booting_until = now + float(self.profile["boot_time"])
        self._boot_reason = reason
        self._events.clear()
        self.device.txn.reboot()

    def operator_action(self, action: str, details: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
        """Something a person does to the unit (see :meth:`drivers.sim.unitpanel.Panel.operator_action`),
        or the bench's supply and instruments (:mod:`drivers.sim.unitpower`)."""
        now = time.monotonic() if now is None else now
        if action in POWER_ACTIONS:
            return self.power.action(self, action, details, now)
        return self.panel.operator_action(action, details, now)

    def power_down(self, now: float) -> None:
        """The supply went away: silent (input dropped, nothing sent) until :meth:`power_up`."""
        self.reboot(now, "power_on")
        self._outbox.clear()
        self._booting_until = now + UNPOWERED_S

    def power_up(self, now: float) -> None:
        """The supply is back: boot (the profile's boot_time, then a BOOT event, reason power_on)."""
        self._booting_until = now + float(self.profile["boot_time"])

    def emit_event(self, kind: str, data: Mapping[str, Any], now: float) -> None:
        """Queue an unsolicited event; events go out in order, one at a time.

        The event in flight is resent every EVENT_RETRY_S until the host ACKs it (at most
        EVENT_RETRIES times); only then does the next one go out, so a lost frame or a lost
        ACK delays the events behind it but never loses one.
        """
        if kind == "boot":
            data = {**data, "boot_count": self.boot_count, "firmware": self.device.firmware.running}
        payload = encode_event(kind, data)
        seq = self._event_seq
        self._event_seq = (self._event_seq + 1) & 0xFF
        if len(self._events) > EVENT_QUEUE:  # the oldest waiting one goes; the one in flight stays
            del self._events[1]
            self.events_dropped += 1
        self._events.append((seq, encode_frame(seq, T_EVENT, payload)))
        if len(self._events) == 1:
            self._send_head(now)

    # ------------------------------------------------------------------ internals

    def _next_event_out(self, now: float) -> None:
        """The event in flight is done with (ACKed or given up on): send the next one, if any."""
        self._events.popleft()
        if self._events:
            self._send_head(now)

    def _send_head(self, now: float) -> None:
        self._event_retries = EVENT_RETRIES
        self._event_retry_at = now + EVENT_RETRY_S
        self._send(self._events[0][1], now)

    def _send(self, frame: bytes, due: float, *, data: bool = True) -> None:
        if data:
            self._last_data = frame
        self._frames_sent += 1
        noise = self.faults["noise"]
        if noise and self._frames_sent % noise == 0:
            corrupted = bytearray(frame)
            corrupted[self._rng.randrange(1, len(frame))] ^= self._rng.randrange(1, 256)
            frame = bytes(corrupted)
        self._outbox.append((due, frame))

    def _finish_boot(self, now: float) -> None:
        self._booting_until = None
        self._decoder.reset()
        self._cache = None
        self._last_data = None
        self._event_seq = 0
        self._since_boot = 0
        self.boot_count += 1
        self.emit_event("boot", {"reason": self.device.boot(self._boot_reason)}, now)

    def _handle(self, frame: Frame, now: float) -> None:
        if frame.type == T_NAK:
            if self._last_data is not None:
                self._send(self._last_data, now)
            answer = self._cache[1] if self._cache is not None and self._cache[2] <= now else None
            if answer is not None and answer != self._last_data:
                # Events went out after the answer, so the damaged frame may have been the answer:
                # send it too (a host that had it ignores a late duplicate; one that lost it needs it).
                self._send(answer, now)
            return
        if frame.type == T_ACK:
            if self._events and frame.seq == self._events[0][0]:
                self._next_event_out(now)
            return
        if frame.type == 0 or frame.type >= RESPONSE_BIT or self._silent:
            return
        key = (frame.seq, frame.type, frame.payload)
        if self._cache is not None and self._cache[0] == key and frame.type != up.CMD_HELLO:
            # A retransmission: answered already (or being answered), never executed twice.
            _, answer, due = self._cache
            if due > now:  # still working on it: ACK again, the answer goes out when it is ready
                self._send(encode_frame(frame.seq, T_ACK), now, data=False)
            else:
                self._send(answer, now)
            return
        if frame.type == up.CMD_FW_CHUNK and self.device.firmware.drop_chunk():
            return  # the fw_link_drop_every fault: this request is lost on the way
        self.commands += 1
        self._since_boot += 1
        if self.faults["garbage"]:
            self._outbox.append((now, self._rng.randbytes(self._rng.randrange(4, 48))))
        else:
            due = now + self.faults["slow_ms"] / 1000.0
            if due > now:  # cannot answer at once: ACK now, so the host waits for the answer
                self._send(encode_frame(frame.seq, T_ACK), now, data=False)
            answer = encode_frame(frame.seq, *self.device.execute(frame.type, frame.payload, now))
            if self.device.firmware.power_cut:
                # The fw_power_cut_at fault: the chunk is in flash, the power fails before the answer.
                self.device.firmware.power_cut = False
                self.reboot(now, "power_on")
                return
            self._cache = (key, answer, due)
            self._send(answer, due)
            if frame.type in (up.CMD_REBOOT, up.CMD_FW_COMMIT) and answer[4] != T_ERROR:
                self.reboot(due, "commanded" if frame.type == up.CMD_REBOOT else "update")
        faults = self.faults
        if faults["power_off_after"] is not None and self.commands >= faults["power_off_after"]:
            self._power_off = True
        elif faults["silent_after"] is not None and self.commands >= faults["silent_after"]:
            self._silent = True
        elif faults["reboot_after"] is not None and self._since_boot >= faults["reboot_after"]:
            self.reboot(now, "watchdog")
