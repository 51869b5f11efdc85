"""What a :class:`drivers.link.Link` counts and queues: its counters, and the unit's events as received."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class LinkStats:
    """Counters of one link; a noisy line that needed retransmissions shows here."""

    requests: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    retransmissions: int = 0
    naks_received: int = 0
    naks_sent: int = 0
    crc_errors: int = 0
    resyncs: int = 0
    garbage_bytes: int = 0
    timeouts: int = 0
    events: int = 0
    events_missed: int = 0
    reconnects: int = 0  # a serial server on the network dropped the connection and took it again

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict (for records and reports)."""
        return asdict(self)


@dataclass(frozen=True)
class ReceivedEvent:
    """An unsolicited event frame as the link received it."""

    seq: int
    payload: bytes
    received_at: float  # time.monotonic()
    index: int  # 1, 2, ... in arrival order on this link
