"""Benchmark 9: flashing a 1 MiB firmware image over the unit link at 115200 baud, as % of the line rate.

The simulated unit (its own process, :class:`drivers.sim.bench.SimUnitProcess`) serves the link
protocol on a real pty with ``--baud 115200``, paced strictly both ways as in benchmark 3
(:mod:`drivers.sim.wire`). Ours: ``UnitClient.firmware_update()`` (docs/protocol.md §5b) with a
1 MiB TEST-ONLY image (:func:`drivers.sim.fwimages.sim_image`), its signature checked by the bench
first; the transfer is timed from FW_BEGIN's answer (the first progress report) to the unit having
the whole payload (the last one), the figure being payload bytes per second. Commit and restart
are not in it (the unit's boot time; the whole update's seconds are in the note). Reference: the
line rate itself, 115200 / 10 = 11,520 bytes/s; no peer tool flashes this protocol, so there is no
like-for-like figure. Rows: a unit that takes 1024-byte payloads, and the ``good`` profile's 512.
"""

from __future__ import annotations

import time

from benchmarks.common import Row, Series, cli, paced_unit

BAUD = 115200
LINE_RATE = BAUD / 10  # 8N1: 10 bits per byte
SIZE = 1024 * 1024
CHUNK_REQUEST = 7 + 8  # frame overhead + session, offset
CHUNK_ANSWER = 7 + 4  # frame overhead + next offset


def _bound(payload: int) -> float:
    """The best stop and wait can do: payload bytes / every byte on the line, per chunk."""
    data = payload - 8
    return data / (data + CHUNK_REQUEST + CHUNK_ANSWER)


def _flashes(max_payload: int, reps: int) -> tuple[list[float], list[float]]:
    """Transfer rates (B/s) and whole-update seconds of ``reps`` flashes of one image into one unit."""
    from drivers.firmware.keys import trusted_keys
    from drivers.sim.fwimages import PUBLIC_KEY, sim_image
    from drivers.sim.unitprofile import load_profile

    image = sim_image("2.5.0", SIZE)
    trusted = trusted_keys([PUBLIC_KEY])
    profile = load_profile("good", {"max_payload": max_payload, "boot_time": 0.2})
    rates: list[float] = []
    whole: list[float] = []
    with paced_unit(profile, BAUD, "bench-flash-") as unit:
        for _ in range(reps):  # the same version again is a reflash, which the unit allows
            marks: list[float] = []

            def progress(done: int, total: int, marks: list[float] = marks) -> None:
                if not marks or done >= total:
                    marks.append(time.perf_counter())

            result = unit.firmware_update(image, trusted=trusted, progress=progress, wait=30)
            assert result.updated and result.resumes == 0, result
            rates.append(SIZE / (marks[-1] - marks[0]))
            whole.append(result.seconds)
    return rates, whole


def run(reps: int) -> list[Row]:
    rows = []
    for payload in (1024, 512):
        rates, whole = _flashes(payload, reps)
        ours = Series("B/s", rates)
        ratio = ours.median / LINE_RATE
        profile = "a unit taking 1024-byte payloads" if payload == 1024 else "the good profile's 512-byte payloads"
        rows.append(Row(
            bench="9", what=f"firmware flash, 1 MiB image at 115200 baud 8N1, {profile} (simulator paced strictly "
                            "both ways)",
            ours=ours, ref=Series("B/s", [LINE_RATE]), ref_name="line rate 115200/10 (no peer tool flashes this "
                                                                 "protocol)",
            ratio=ratio, ratio_label="ours/line rate", target="≥ 90% of line rate", met=ratio >= 0.90,
            note=(f"1 MiB takes {SIZE / LINE_RATE:.1f} s at line rate; stop and wait allows {_bound(payload):.1%} "
                  f"at {payload}-byte payloads; the whole update (commit, restart, HELLO, FW_STATUS) took "
                  f"{min(whole):.1f}-{max(whole):.1f} s"),
        ))
    return rows


def main() -> None:
    cli("Benchmark 9: firmware flash rate vs line rate", run, default_reps=2)


if __name__ == "__main__":
    main()
