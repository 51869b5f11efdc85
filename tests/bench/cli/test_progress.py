"""A long step's progress (a soak): the live bar on a terminal, spaced plain lines in a log, the multi-up row."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from bench.checks.base import Progress
from bench.cli import console as console_mod
from bench.cli.console import ConsoleListener, progress_line
from bench.cli.multiconsole import MultiConsole
from bench.record import Outcome, StepRecord

COUNTS = {"approved": 790, "declined": 12, "failed": 10}


def test_the_line_shows_share_counts_and_phrase_and_the_bar_only_on_a_terminal() -> None:
    p = Progress(812, 3000, COUNTS, "soak 16.2/60 min")
    with_bar = progress_line("soak", p, bar=True)
    assert with_bar.startswith("  soak  [######..................]  812/3000 (27%)")
    assert with_bar.endswith("approved 790  declined 12  failed 10  soak 16.2/60 min")
    assert "[" not in progress_line("soak", p, bar=False)
    assert progress_line("soak", Progress(5, None, {})) == "  soak  5"


def test_device_text_in_a_progress_line_is_inert() -> None:
    line = progress_line("soak\x1b[2J", Progress(1, 2, {"bad\u202ename": 1}, "x\ny"))
    assert "\x1b" not in line and "\u202e" not in line and "\n" not in line


def test_a_log_gets_a_line_at_the_start_then_one_every_few_seconds(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(console_mod.time, "monotonic", lambda: clock[0])
    listener = ConsoleListener(tty=False)
    for done in range(0, 50):
        listener.step_progress("soak", Progress(done, 50, COUNTS))
        clock[0] += 1.0  # 50 reports a second apart: the first, then one every PLAIN_PROGRESS_EVERY s
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  soak  0/50 (0%)")
    assert len(lines) == 1 + 49 // int(console_mod.PLAIN_PROGRESS_EVERY)
    assert lines[1].startswith(f"  soak  {int(console_mod.PLAIN_PROGRESS_EVERY)}/50")


def test_a_terminal_rewrites_one_line_and_clears_it_when_the_step_ends(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(console_mod.time, "monotonic", lambda: clock[0])
    listener = ConsoleListener(tty=True)
    for done in range(3):
        listener.step_progress("soak", Progress(done, 3, {}))
        clock[0] += 1.0
    rec = StepRecord(0, "soak", "soak.sales", Outcome.PASS, datetime(2026, 12, 7, tzinfo=UTC), 3.0, 1, None, "")
    listener.step_ended(rec, 1)
    out = capsys.readouterr().out
    assert out.count("\r") == 4  # three redraws, one clear (the erase code only reaches a real terminal)
    assert out.endswith("\r  1/1  soak ....................... PASS      3.00 s\n")


def test_a_run_that_ends_mid_bar_ends_the_line_so_the_error_starts_its_own(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Review of #18: Ctrl-C mid-flash printed "... 0:04 leftbench: error: interrupted ...".
    listener = ConsoleListener(tty=True)
    listener.step_progress("flash", Progress(27720, 65536, {}, "10.4 KiB/s, 0:04 left"))
    listener.end_live_line()
    listener.end_live_line()  # once only
    assert capsys.readouterr().out.endswith("27720/65536 (42%)  10.4 KiB/s, 0:04 left\n")
    ConsoleListener(tty=True).end_live_line()  # nothing live: nothing written
    assert capsys.readouterr().out == ""


def test_the_multi_up_table_shows_a_slots_counts_and_plain_output_spaces_them(
        capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2], "soak-demo", 1, tty=False)
    listener = console.listener(2)
    listener.step_progress("soak", Progress(10, 100, COUNTS))
    listener.step_progress("soak", Progress(11, 100, COUNTS))  # within PLAIN_PROGRESS_EVERY: not printed
    out = capsys.readouterr().out.splitlines()
    assert out == ["[slot 2] soak  10/100 (10%)  approved 790  declined 12  failed 10"]
    live = MultiConsole([1], "soak-demo", 1, tty=True, file=io.StringIO(), width=120)
    live.listener(1).step_progress("soak", Progress(7, 70, {"approved": 7}))
    assert live._rows[1].progress == "7/70 (10%)  approved 7"
