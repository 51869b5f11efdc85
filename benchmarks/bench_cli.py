"""Benchmark 4: CLI start. ``bench --help`` and ``bench --version`` wall time against ``python -c pass``.

Each is a fresh process of the venv's console script (``.venv/bin/bench``), timed from spawn to exit.
The reference is the same interpreter doing nothing (``python -c pass``), measured in the same run.
Also checked: which heavy modules (SQLAlchemy, pyscard, Pillow, Jinja2) ``bench --help`` imports.
"""

from __future__ import annotations

import subprocess
import time

from benchmarks.common import VENV_BIN, Row, Series, cli

HEAVY = ("sqlalchemy", "smartcard", "PIL", "jinja2")
_PROBE = (
    "import sys\n"
    "from bench.cli import main\n"
    "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def heavy_imports() -> list[str]:
    """Heavy modules present after ``bench --help`` ran in a fresh interpreter."""
    res = subprocess.run([str(VENV_BIN / "python"), "-c", _PROBE], capture_output=True, text=True, check=True)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def run(reps: int) -> list[Row]:
    py = str(VENV_BIN / "python")
    bench = str(VENV_BIN / "bench")
    cmds = {"help": [bench, "--help"], "version": [bench, "--version"], "pass": [py, "-c", "pass"]}
    for cmd in cmds.values():  # warm the page cache
        _wall(cmd)
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(reps):  # interleaved, so load changes hit all three alike
        for key, cmd in cmds.items():
            samples[key].append(_wall(cmd) * 1000)
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
    return rows


def main() -> None:
    cli("Benchmark 4: CLI start", run, default_reps=15)


if __name__ == "__main__":
    main()
