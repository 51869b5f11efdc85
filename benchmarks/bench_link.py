"""Benchmark 3: link throughput, downloading a 64 KiB event log from the simulated unit at 115200 baud.

The simulated unit (its own process, :class:`drivers.sim.bench.SimUnitProcess`) serves the link
protocol on a real pty with ``--baud 115200``, paced strictly both ways (:mod:`drivers.sim.wire`):
every byte, the unit's and the PC's requests alike, takes 10 bits / 115200 s on its direction of
the line, one byte after another; the unit acts on a request only once its last byte would have
crossed; and idle time is never banked, so nothing the PC spends between requests is credited
back. Its profile's ``event_log_fill`` makes the event-log image just over 64 KiB.
Ours: ``UnitClient.event_log_bytes()`` (framed, CRC-checked ``LOG_READ`` chunks, the response
standing for the ACK), timed from the first request to the last byte; the figure is log bytes
per second. Reference: the line rate itself, 115200 / 10 = 11,520 bytes/s (the physical limit).
The goal row uses a unit that announces the protocol's largest payload (1024 bytes; the host
then uses it, HELLO takes the smaller of both ends' announcements); the second row is the
``good`` profile's 512-byte unit, for comparison, with no target.
"""

from __future__ import annotations

import time

from benchmarks.common import Row, Series, cli, paced_unit

BAUD = 115200
LINE_RATE = BAUD / 10  # 8N1: 10 bits per byte
TARGET_BYTES = 64 * 1024
LOG_READ_REQUEST = 7 + 6  # frame overhead + u32 offset, u16 max length
LOG_READ_OVERHEAD = 7 + 12  # frame overhead + generation, total, offset


def _fill_for(size: int) -> tuple[int, int]:
    """The smallest ``event_log_fill`` whose image is at least ``size`` bytes, and that size."""
    from drivers.sim.unitcommands import build_log_image
    from drivers.sim.unitprofile import load_profile

    base = load_profile("good")
    one = len(build_log_image({**base, "event_log_fill": 100})) - len(build_log_image({**base, "event_log_fill": 0}))
    n = max(1, size * 100 // one)
    while len(build_log_image({**base, "event_log_fill": n})) < size:
        n += 1
    return n, len(build_log_image({**base, "event_log_fill": n}))


def _bound(size: int, payload: int) -> float:
    """The best a stop-and-wait download can do at this payload: log bytes / every byte on the line."""
    chunk = payload - 12
    requests = -(-size // chunk)
    return size / (size + requests * (LOG_READ_REQUEST + LOG_READ_OVERHEAD))


def _rates(max_payload: int, fill: int, size: int, reps: int) -> list[float]:
    from drivers.sim.unitprofile import load_profile

    profile = load_profile("good", {"event_log_fill": fill, "max_payload": max_payload})
    rates: list[float] = []
    with paced_unit(profile, BAUD, "bench-link-") as unit:
        got = unit.event_log_bytes()  # warm-up; also checks the size
        assert len(got) == size, (len(got), size)
        for _ in range(reps):
            t0 = time.perf_counter()
            data = unit.event_log_bytes()
            rates.append(len(data) / (time.perf_counter() - t0))
    return rates


def run(reps: int) -> list[Row]:
    fill, size = _fill_for(TARGET_BYTES)
    rows = []
    for payload, target in ((1024, "≥ 95% of line rate, honestly paced"), (512, "-")):
        ours = Series("B/s", _rates(payload, fill, size, reps))
        ratio = ours.median / LINE_RATE
        rows.append(Row(
            bench="3", what=f"event log download, {size:,} B at 115200 baud 8N1, {payload}-byte payloads "
                            "(simulator paced strictly both ways)",
            ours=ours, ref=Series("B/s", [LINE_RATE]), ref_name="line rate 115200/10", ratio=ratio,
            ratio_label="ours/line rate", target=target, met=ratio >= 0.95 if target != "-" else None,
            note=(f"{size:,} bytes takes {size / LINE_RATE:.2f} s at line rate; framing alone allows "
                  f"{_bound(size, payload):.1%} at {payload}-byte payloads (requests and answer headers share "
                  "the line time); pacing: 10 bits per byte both ways, one byte after another, idle time not banked"),
        ))
    return rows


def main() -> None:
    cli("Benchmark 3: link throughput vs line rate", run, default_reps=3)


if __name__ == "__main__":
    main()
