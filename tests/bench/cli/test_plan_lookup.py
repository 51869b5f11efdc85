"""Plans by name from any directory: the stock plans ship with bench, and bench says where it looked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_list_outside_the_repository_shows_the_stock_plans_and_where_it_looked(tmp_path: Path) -> None:
    proc = bench("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = next(ln for ln in proc.stdout.splitlines() if ln.startswith("Plans"))
    assert "looked for in: ./testplans, " in header and header.rstrip("):").endswith("testplans")
    for name in ("pos-quick 1.0: 5 steps", "pos-full 1.0: 25 steps", "incoming-battery 1.0"):
        assert name in proc.stdout
    data = json.loads(bench("list", "--json", cwd=tmp_path).stdout)
    assert {p["name"] for p in data["plans"]} >= {"pos-quick", "pos-full"}
    assert data["plan_dirs"][0] == "testplans" and len(data["plan_dirs"]) == 2


def test_plan_check_by_name_outside_the_repository(tmp_path: Path) -> None:
    proc = bench("plan", "check", "pos-quick", "pos-full.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "OK  plan pos-quick 1.0, 5 steps" in proc.stdout and "OK  plan pos-full 1.0, 25 steps" in proc.stdout


def test_a_local_plan_hides_the_stock_plan_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "testplans").mkdir()
    (tmp_path / "testplans" / "pos-quick.yaml").write_text(
        "plan: my-quick\nversion: '7'\nsteps:\n  - check: unit.identify\n")
    proc = bench("plan", "check", "pos-quick", cwd=tmp_path)
    assert proc.returncode == 0 and "plan my-quick 7, 1 steps" in proc.stdout, proc.stderr
    listed = bench("list", cwd=tmp_path).stdout
    assert "my-quick" in listed and "pos-quick 1.0" not in listed and "pos-full 1.0" in listed


@pytest.mark.parametrize("args", [("run", "nosuch", "--sim"), ("plan", "check", "nosuch"),
                                  ("inspect", "demo", "--plan", "nosuch")])
def test_an_unknown_plan_name_says_where_it_looked(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = bench(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("bench: error: ") and "no plan named 'nosuch'" in lines[0]
    assert f"looked for nosuch.yaml in: ./testplans, {ROOT / 'testplans'}" in lines[0]


def test_a_misspelt_plan_name_gets_a_suggestion(tmp_path: Path) -> None:
    proc = bench("run", "pos-fulll", "--sim", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.rstrip().endswith("; did you mean pos-full?"), proc.stderr


def test_a_plan_path_that_does_not_exist_is_still_a_missing_file(tmp_path: Path) -> None:
    proc = bench("plan", "check", "sub/pos-quick.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == "bench: error: sub/pos-quick.yaml: no such file"


@pytest.mark.slow
def test_run_by_name_on_the_sim_outside_the_repository(tmp_path: Path) -> None:
    proc = bench("run", "pos-quick", "--sim", "--db", f"sqlite:///{tmp_path / 'b.db'}",
                 "--report", str(tmp_path / "r"), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plan"]["name"] == "pos-quick"


@pytest.mark.slow
def test_inspect_demo_outside_the_repository(tmp_path: Path) -> None:
    proc = bench("inspect", "demo", "--lot-size", "2", "--defect-rate", "0", "--seed", "1",
                 "--db", f"sqlite:///{tmp_path / 'b.db'}", "--out", str(tmp_path / "lot"), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "lot" / "lot.json").is_file()


def test_the_wheel_config_carries_the_stock_plans() -> None:
    """pyproject maps bench/testplans onto testplans/ and lists every package once (find cannot add a mapped one)."""
    import tomllib

    import setuptools

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == {"bench.testplans": "testplans"}
    patterns = cfg["package-data"]["bench.testplans"]
    shipped = [p.relative_to(ROOT / "testplans") for p in (ROOT / "testplans").rglob("*") if p.is_file()]
    left_out = [str(p) for p in shipped if not any(p.match(pattern) and len(p.parts) == len(Path(pattern).parts)
                                                   for pattern in patterns)]
    assert shipped and left_out == []  # every stock plan, profile, case and catalogue goes into the wheel
    found = setuptools.find_packages(str(ROOT), include=["bench", "bench.*", "drivers", "drivers.*"])
    assert sorted(cfg["packages"]) == sorted([*found, "bench.testplans"])
