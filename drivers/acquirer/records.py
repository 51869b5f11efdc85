"""The bench host's evidence: one :class:`Exchange` per message it handled, masked, and its log line."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One message the host received (``direction`` "in") or sent ("out").

    ``fields`` are masked (:func:`drivers.acquirer.wire.masked`): the PAN first-6/last-4, no
    track data, no PIN block. ``latency_ms`` (answers only): from the request's last byte read
    to the answer encoded and about to be written, the deliberate delay of a late answer included.
    """

    at: float
    direction: str
    connection: int
    peer: str
    mti: str
    fields: dict[str, str]
    behaviour: str = ""
    findings: tuple[str, ...] = ()
    latency_ms: float | None = None
    reverses: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and the run's evidence."""
        out = asdict(self)
        out["findings"] = list(self.findings)
        return out

    def line(self) -> str:
        """One log line: time, connection, direction, MTI, the fields that say what happened."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at)) + f".{int(self.at * 1000) % 1000:03d}"
        parts = [stamp, f"#{self.connection}", f"{self.direction:<3}", self.mti or "????"]
        for key, name in (("11", "stan"), ("41", "tid"), ("2", "pan"), ("35", "track2"), ("4", "amount"),
                          ("39", "rc"), ("70", "nmic")):
            if self.fields.get(key):
                parts.append(f"{name}={self.fields[key]}")
        if self.reverses:
            parts.append(f"reverses={self.reverses}")
        if self.behaviour:
            parts.append(f"[{self.behaviour}]")
        if self.latency_ms is not None:
            parts.append(f"{self.latency_ms:.1f} ms")
        if self.findings:
            parts.append("findings: " + ", ".join(self.findings))
        return " ".join(parts)
