"""Benchmark 3: link throughput, downloading a 64 KiB event log from the simulated unit at 115200 baud.

The simulated unit (its own process, :class:`drivers.sim.bench.SimUnitProcess`) serves the link
protocol on a pty with ``--baud 115200``: its output is paced at 11,520 bytes/s, as 8N1 on a real
line. Its profile's ``event_log_fill`` is chosen so the event-log image is just over 64 KiB.
Ours: ``UnitClient.event_log_bytes()`` (framed, CRC-checked, acknowledged ``LOG_READ`` chunks),
timed from the first request to the last byte; the figure is payload bytes per second.
Reference: the line rate itself, 115200 / 10 = 11,520 bytes/s (the physical limit).
Note: only the unit's direction is paced by the simulator; the PC's requests and ACKs cross the
pty unpaced (on a real line they would cost their bytes at 11,520 B/s too).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, Series, cli

BAUD = 115200
LINE_RATE = BAUD / 10  # 8N1: 10 bits per byte
TARGET_BYTES = 64 * 1024


def _fill_for(size: int) -> tuple[int, int]:
    """The smallest ``event_log_fill`` whose image is at least ``size`` bytes, and that size."""
    from drivers.sim.unitprofile import load_profile
    from drivers.sim.unitsim import build_log_image

    base = load_profile("good")
    one = len(build_log_image({**base, "event_log_fill": 100})) - len(build_log_image({**base, "event_log_fill": 0}))
    n = max(1, size * 100 // one)
    while len(build_log_image({**base, "event_log_fill": n})) < size:
        n += 1
    return n, len(build_log_image({**base, "event_log_fill": n}))


def run(reps: int) -> list[Row]:
    from drivers.sim.bench import SimUnitProcess
    from drivers.sim.unitprofile import load_profile
    from drivers.unit import open_unit

    fill, size = _fill_for(TARGET_BYTES)
    profile = load_profile("good", {"event_log_fill": fill})
    rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-link-") as tmp:
        proc = SimUnitProcess(profile, Path(tmp) / "unit0", baud=BAUD)
        proc.start()
        try:
            unit = open_unit(str(proc.link), baudrate=BAUD)
            try:
                got = unit.event_log_bytes()  # warm-up; also checks the size
                assert len(got) == size, (len(got), size)
                for _ in range(reps):
                    t0 = time.perf_counter()
                    data = unit.event_log_bytes()
                    rates.append(len(data) / (time.perf_counter() - t0))
            finally:
                unit.close()
        finally:
            proc.stop()
    ours = Series("B/s", rates)
    ref = Series("B/s", [LINE_RATE])
    ratio = ours.median / LINE_RATE
    return [Row(
        bench="3", what=f"event log download, {size:,} B at 115200 baud 8N1 (paced simulator)",
        ours=ours, ref=ref, ref_name="line rate 115200/10", ratio=ratio, ratio_label="ours/line rate",
        target="≥ 95% of line rate", met=ratio >= 0.95,
        note=f"{size:,} bytes takes {size / LINE_RATE:.2f} s at line rate",
    )]


def main() -> None:
    cli("Benchmark 3: link throughput vs line rate", run, default_reps=3)


if __name__ == "__main__":
    main()
