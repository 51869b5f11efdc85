"""What a technician reads on the console: the bench's words first, the wire's facts in the step log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli.console import ConsoleListener

ROOT = Path(__file__).resolve().parents[3]


def run_sim(tmp_path: Path, plan: str, scenario: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "run", plan, "--sim", "--scenario", scenario,
         "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r"), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=180)


def step_line(out: str, name: str) -> str:
    return next(ln for ln in out.splitlines() if f" {name} ." in ln)


def run_json(tmp_path: Path) -> dict:
    return json.loads(next((tmp_path / "r").glob("*/run.json")).read_text())


@pytest.mark.slow
def test_a_unit_that_stops_answering_is_said_plainly_and_the_wait_is_shown(tmp_path: Path) -> None:
    proc = run_sim(tmp_path, "pos-full", "unit-stops-answering")
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    line = step_line(out, "magstripe")
    assert line.endswith("LINK-NO-RESPONSE  the unit stopped answering on its diagnostic port"), line
    assert "/tmp/bench-sim" not in out and "tries of" not in out
    lines = out.splitlines()
    start = lines.index("  waiting up to 15 s for the unit to answer again on its diagnostic port (check its power and cable)")
    assert lines[start - 1] == line  # said as soon as the step ends, not after the wait
    progress = [ln for ln in lines if ln.startswith("  still waiting for the unit to answer again")]
    assert progress and all(ln.endswith(" of 15 s") for ln in progress)  # plain lines: not a terminal
    assert "\r" not in out and "\x1b" not in out
    assert "  the unit did not answer again within 15 s: the steps that need it are skipped" in lines
    # The wire-level facts are kept in the step's log, in the stored record and the report.
    step = next(s for s in run_json(tmp_path)["steps"] if s["name"] == "magstripe")
    assert step["message"] == "the unit stopped answering on its diagnostic port"
    assert any(entry.startswith("detail: MSR_ENABLE: no answer from unit on ") and "after 4 tries of 0.5 s" in entry
               for entry in step["log"])


@pytest.mark.slow
def test_json_stdout_carries_no_wait_lines(tmp_path: Path) -> None:
    proc = run_sim(tmp_path, "pos-quick", "unit-stops-answering", "--json")
    json.loads(proc.stdout)  # nothing but the record
    assert "waiting" not in proc.stdout and "waiting" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "step", "expected"),
    [
        ("firmware-old", "firmware", "FW-OUTDATED  firmware 1.9.0 is older than the minimum 2.0.0: update required"),
        ("tampered", "tamper",
         "SEC-TAMPER  the unit reports it was tampered with; the unit's payment keys are erased"),
    ],
)
def test_failed_yes_no_measurements_say_what_they_mean(tmp_path: Path, scenario: str, step: str,
                                                       expected: str) -> None:
    proc = run_sim(tmp_path, "pos-quick", scenario)
    assert proc.returncode == 1, proc.stderr
    line = step_line(proc.stdout, step)
    assert line.endswith(expected), line
    assert "True" not in line and "False" not in line


@pytest.mark.slow
def test_the_report_leads_a_failed_measurement_with_its_meaning(tmp_path: Path) -> None:
    run_sim(tmp_path, "pos-quick", "firmware-old")
    html = next((tmp_path / "r").glob("*/report.html")).read_text()
    row = next(r for r in html.split("<tr") if "firmware_current" in r)
    assert "firmware 1.9.0 is older than the minimum 2.0.0" in row
    assert ">no<" in row and ">yes<" in row and "True" not in row and "False" not in row
    measured = next(m for s in run_json(tmp_path)["steps"] for m in s["measurements"] if m["name"] == "firmware_current")
    assert measured["value"] is False and measured["limit"]["equals"] is True  # --json stays as it was


def test_on_a_terminal_the_wait_is_one_live_line(capsys: pytest.CaptureFixture[str]) -> None:
    console = ConsoleListener(tty=True)
    what = "the unit to answer again on its diagnostic port"
    console.waiting(what, 0.0, 15.0)
    for waited in (0.2, 0.4, 1.1, 1.5, 2.3, 3.0):
        console.waiting(what, waited, 15.0)
    console.wait_ended(what, True, 3.2)
    out = capsys.readouterr().out
    first, live, rest = out.split("\n", 2)
    assert first == f"  waiting up to 15 s for {what} (check its power and cable)" and rest == ""
    # Each second rewrites the line ("\r" and, on a real terminal, "erase line", which Click drops here).
    assert live.replace("\x1b[2K", "").split("\r")[1:] == ["  ... 1 s of 15 s", "  ... 2 s of 15 s", "  ... 3 s of 15 s",
                                                             "  the unit answered again after 3.2 s"]


def test_off_a_terminal_the_wait_is_a_plain_line_now_and_then(capsys: pytest.CaptureFixture[str]) -> None:
    console = ConsoleListener(tty=False)
    what = "the unit"
    console.waiting(what, 0.0, 15.0)
    for tenth in range(1, 150):
        console.waiting(what, tenth / 10, 15.0)
    console.wait_ended(what, False, 15.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:-1] == ["  still waiting for the unit: 5 s of 15 s", "  still waiting for the unit: 10 s of 15 s"]
    assert lines[-1] == "  the unit did not answer again within 15 s: the steps that need it are skipped"


def test_console_echo_is_not_fooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live line is the only control sequence the console writes; a device's text is still escaped."""
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buf)
    console = ConsoleListener(tty=True)
    console.waiting("the unit\x1b]0;pwned\x07", 0.0, 15.0)
    assert "\x1b]" not in buf.getvalue() and "\\x1b]0;pwned\\x07" in buf.getvalue()


@pytest.mark.slow
def test_a_run_that_cannot_start_says_why_plainly_and_debug_adds_the_wire_facts(tmp_path: Path) -> None:
    proc = run_sim(tmp_path, "pos-quick", "unit-garbage")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["bench: error: the unit answers garbage on its diagnostic port"]
    debug = subprocess.run(
        [sys.executable, "-m", "bench", "--debug", "run", "pos-quick", "--sim", "--scenario", "unit-garbage",
         "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    said = [ln for ln in debug.stderr.splitlines() if ln.startswith("bench: ")]
    assert said[-1] == "bench: error: the unit answers garbage on its diagnostic port"
    assert said[-2].startswith("bench: detail: HELLO: unit on ") and said[-2].endswith("answered only garbage (4 tries)")
