"""A serial line in simulation: how long the bytes between host and unit take, both ways.

The pacing model (8N1: a start bit, 8 data bits and a stop bit, so 10 bits per byte):

* each direction is its own :class:`Wire` (a serial line is full duplex), carrying one byte
  at a time: a byte takes ``10 / baud`` seconds, and a byte written while the wire is busy
  waits for the bytes before it;
* a byte is delivered when its last bit is across, never earlier: bytes written onto an idle
  wire start then, not "in the past". Idle time is never banked (no token bucket that fills
  while the line waits and then lets a burst through at once);
* the host's bytes start on their wire when the simulator reads them off the pty (never
  earlier than the host wrote them); the unit acts on a write once its last byte has arrived
  (when the simulator's clock says so, never earlier), and its answer starts on the other
  wire then;
* the unit's bytes are handed to the pty in batches of about 2 ms of line time, each byte no
  earlier than its last bit would be across, and the last byte of a write exactly then.

:class:`PacedUnit` puts a :class:`~drivers.sim.unitsim.UnitSim` between two wires, with time
explicit, so the pacing is tested without a clock; :mod:`drivers.sim.unit` drives it from a pty.
Without a baud rate the wires deliver at once (the simulator's default for tests and ``--sim``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from drivers.sim.unitsim import UnitSim

BITS_PER_BYTE = 10
"""8N1: start bit, 8 data bits, stop bit."""
_EPS = 1e-9  # float slack when counting whole byte times


@dataclass
class _Burst:
    start: float
    data: bytes
    taken: int = 0


class Wire:
    """One direction of a serial line at ``baud`` (None: no pacing).

    ``send`` puts bytes on the wire; ``arrived`` and ``arrived_writes`` hand over those whose
    last bit is across. ``bytes_sent`` and ``busy_s`` account for everything ever sent.
    """

    def __init__(self, baud: int | None) -> None:
        self.byte_time = BITS_PER_BYTE / baud if baud else 0.0
        self.free_at = float("-inf")
        """When the last byte sent so far is across (the wire is idle from then on)."""
        self.bytes_sent = 0
        self.busy_s = 0.0
        self._queue: deque[_Burst] = deque()

    def send(self, data: bytes, now: float) -> float:
        """Put ``data`` on the wire at ``now``; return when its last byte is across."""
        if not data:
            return max(now, self.free_at)
        start = max(now, self.free_at)  # an idle wire starts now, a busy one after its last byte
        self.free_at = start + len(data) * self.byte_time
        self._queue.append(_Burst(start, bytes(data)))
        self.bytes_sent += len(data)
        self.busy_s += len(data) * self.byte_time
        return self.free_at

    @property
    def pending(self) -> int:
        """Bytes sent and not yet handed over."""
        return sum(len(b.data) - b.taken for b in self._queue)

    def _across(self, burst: _Burst, now: float) -> int:
        if not self.byte_time:
            return len(burst.data)
        return max(0, min(len(burst.data), int((now - burst.start) / self.byte_time + _EPS)))

    def arrived(self, now: float) -> bytes:
        """Every byte whose last bit is across by ``now``, in order (handed over once)."""
        out = bytearray()
        while self._queue:
            burst = self._queue[0]
            across = self._across(burst, now)
            out += burst.data[burst.taken : across]
            burst.taken = max(burst.taken, across)
            if burst.taken < len(burst.data):
                break
            self._queue.popleft()
        return bytes(out)

    def arrived_writes(self, now: float) -> list[bytes]:
        """Every write (one ``send``) that is wholly across by ``now``, in order."""
        out = []
        while self._queue and self._across(self._queue[0], now) == len(self._queue[0].data):
            out.append(self._queue.popleft().data)
        return out

    def next_arrival(self, batch_s: float | None = None) -> float | None:
        """When the next write is wholly across (``batch_s`` None), or about ``batch_s`` worth of bytes are.

        Batching never puts off the end of a write, so a frame's last byte, which its receiver
        waits for, is handed over on time.
        """
        if not self._queue:
            return None
        burst = self._queue[0]
        if batch_s is None or not self.byte_time:
            return burst.start + len(burst.data) * self.byte_time
        upto = min(len(burst.data), burst.taken + max(1, int(batch_s / self.byte_time)))
        return burst.start + upto * self.byte_time


class PacedUnit:
    """A :class:`UnitSim` behind a serial line: host bytes in, unit bytes out, both paced.

    Args:
        sim: the unit.
        baud: the line's speed (None: no pacing).
        batch_s: how finely the unit's bytes are handed over (each is still handed over no
            earlier than its time on the wire; a write's last byte exactly then).
    """

    def __init__(self, sim: UnitSim, baud: int | None, batch_s: float = 0.002) -> None:
        self.sim = sim
        self.to_unit = Wire(baud)
        self.to_host = Wire(baud)
        self.batch_s = batch_s

    def from_host(self, data: bytes, now: float) -> None:
        """Bytes the host wrote, read off the pty at ``now``: they start on the wire to the unit."""
        self.to_unit.send(data, now)

    def step(self, now: float) -> bytes:
        """Let the unit act on what reached it by ``now``; return the unit's bytes across by ``now``."""
        for chunk in self.to_unit.arrived_writes(now):
            self.to_host.send(self.sim.feed(chunk, now), now)
        self.to_host.send(self.sim.poll(now), now)
        return self.to_host.arrived(now)

    def next_wake(self) -> float | None:
        """When :meth:`step` next has something to do, or None."""
        times = [t for t in (self.sim.next_deadline(), self.to_unit.next_arrival(),
                             self.to_host.next_arrival(self.batch_s)) if t is not None]
        return min(times) if times else None

    @property
    def powered_off(self) -> bool:
        """True once the unit lost power and its last bytes are across."""
        return self.sim.powered_off and not self.to_host.pending
