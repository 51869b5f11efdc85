"""Hostile files through the real CLI: every one is a plan error, exit 2, one line naming the file (and line).

The small hostile files live beside this test (``plans/``, ``scenarios/``, ``operator/``); each
starts with ``# expect: LINE: TEXT`` (``-`` for an error about the whole file). The huge ones
(60 MB, 50,000 levels deep, alias bombs) are generated here at run time. A subprocess timeout
is the hang detector: a loader that hangs fails the test instead of the suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HANG = 30  # seconds: far above any bounded load, far below forever
_EXPECT = re.compile(rb"^# expect: (-|\d+): (.*)$", re.M)

PLAN_ARGS: Callable[[Path], list[str]] = lambda f: ["plan", "check", str(f)]  # noqa: E731
SCENARIO_ARGS: Callable[[Path], list[str]] = lambda f: ["run", "testplans/pos-quick.yaml", "--sim", "--scenario", str(f)]  # noqa: E731
OPERATOR_ARGS: Callable[[Path], list[str]] = lambda f: [  # noqa: E731
    "run", "testplans/pos-quick.yaml", "--sim", "--operator-script", str(f)]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=HANG)


def assert_plan_error(proc: subprocess.CompletedProcess[str], path: Path, line: int | None, text: str) -> str:
    """Exit 2 and exactly one line: ``bench: error: FILE:LINE: ...TEXT...``."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    where = f"{path}:{line}: " if line is not None else f"{path}"
    assert lines[0].startswith(f"bench: error: {where}"), lines[0]
    assert text in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


def corpus(folder: str) -> list[tuple[Path, int | None, str]]:
    out = []
    for f in sorted((HERE / folder).glob("*.yaml")):
        match = _EXPECT.search(f.read_bytes())
        assert match is not None, f"{f.name}: no '# expect: LINE: TEXT' header"
        line = None if match.group(1) == b"-" else int(match.group(1))
        out.append((f, line, match.group(2).decode()))
    return out


@pytest.mark.parametrize(("path", "line", "text"), corpus("plans"), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_hostile_plan_files(path: Path, line: int | None, text: str) -> None:
    assert_plan_error(bench(*PLAN_ARGS(path)), path, line, text)


@pytest.mark.parametrize(("path", "line", "text"), corpus("scenarios"),
                         ids=lambda v: v.name if isinstance(v, Path) else "")
def test_hostile_scenario_files(path: Path, line: int | None, text: str) -> None:
    assert_plan_error(bench(*SCENARIO_ARGS(path)), path, line, text)


@pytest.mark.parametrize(("path", "line", "text"), corpus("operator"),
                         ids=lambda v: v.name if isinstance(v, Path) else "")
def test_hostile_operator_scripts(path: Path, line: int | None, text: str) -> None:
    assert_plan_error(bench(*OPERATOR_ARGS(path)), path, line, text)


# --------------------------------------------------------------------------- generated at run time
def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """Billion laughs: ``levels`` anchors, each a list of ``fan`` aliases of the one before (9**9 values)."""
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(f"          {r}" for r in rows)


def deep(levels: int = 50_000) -> str:
    return "[" * levels + "]" * levels


def _bomb_plan() -> tuple[str, int | None, str]:
    text = ("plan: bomb\nsteps:\n  - check: unit.identify\n    limits:\n      model:\n        equals:\n"
            + alias_bomb() + "\n")
    return text, None, "once aliases are expanded"


GENERATED_PLANS: dict[str, Callable[[], tuple[str, int | None, str]]] = {
    "alias-bomb-in-equals": _bomb_plan,
    "nested-50000": lambda: ("plan: deep\nsteps:\n  - check: unit.identify\n    limits:\n      model: {equals: "
                             + deep() + "}\n", 5, "nested more than 64 levels deep"),
    "nested-block-200": lambda: ("plan: deep\nsteps:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), None,
                                 "nested more than 64 levels deep"),
    "name-10MB": lambda: ("plan: " + "x" * 10_000_000 + "\nsteps:\n  - check: power.battery\n", None,
                          "bytes; the limit is"),
    "over-1MiB": lambda: ("plan: big\nsteps:\n  - check: power.battery\n" + "# padding\n" * 110_000, None,
                          "bytes; the limit is"),
}


@pytest.mark.parametrize("name", sorted(GENERATED_PLANS))
def test_generated_hostile_plans(tmp_path: Path, name: str) -> None:
    text, line, expected = GENERATED_PLANS[name]()
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    line_text = assert_plan_error(bench(*PLAN_ARGS(path)), path, line, expected)
    if line is None and "bytes" not in expected:
        assert re.match(rf"bench: error: {re.escape(str(path))}:\d+: ", line_text), line_text


def test_a_60_MB_plan_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as fh:
        fh.write("plan: huge\nsteps:\n")
        fh.writelines("  - check: power.battery\n" for _ in range(2_500_000))
    assert path.stat().st_size > 60_000_000
    assert_plan_error(bench(*PLAN_ARGS(path)), path, None, "the limit is 1048576")


@pytest.mark.parametrize("args", [PLAN_ARGS, lambda f: ["run", str(f), "--sim"]], ids=["plan check", "run"])
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, args: Callable[[Path], list[str]]) -> None:
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    assert_plan_error(bench(*args(fifo)), fifo, None, "not a regular file")


