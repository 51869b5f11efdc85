"""The supervisor never sleeps past the point where a pending signal would go unhandled."""

from __future__ import annotations

import time
from typing import Any

from bench.supervisor import SIGNAL_LATENCY, Generation, Region, Watch


def _recorded_waits(watch: Watch, region: Region | None, rounds: int) -> list[float | None]:
    """Run ``supervise`` with the condition's waits recorded; the step thread ends after ``rounds``."""
    gen = Generation()
    if region is not None:
        watch.enter(Region(gen, region.deadline))
    waits: list[float | None] = []
    real_wait = watch._cond.wait

    def wait(timeout: Any = None) -> bool:
        waits.append(timeout)
        if len(waits) == rounds:
            watch._done, watch._error = gen, None  # as done() would, under the lock we hold
            return True
        return real_wait(0)

    watch._cond.wait = wait  # type: ignore[method-assign]
    assert watch.supervise(gen) is None
    return waits


def test_a_wait_without_deadline_still_looks_up_for_signals() -> None:
    # A prompt or a reconnect wait has no deadline: an unbounded wait would leave a SIGTERM that
    # landed just before it pending until the step ends.
    waits = _recorded_waits(Watch(), Region(Generation(), None), rounds=3)
    assert waits and all(w is not None and 0 < w <= SIGNAL_LATENCY for w in waits)


def test_a_far_deadline_is_approached_in_short_sleeps() -> None:
    waits = _recorded_waits(Watch(), Region(Generation(), time.monotonic() + 60), rounds=3)
    assert all(w is not None and 0 < w <= SIGNAL_LATENCY for w in waits)


def test_a_near_deadline_is_slept_to_exactly() -> None:
    waits = _recorded_waits(Watch(), Region(Generation(), time.monotonic() + 0.05), rounds=1)
    assert waits[0] is not None and 0 < waits[0] <= 0.05
