"""Shared helpers for the benchmarks: timing statistics, the machine line, load, and the results table.

Every benchmark module has ``run(reps) -> list[Row]`` and a ``main()`` that prints its own
section and, with ``--json-out FILE``, writes its rows for :mod:`benchmarks.run_all`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
#: Where benchmark output and caches go (git-ignored).
OUT = ROOT / "benchmarks" / ".out"


@dataclass
class Series:
    """min / median / max of repeated measurements, in ``unit``."""

    unit: str
    samples: list[float]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def fmt(self, digits: int = 3) -> str:
        return f"{_g(self.min, digits)} / {_g(self.median, digits)} / {_g(self.max, digits)} {self.unit}"


@dataclass
class Row:
    """One line of the results table: our figure, the reference's, their ratio and the target."""

    bench: str
    what: str
    ours: Series
    ref: Series | None
    ref_name: str
    ratio: float | None  # ours/ref or ref/ours, as ratio_label says (on the medians)
    ratio_label: str
    target: str
    met: bool | None
    load: tuple[float, float, float] = field(default_factory=lambda: os.getloadavg())
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Row:
        d = dict(d)
        d["ours"] = Series(**d["ours"])
        d["ref"] = Series(**d["ref"]) if d["ref"] else None
        d["load"] = tuple(d["load"])
        return cls(**d)


def _g(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def load() -> str:
    """The 1/5/15-minute load averages (other test suites may run on this machine)."""
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} CPUs"


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    osname = platform.platform(terse=True)
    try:
        pretty = [ln for ln in Path("/etc/os-release").read_text().splitlines() if ln.startswith("PRETTY_NAME=")]
        if pretty:
            osname = pretty[0].split("=", 1)[1].strip('"') + f" (Linux {platform.release()})"
    except OSError:
        pass
    return (f"{cpu or 'unknown CPU'}, {os.cpu_count()} CPUs{mem}; {osname}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def percentile95(samples: Sequence[float], method: str = "exclusive") -> float:
    """The 95th percentile of ``samples`` (``statistics.quantiles``' ``method``); a single sample is its own."""
    return statistics.quantiles(samples, n=20, method=method)[18] if len(samples) > 1 else samples[0]


def timeit(fn: Callable[[], Any], reps: int, warmup: int = 1) -> list[float]:
    """Wall seconds of ``fn()`` over ``reps`` runs after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def print_section(title: str, rows: Sequence[Row]) -> None:
    """A benchmark's own report: every row with min/median/max of both sides and the load."""
    print(f"\n== {title}")
    print(f"   machine: {machine()}")
    for r in rows:
        status = {True: "MET", False: "MISSED", None: "-"}[r.met]
        print(f"   {r.what}")
        print(f"     ours (min/median/max): {r.ours.fmt()}")
        if r.ref is not None:
            print(f"     {r.ref_name} (min/median/max): {r.ref.fmt()}")
        if r.ratio is not None:
            print(f"     ratio ({r.ratio_label}): {r.ratio:.2f}")
        print(f"     target: {r.target}: {status}    [load {r.load[0]:.2f} {r.load[1]:.2f} {r.load[2]:.2f}]")
        if r.note:
            print(f"     note: {r.note}")
    sys.stdout.flush()


def table(rows: Sequence[Row]) -> str:
    """The summary table as Markdown (what README's performance section shows)."""
    head = ("| # | benchmark | ours (median; min–max) | reference, same run (median; min–max) | ratio | target | "
            "result | load (1 min) |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = f"{_g(r.ours.median, 3)} {r.ours.unit} ({_g(r.ours.min, 3)}–{_g(r.ours.max, 3)})"
        ref = (f"{r.ref_name}: {_g(r.ref.median, 3)} {r.ref.unit} ({_g(r.ref.min, 3)}–{_g(r.ref.max, 3)})"
               if r.ref is not None else "-")
        ratio = f"{r.ratio:.2f} ({r.ratio_label})" if r.ratio is not None else "-"
        status = {True: "met", False: "**missed**", None: "-"}[r.met]
        lines.append(f"| {r.bench} | {r.what} | {ours} | {ref} | {ratio} | {r.target} | {status} | {r.load[0]:.2f} |")
    return "\n".join(lines)


def cli(title: str, run: Callable[[int], list[Row]], default_reps: int) -> None:
    """Standard ``main()``: ``--reps N`` and ``--json-out FILE``."""
    ap = argparse.ArgumentParser(description=title)
    ap.add_argument("--reps", type=int, default=default_reps, help="repetitions per figure")
    ap.add_argument("--json-out", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    print(f"[{title}: {load()}]", flush=True)
    rows = run(args.reps)
    print_section(title, rows)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps([r.to_dict() for r in rows], indent=2))


@contextlib.contextmanager
def paced_unit(profile: dict[str, Any], baud: int, prefix: str) -> Iterator[Any]:
    """A simulated unit in its own process on a pty paced at ``baud``, and the client on it (both closed after);
    the client has agreed the profile's payload size."""
    from drivers.sim.bench import SimUnitProcess
    from drivers.unit import open_unit

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        proc = SimUnitProcess(profile, Path(tmp) / "unit0", baud=baud)
        proc.start()
        try:
            unit = open_unit(str(proc.link), baudrate=baud)
            try:
                assert unit.link.max_payload == profile["max_payload"], unit.link.max_payload
                yield unit
            finally:
                unit.close()
        finally:
            proc.stop()
