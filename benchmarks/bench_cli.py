"""Benchmark 4: CLI start and ``bench run``'s fixed cost, in wall time of fresh processes.

Each command is a fresh process of the venv's console script (``.venv/bin/bench``), timed from
spawn to exit, all of them interleaved in the same run:

* ``bench --help`` and ``bench --version`` against the same interpreter doing nothing
  (``python -c pass``);
* ``bench run testplans/pos-quick.yaml --sim`` (five steps on the simulated bench: the unit's
  process started and stopped, the store opened, run.json, report.html and junit.xml written)
  against ``bench --help``. Its store (SQLite in a temp dir, the default settings) and report
  folder exist before the timed runs, as at a station.

Also checked: which heavy modules (SQLAlchemy, pyscard, Pillow, Jinja2) ``bench --help`` imports,
and which check modules and heavy modules ``bench run`` on pos-quick imports.

The sources are byte-compiled first (``compileall``), as a pip install does: a shell with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module on every start.
"""

from __future__ import annotations

import compileall
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, VENV_BIN, Row, Series, cli

HEAVY = ("sqlalchemy", "smartcard", "PIL", "jinja2")
_PROBE = (
    "import sys\n"
    "from bench.cli import main\n"
    "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


#: ``bench run`` on pos-quick at most this many times ``bench --help`` (issue #12).
RUN_GOAL = 3.5
_RUN_PROBE = (
    "import sys\n"
    "from bench.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "checks = sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('bench.checks.') and m != 'bench.checks.base')\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "print('CHECKS=' + ','.join(checks) + ' HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
)


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def run_imports(args: list[str]) -> str:
    """The check modules and heavy modules a ``bench run`` imported, in a fresh interpreter."""
    res = subprocess.run([str(VENV_BIN / "python"), "-c", _RUN_PROBE, *args], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("CHECKS=")][-1]
    checks, heavy = line.removeprefix("CHECKS=").split(" HEAVY=")
    return f"check modules imported: {checks or 'none'}; heavy modules: {heavy or 'none'}"


def heavy_imports() -> list[str]:
    """Heavy modules present after ``bench --help`` ran in a fresh interpreter."""
    res = subprocess.run([str(VENV_BIN / "python"), "-c", _PROBE], capture_output=True, text=True, check=True)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def run(reps: int) -> list[Row]:
    compileall.compile_dir(ROOT / "bench", quiet=1)
    compileall.compile_dir(ROOT / "drivers", quiet=1)
    py = str(VENV_BIN / "python")
    bench = str(VENV_BIN / "bench")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        run_args = ["run", "testplans/pos-quick.yaml", "--sim", "--db", f"sqlite:///{Path(tmp) / 'b.db'}",
                    "--report", str(Path(tmp) / "reports")]
        cmds = {"help": [bench, "--help"], "version": [bench, "--version"], "pass": [py, "-c", "pass"],
                "run": [bench, *run_args]}
        for cmd in cmds.values():  # warm the page cache; the first run creates the store
            _wall(cmd)
        samples: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(reps):  # interleaved, so load changes hit all of them alike
            for key, cmd in cmds.items():
                samples[key].append(_wall(cmd) * 1000)
        imported = run_imports(run_args)
    heavy = heavy_imports()
    ref = Series("ms", samples["pass"])
    rows = []
    for key in ("help", "version"):
        ours = Series("ms", samples[key])
        rows.append(Row(
            bench="4", what=f"`bench --{key}` (process wall time)", ours=ours, ref=ref,
            ref_name="`python -c pass`", ratio=ours.median / ref.median, ratio_label="ours/python",
            target="≤ 150 ms; no heavy imports", met=ours.median <= 150 and not heavy,
            note=("heavy modules imported by --help: " + (", ".join(heavy) if heavy else "none")),
        ))
    ours, helped = Series("ms", samples["run"]), Series("ms", samples["help"])
    ratio = ours.median / helped.median
    rows.append(Row(
        bench="4", what="`bench run testplans/pos-quick.yaml --sim` (process wall time, existing store)",
        ours=ours, ref=helped, ref_name="`bench --help`", ratio=ratio, ratio_label="run/help",
        target=f"ratio ≤ {RUN_GOAL:g}", met=ratio <= RUN_GOAL, note=imported,
    ))
    return rows


def main() -> None:
    cli("Benchmark 4: CLI start", run, default_reps=15)


if __name__ == "__main__":
    main()
