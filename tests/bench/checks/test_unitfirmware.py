"""unit.firmware_update and unit.update_state as a technician meets them: plans, the real CLI, the simulated unit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.checks.base import Progress
from bench.checks.unitfirmware import _Meter
from bench.errors import PlanError
from bench.plan import load_plan
from drivers.sim.fwimages import SIGNING_KEY, sim_image, stock_images

ROOT = Path(__file__).resolve().parents[3]


def write_plan(tmp_path: Path, **params: object) -> Path:
    """A plan of one flash step (and update_state around it) with ``params`` over the stock image and key."""
    given = {"image": "pt300-2.5.0.img", "keys": ["TEST-ONLY-signing-key.pub.pem"], **params}
    lines = "\n".join(f"      {k}: {json.dumps(v)}" for k, v in given.items())
    plan = tmp_path / "fw.yaml"
    plan.write_text("plan: fw\nsteps:\n  - name: before\n    check: unit.update_state\n"
                    f"  - name: flash\n    check: unit.firmware_update\n    timeout: 120\n    params:\n{lines}\n"
                    "  - name: after\n    check: unit.update_state\n")
    return plan


def run(tmp_path: Path, plan: Path | str, scenario: str = "good",
        *options: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(plan), "--sim", "--scenario", scenario, "--json",
         "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), *options],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, (json.loads(proc.stdout) if proc.stdout.strip() else {})


def step(record: dict, name: str) -> dict:
    return next(s for s in record["steps"] if s["name"] == name)


def measured(record: dict, name: str) -> dict:
    return {m["name"]: m["value"] for m in step(record, name)["measurements"]}


# ------------------------------------------------------------------ plan errors, at load


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"image": "no-such.img"}, "image: no firmware image 'no-such.img' (a path, or a file in testplans/firmware/)"),
        ({"keys": ["missing.pub.pem"]}, "keys: no public key 'missing.pub.pem'"),
        ({"keys": []}, "keys: keys must list the public key files"),
        ({"keys": [str(SIGNING_KEY)]}, "not a PEM public key (a private key, or another format?)"),
    ],
)
def test_a_missing_image_or_a_bad_key_is_a_plan_error_naming_the_line(tmp_path: Path, params: dict,
                                                                      said: str) -> None:
    plan = write_plan(tmp_path, **params)
    with pytest.raises(PlanError) as exc:
        load_plan(plan)
    assert said in str(exc.value)
    assert exc.value.path == str(plan) and exc.value.line is not None


def test_the_cli_says_a_plan_error_in_one_line_and_exits_2(tmp_path: Path) -> None:
    proc, _ = run(tmp_path, write_plan(tmp_path, image="no-such.img"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "no firmware image 'no-such.img'" in proc.stderr


def test_the_stock_plan_names_its_files_by_name_and_they_are_found() -> None:
    plan = load_plan(ROOT / "testplans" / "firmware-update.yaml")
    assert [s.check.name for s in plan.steps] == ["unit.update_state", "unit.firmware_update", "unit.update_state"]
    assert plan.steps[1].params["keys"] == ["TEST-ONLY-signing-key.pub.pem"]


def test_the_committed_images_are_what_the_script_builds() -> None:
    for name, data in stock_images().items():
        assert (ROOT / "testplans" / "firmware" / name).read_bytes() == data, "rebuild: python -m drivers.sim.fwimages"


# ------------------------------------------------------------------ refusals and flashes on the simulated unit


@pytest.mark.slow
def test_a_truncated_image_is_refused_before_a_byte_is_sent(tmp_path: Path) -> None:
    cut = tmp_path / "cut.img"
    cut.write_bytes(sim_image().to_bytes()[:-100])
    proc, record = run(tmp_path, write_plan(tmp_path, image=str(cut)))
    assert proc.returncode == 3  # the image is at fault, not the unit: ERROR, no verdict on the unit
    flash = step(record, "flash")
    assert (flash["outcome"], flash["fault"]) == ("ERROR", "FW-IMAGE-CORRUPT")
    assert flash["message"].startswith("cut.img: refused before a byte was sent: ")
    assert measured(record, "after")["running_version"] == "2.4.1"


@pytest.mark.slow
def test_an_older_image_is_refused_unless_the_plan_allows_the_downgrade(tmp_path: Path) -> None:
    old = tmp_path / "old.img"
    old.write_bytes(sim_image("2.4.0", 4096).to_bytes())
    proc, record = run(tmp_path, write_plan(tmp_path, image=str(old)))
    assert proc.returncode == 3
    assert (step(record, "flash")["outcome"], step(record, "flash")["fault"]) == ("ERROR", "FW-DOWNGRADE")
    assert "older than the unit's 2.4.1" in step(record, "flash")["message"]
    proc, record = run(tmp_path, write_plan(tmp_path, image=str(old), allow_downgrade=True))
    assert proc.returncode == 0, record.get("summary")
    figures = measured(record, "flash")
    assert (figures["version_before"], figures["version_after"], figures["rolled_back"]) == ("2.4.1", "2.4.0", False)
    assert figures["rate_bytes_s"] > 0 and "line_rate_pct" not in figures  # a pty has no line rate
    assert measured(record, "after")["last_result"] == "updated"


@pytest.mark.slow
def test_a_plan_that_gives_the_line_rate_gets_the_rate_in_percent(tmp_path: Path) -> None:
    _, record = run(tmp_path, write_plan(tmp_path, line_baud=115200))
    figures = measured(record, "flash")
    assert figures["line_rate_pct"] == pytest.approx(100 * figures["rate_bytes_s"] / 11520, abs=0.2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("log", "fault"),
    [
        ([{"time": "-2d", "code": 0x0A02, "severity": "error", "text": "update to 2.5.0 failed"}], "FW-UPDATE-FAILED"),
        ([{"time": "-2d", "code": 0x0A03, "severity": "error", "text": "signature check failed"}], "FW-SIGNATURE"),
        ([{"time": "-3d", "code": 0x0A02, "severity": "error", "text": "failed"},
          {"time": "-2d", "code": 0x0A01, "severity": "info", "text": "firmware 2.4.1 installed"}], None),
    ],
)
def test_update_state_reads_failures_in_the_log_since_the_last_update_applied(tmp_path: Path, log: list,
                                                                              fault: str | None) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps({"spec": 2, "device": {"unit": {"base": "good", "event_log": log}}}))
    plan = tmp_path / "state.yaml"
    plan.write_text("plan: state\nsteps:\n  - name: state\n    check: unit.update_state\n")
    proc, record = run(tmp_path, plan, str(scenario))
    state = step(record, "state")
    assert (state["outcome"], state["fault"]) == (("PASS", None) if fault is None else ("FAIL", fault))
    assert proc.returncode == (0 if fault is None else 1)


# ------------------------------------------------------------------ progress


class _Ctx:
    def __init__(self) -> None:
        self.shown: list[Progress] = []

    def progress(self, done: int, total: int | None, counts: object = None, text: str = "") -> None:
        self.shown.append(Progress(done, total, {}, text))

    def check_cancelled(self) -> None:
        pass


def test_progress_shows_bytes_rate_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [10.0]
    monkeypatch.setattr("bench.checks.unitfirmware.time.monotonic", lambda: clock[0])
    ctx = _Ctx()
    meter = _Meter(ctx)  # type: ignore[arg-type]
    for done in range(0, 65536 + 1, 4096):  # 4 KiB a second
        meter(done, 65536)
        clock[0] += 1.0
    first, middle, last = ctx.shown[0], ctx.shown[8], ctx.shown[-1]
    assert (first.done, first.total, first.text) == (0, 65536, "0.0 KiB/s, time left unknown")
    assert (middle.done, middle.text) == (32768, "4.0 KiB/s, 0:08 left")
    assert last.text == "4.0 KiB/s, 0:00 left"
    assert meter.transfer_s() == 16.0
    meter(8192, 65536)  # the unit lost power and asks for offset 8192 again: the rate starts over
    assert re.fullmatch(r"0\.0 KiB/s, time left unknown", ctx.shown[-1].text)



@pytest.mark.slow
def test_allow_downgrade_on_the_command_line_lets_the_plans_flash_step_go_back(tmp_path: Path) -> None:
    old = tmp_path / "old.img"
    old.write_bytes(sim_image("2.4.0", 4096).to_bytes())
    proc, record = run(tmp_path, write_plan(tmp_path, image=str(old)), "good", "--allow-downgrade")
    assert proc.returncode == 0, record.get("summary")
    assert measured(record, "flash")["version_after"] == "2.4.0"
    # A plan that flashes nothing: the option would do nothing, so it is refused before anything runs.
    proc, record = run(tmp_path, "pos-quick", "good", "--allow-downgrade")
    assert (proc.returncode, record) == (2, {})
    assert proc.stderr.strip() == "bench: error: --allow-downgrade: plan pos-quick has no unit.firmware_update step"
