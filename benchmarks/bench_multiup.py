"""Benchmark 6: multi-up, ``pos-full`` on 8 and 16 simulated units at once against one unit.

Three commands, each a fresh process, interleaved in the same run so load changes hit them alike:

* ``bench run testplans/pos-full.yaml --sim`` (one unit, the one-unit path as a technician runs it);
* the same with ``--units 8`` and ``--units 16`` (slots 1..N, one simulated unit process, one vpcd
  reader and one USB printer each; every unit's record stored and its report folder written).

Figures: the wall time of each, the ratio N units / one unit (goal for 8: ≤ 1.25), and the CPU
the harness process itself spends (``RUSAGE_SELF`` at exit: the runners, the store, the reports,
the console), per unit and per step, apart from the CPU of the simulated units' own processes
(``RUSAGE_CHILDREN``). The harness CPU per step shows whether the parent stays lean as slots are
added, and harness CPU per unit tells how many slots a bench PC can drive.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, VENV_BIN, Row, Series, cli

#: Wall time of 8 units at most this many times one unit's (issue #14).
GOAL_8 = 1.25
_STEPS = 24  # pos-full
_PROBE = (
    "import atexit, json, resource, sys\n"
    "def _out():\n"
    "    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "    with open(sys.argv[1], 'w') as f:\n"
    "        json.dump({'self': me.ru_utime + me.ru_stime, 'children': kids.ru_utime + kids.ru_stime}, f)\n"
    "atexit.register(_out)\n"
    "from bench.cli import main\n"
    "main(sys.argv[2:])\n"
)


def _timed(args: list[str], cpu_file: Path) -> tuple[float, float, float]:
    """Wall seconds, harness CPU seconds and simulated units' CPU seconds of one ``bench`` command."""
    t0 = time.perf_counter()
    res = subprocess.run([str(VENV_BIN / "python"), "-c", _PROBE, str(cpu_file), *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"bench {' '.join(args)} exited {res.returncode}: {res.stderr.strip()[-500:]}")
    cpu = json.loads(cpu_file.read_text())
    return wall, cpu["self"], cpu["children"]


def run(reps: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-multiup-") as tmp:
        base = ["run", "testplans/pos-full.yaml", "--sim", "--db", f"sqlite:///{Path(tmp) / 'b.db'}",
                "--report", str(Path(tmp) / "reports")]
        cases = {1: base, 8: [*base, "--units", "8"], 16: [*base, "--units", "16"]}
        cpu_file = Path(tmp) / "cpu.json"
        _timed(cases[1], cpu_file)  # creates the store, warms the page cache and pcscd's first start
        wall: dict[int, list[float]] = {n: [] for n in cases}
        harness: dict[int, list[float]] = {n: [] for n in cases}
        units_cpu: dict[int, list[float]] = {n: [] for n in cases}
        for _ in range(reps):
            for n, args in cases.items():
                w, me, kids = _timed(args, cpu_file)
                wall[n].append(w)
                harness[n].append(me * 1000 / n)
                units_cpu[n].append(kids * 1000 / n)
    one = Series("s", wall[1])
    rows = []
    for n in (8, 16):
        ours = Series("s", wall[n])
        ratio = ours.median / one.median
        per_step = [h / _STEPS for h in harness[n]]
        # What one more slot costs the harness: the N-unit process's CPU less the one-unit process's
        # (start-up, imports and pcscd counted once), per added unit, per step.
        added = Series("ms", [(h * n - one_cpu) / (n - 1) / _STEPS for h, one_cpu in zip(harness[n], harness[1], strict=True)])
        rows.append(Row(
            bench="6", what=f"`bench run pos-full --sim --units {n}` (wall time, {n} units at once)",
            ours=ours, ref=one, ref_name="the same plan on one unit (`--sim`)", ratio=ratio,
            ratio_label=f"{n} units/1 unit",
            target=f"≤ {GOAL_8:g}" if n == 8 else "reported", met=ratio <= GOAL_8 if n == 8 else None,
            note=(f"harness CPU per unit {Series('ms', harness[n]).fmt(3)} (one unit: "
                  f"{Series('ms', harness[1]).fmt(3)}); per step {Series('ms', per_step).fmt(3)} "
                  f"(one unit: {Series('ms', [h / _STEPS for h in harness[1]]).fmt(3)}); each added unit, per step: "
                  f"{added.fmt(3)} (its devices opened, its steps stored, its report with the receipt image "
                  f"written); simulated unit "
                  f"processes' CPU per unit {Series('ms', units_cpu[n]).fmt(3)}"),
        ))
    return rows


def main() -> None:
    cli("Benchmark 6: multi-up", run, default_reps=3)


if __name__ == "__main__":
    main()
