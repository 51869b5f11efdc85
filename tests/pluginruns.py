"""What the pytest plugin's tests read back: the runs the inner pytest session stored and the
``bench`` section it printed (tests/bench/pytestplugin)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.record import RunRecord

#: The unit the simulated bench's good scenario plays.
SERIAL = "PT3-000123"

#: The ``run_bench`` fixture: pytest on the pytester folder with ``--bench-sim`` and a store.
RunBench = Callable[..., pytest.RunResult]


def stored_runs(url: str, serial: str = SERIAL) -> list[RunRecord]:
    """Every run the store holds for ``serial``, oldest first, read through the store's API."""
    from bench.store.connect import open_store

    with open_store(url, settle=False) as store:  # as the plugin left it
        found = store.history(serial)
        return sorted((store.get_run(s.run_id) for s in found), key=lambda r: r.started_at)


def latest_run(url: str) -> RunRecord:
    """The store's newest run (also one with no unit identified)."""
    from bench.store.connect import open_store

    with open_store(url, settle=False) as store:  # as the plugin left it
        run = store.latest_run()
    assert run is not None, "no run stored"
    return run


def bench_lines(result: pytest.RunResult) -> list[str]:
    """The lines of the terminal's ``bench`` section (one per run)."""
    out = result.outlines
    starts = [i for i, line in enumerate(out) if line.startswith("=") and " bench " in line]
    assert starts, "no bench section in pytest's output:\n" + result.stdout.str()
    assert out[starts[-1] + 1].strip(), "a blank line under the bench title"  # pytest's sections have none
    lines = []
    for line in out[starts[-1] + 1:]:
        if line.startswith(("=", "!")):  # the next section, or pytest's "interrupted" banner
            break
        if line.strip():
            lines.append(line)
    return lines


def runs_shown(lines: list[str], url: str) -> list[RunRecord]:
    """The stored runs the ``bench`` lines name (``... - run 1a2b3c4d``), in their order."""
    from bench.store.connect import open_store

    with open_store(url, settle=False) as store:
        return [store.get_run(line.split(" - run ")[1].split()[0]) for line in lines]
