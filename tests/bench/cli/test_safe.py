"""Text from a device never reaches a terminal with control characters (every command, every path)."""

from __future__ import annotations

import ast
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bench.cli import safe

ROOT = Path(__file__).resolve().parents[3]
EVIL_FW = "1\x1b]0;pwned\x07"
EVIL_MODEL = "PT-300\u202e\x9b2J"
EVIL_SERIAL = "PT3-EVIL\x1b[2J"
# What may reach a terminal: no C0 but newline, no DEL, no C1, no bidi or other format characters.
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def assert_inert(*texts: str) -> None:
    for text in texts:
        found = RAW_CONTROL.findall(text)
        assert not found, (found, text)


# --------------------------------------------------------------------------- the function
def test_echo_escapes_controls_but_keeps_newlines_and_own_colour() -> None:
    @click.command()
    def cmd() -> None:
        safe.echo("fw ", EVIL_FW, " ", safe.style("FAIL", fg="red"), "\nnext \u202eline\x9b")

    out = CliRunner().invoke(cmd, color=True).output
    assert out == "fw 1\\x1b]0;pwned\\x07 \x1b[31mFAIL\x1b[0m\nnext \\u202eline\\x9b\n"
    assert safe.style(EVIL_FW + "\n", fg="red") == "\x1b[31m1\\x1b]0;pwned\\x07\\x0a\x1b[0m"
    assert safe.one_line("a\nb\tc") == "a\\x0ab\\x09c"
    assert safe.clean("a\nb\tc") == "a\nb\\x09c"


def test_echo_json_stays_json() -> None:
    doc = {"firmware": EVIL_FW + "\x9b\u202e\U000e0041", "note": "≤ 8.6 V"}
    @click.command()
    def cmd() -> None:
        safe.echo_json(json.dumps(doc, ensure_ascii=False))

    out = CliRunner().invoke(cmd).output
    assert_inert(out)
    assert json.loads(out) == doc and "≤ 8.6 V" in out


def test_log_lines_and_click_errors_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    record = logging.LogRecord("drivers.unit", logging.WARNING, __file__, 1, "unit said %s", (EVIL_FW,), None)
    assert safe.SafeFormatter("%(name)s: %(message)s").format(record) == "drivers.unit: unit said 1\\x1b]0;pwned\\x07"
    click.UsageError(f"no such thing {EVIL_FW}").show(file=safe.stream(err=True))
    err = capsys.readouterr().err
    assert_inert(err)
    assert "no such thing 1\\x1b]0;pwned\\x07" in err


def test_no_cli_module_writes_to_the_terminal_but_safe() -> None:
    """Every terminal write in bench/cli goes through bench.cli.safe (or it would not be escaped)."""
    banned = {("click", "echo"), ("click", "secho"), ("sys.stdout", "write"), ("sys.stderr", "write"),
              ("traceback", "print_exc"), ("click", "style")}
    for path in sorted((ROOT / "bench" / "cli").glob("*.py")):
        if path.name == "safe.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            assert not (isinstance(f, ast.Name) and f.id == "print"), f"{path.name}:{node.lineno} print()"
            if isinstance(f, ast.Attribute):
                owner = ast.unparse(f.value)
                assert (owner, f.attr) not in banned, f"{path.name}:{node.lineno} {owner}.{f.attr}"


# --------------------------------------------------------------------------- the real CLI
@pytest.fixture(scope="module")
def evil_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, subprocess.CompletedProcess[str]]:
    """One simulated run of a unit whose model, serial and firmware carry escape sequences."""
    tmp = tmp_path_factory.mktemp("evil")
    scenario = tmp / "evil.yaml"
    scenario.write_text(json.dumps({"spec": 2, "description": "a unit that answers with escape sequences",
                                    "device": {"unit": {"base": "good", "model": EVIL_MODEL, "serial": EVIL_SERIAL,
                                                        "firmware": EVIL_FW}}}))
    db = f"sqlite:///{tmp / 'bench.db'}"
    proc = bench("run", "testplans/pos-quick.yaml", "--sim", "--scenario", str(scenario), "--db", db,
                 "--report", str(tmp / "reports"))
    return tmp, db, proc


def test_run_prints_device_text_escaped(evil_run: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    _, _, proc = evil_run
    assert proc.returncode == 1, proc.stderr  # firmware "1..." is older than required
    assert_inert(proc.stdout, proc.stderr)
    assert "firmware 1\\x1b]0;pwned\\x07" in proc.stdout
    assert "PT-300\\u202e\\x9b2J PT3-EVIL\\x1b[2J" in proc.stdout


def test_run_json_keeps_the_data(evil_run: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    tmp, db, _ = evil_run
    proc = bench("run", "testplans/pos-quick.yaml", "--sim", "--scenario", str(tmp / "evil.yaml"), "--db", db,
                 "--report", str(tmp / "reports"), "--json")
    assert_inert(proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["unit"]["firmware"] == EVIL_FW


def test_history_trend_stats_print_device_text_escaped(
        evil_run: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    _, db, _ = evil_run
    for args in (("history", EVIL_SERIAL), ("trend", "voltage", "--serial", EVIL_SERIAL),
                 ("stats", "--model", EVIL_MODEL)):
        proc = bench(*args, "--db", db)
        assert proc.returncode == 0, proc.stderr
        assert_inert(proc.stdout, proc.stderr)
        assert "PT3-EVIL\\x1b[2J" in proc.stdout or "PT-300\\u202e\\x9b2J" in proc.stdout, proc.stdout
    history = bench("history", EVIL_SERIAL, "--db", db, "--json")
    assert json.loads(history.stdout)["runs"][0]["model"] == EVIL_MODEL


def test_report_rma_on_terminal_and_in_file_has_no_controls(
        evil_run: tuple[Path, str, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    _, db, _ = evil_run
    shown = bench("report", "latest", "--format", "rma", "--db", db)
    assert shown.returncode == 0, shown.stderr
    assert_inert(shown.stdout, shown.stderr)
    assert "| Firmware | 1\\\\x1b\\]0;pwned\\\\x07 |" in shown.stdout  # Markdown-escaped backslashes
    written = bench("report", "latest", "--format", "rma", "--out", str(tmp_path), "--db", db)
    assert written.returncode == 0, written.stderr
    assert_inert((tmp_path / "rma.md").read_text(encoding="utf-8"))
    assert shown.stdout == (tmp_path / "rma.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["json", "rma-json"])
def test_report_json_is_json_without_raw_controls(
        evil_run: tuple[Path, str, subprocess.CompletedProcess[str]], fmt: str, tmp_path: Path) -> None:
    _, db, _ = evil_run
    for extra in ((), ("--json",)):
        proc = bench("report", "latest", "--format", fmt, "--db", db, *extra)
        assert proc.returncode == 0, proc.stderr
        assert_inert(proc.stdout)
        doc = json.loads(proc.stdout)
        doc = doc["content"] if extra else doc
        assert doc["unit"]["firmware"] == EVIL_FW
    bench("report", "latest", "--format", fmt, "--out", str(tmp_path), "--db", db)
    (written,) = tmp_path.iterdir()
    assert_inert(written.read_text(encoding="utf-8"))
    assert json.loads(written.read_text(encoding="utf-8"))["unit"]["firmware"] == EVIL_FW


def test_error_lines_are_escaped(tmp_path: Path) -> None:
    plan = tmp_path / "plan\x1b]0;pwned\x07.yaml"
    proc = bench("plan", "check", str(plan))
    assert proc.returncode == 2
    assert_inert(proc.stderr)
    assert "plan\\x1b]0;pwned\\x07.yaml" in proc.stderr