def test_a_folder_or_a_device_is_refused_by_the_loader(tmp_path: Path) -> None:
    from bench.errors import PlanError
    from bench.plan import load_plan

    folder = tmp_path / "plans.yaml"
    folder.mkdir()
    for path in (folder, Path("/dev/zero")):  # the CLI refuses a folder itself; the loader must too
        with pytest.raises(PlanError, match="not a regular file"):
            load_plan(path)


def test_an_alias_bomb_in_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("spec: 2\ndescription: bomb\ndevice:\n  unit:\n    base: good\n    tamper:\n      flags:\n"
                    "        - x:\n" + alias_bomb().replace("          ", "            ") + "\n")
    line = assert_plan_error(bench(*SCENARIO_ARGS(path)), path, None, "once aliases are expanded")
    assert re.match(rf"bench: error: {re.escape(str(path))}:\d+: ", line), line


def test_an_alias_bomb_in_an_operator_script(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("answers:\n  'Q':\n" + alias_bomb().replace("          ", "    ") + "\n")
    line = assert_plan_error(bench(*OPERATOR_ARGS(path)), path, None, "once aliases are expanded")
    assert re.match(rf"bench: error: {re.escape(str(path))}:\d+: ", line), line


def test_a_deep_scenario(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("spec: 2\ndescription: deep\ndevice:\n  unit: {base: good, tamper: {flags: " + deep() + "}}\n")
    assert_plan_error(bench(*SCENARIO_ARGS(path)), path, 4, "nested more than 64 levels deep")


# --------------------------------------------------------------------------- an operator script that falls short
def test_a_prompt_the_script_does_not_answer_ends_the_run_normally(tmp_path: Path) -> None:
    plan = tmp_path / "prompted.yaml"
    plan.write_text("plan: prompted\nsteps:\n  - name: id\n    check: unit.identify\n"
                    "    prompt: Connect the diagnostic cable\n  - name: bat\n    check: power.battery\n")
    script = tmp_path / "operator.yaml"
    script.write_text("answers:\n  Something else: true\n")
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    proc = bench("run", str(plan), "--sim", "--operator-script", str(script), "--db", db,
                 "--report", str(tmp_path / "reports"))
    assert proc.returncode == 1, proc.stderr
    assert re.search(r"id \.+ TIMEOUT .* OP-NO-RESPONSE +no operator response to 'Connect the diagnostic cable'",
                     proc.stdout), proc.stdout
    assert re.search(r"bat \.+ PASS", proc.stdout), proc.stdout
    assert "Verdict: FAIL" in proc.stdout
    assert list((tmp_path / "reports").glob("*/run.json")), "no report"
    history = bench("history", "PT3-000123", "--db", db)
    assert history.returncode == 0 and "FAIL" in history.stdout and "RUNNING" not in history.stdout, history.stdout


# --------------------------------------------------------------------------- station files (TOML, same reader)
@pytest.mark.parametrize(("text", "line", "expected"), [
    ('name = "b"\n[devices]\nunit = "/dev/tty\x00S0"\n', 3, "control character U+0000"),
    ('name = "b"\n[devices\nunit = "x"\n', 2, "TOML error"),
    ("name = nan\n[devices]\nunit = \"x\"\n", None, "name must be text"),
    ('name = "b"\n[devices]\nunit = "' + "u" * 2000 + '"\n', None, "a device URL has at most 1000 characters"),
])
def test_hostile_station_files(tmp_path: Path, text: str, line: int | None, expected: str) -> None:
    path = tmp_path / "station.toml"
    path.write_text(text)
    assert_plan_error(bench("run", "testplans/pos-quick.yaml", "--station", str(path)), path, line, expected)


def test_a_fifo_station_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "station.toml"
    os.mkfifo(fifo)
    assert_plan_error(bench("run", "testplans/pos-quick.yaml", "--station", str(fifo)), fifo, None,
                      "not a regular file")
