"""The multi-up console: what a technician sees while several units run at once, and at the end."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bench.cli.multiconsole import MultiConsole, first_fault
from bench.diagnosis import diagnose, summarize, verdict_of
from bench.plan import Plan, load_plan
from bench.record import Outcome, RunRecord, StepRecord, UnitInfo, Verdict

ROOT = Path(__file__).resolve().parents[3]
PLAN = load_plan(ROOT / "testplans" / "pos-full.yaml")
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
EVIL_SERIAL = "SN[bold]7\x1b[2J\u202e"
SHOWN_EVIL = "SN[bold]7\\x1b[2J\\u202e"
# What may reach a terminal: no C0 but newline, no DEL, no C1, no bidi or other format characters.
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# rich's own drawing: colours (SGR), cursor moves and line erases, cursor show/hide.
RICH_OWN = re.compile(r"\x1b\[[0-9;]*[mAK]|\x1b\[\?25[lh]|\r")
LINE = re.compile(r"^\[slot (\d+)\] +(.*)$")


@dataclass
class Result:
    """What the multi-up run hands print_summary for each slot."""

    slot: int
    record: RunRecord | None
    report: Path | None
    error: str | None


def run_slot(console: MultiConsole, slot: int, plan: Plan, serial: str, fail_at: dict[int, str]) -> RunRecord:
    """Drive one slot's listener through a whole plan, as the runner does, with faults at the given steps."""
    rec = RunRecord(f"run-{slot}", plan.name, plan.version, plan.sha256, "fixture-a", "op", T0,
                    unit=UnitInfo("PT-300", serial, "B", "2.4.1"))
    listener = console.listener(slot)
    listener.run_started(rec)
    total = len(plan.steps)
    for i, step in enumerate(plan.steps):
        listener.step_started(step, i, total, 1)
        fault = fail_at.get(i)
        s = StepRecord(i, step.name, step.check.name, Outcome.FAIL if fault else Outcome.PASS, T0, 0.25 + i / 100,
                       1, fault, f"{step.name} failed" if fault else "")
        rec.steps.append(s)
        listener.step_ended(s, total)
    rec.findings = diagnose(rec.steps)
    rec.verdict = verdict_of(rec.steps)
    rec.summary = summarize(rec.verdict, rec.findings, rec.steps)
    console.slot_done(slot, rec, Path(f"/reports/{rec.run_id}"))
    return rec


def run_four(console: MultiConsole) -> list[Result]:
    """Slots 1-3 run the plan on their own threads (slot 3 fails its 12th step); slot 4's bench fails."""
    faults = {3: {11: "ICC-NO-ATR"}}
    records: dict[int, RunRecord] = {}

    def go(slot: int) -> None:
        records[slot] = run_slot(console, slot, PLAN, f"PT3-{slot:04d}", faults.get(slot, {}))

    threads = [threading.Thread(target=go, args=(n,)) for n in (1, 2, 3)]
    with console:
        for t in threads:
            t.start()
        console.slot_failed(4, "card reader pcsc://ACS ACR39U 03 00 did not answer")
        for t in threads:
            t.join()
    return [Result(n, records[n], Path(f"/reports/run-{n}"), None) for n in (1, 2, 3)] + [
        Result(4, None, None, "card reader pcsc://ACS ACR39U 03 00 did not answer")]


def plain_lines(text: str) -> dict[int, list[str]]:
    """The plain output's lines by slot; every line must carry its slot's prefix."""
    by_slot: dict[int, list[str]] = {}
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"a line without its slot: {line!r}"
        by_slot.setdefault(int(m.group(1)), []).append(m.group(2))
    return by_slot


# --------------------------------------------------------------------------- plain lines (a log, CI)
def test_plain_lines_carry_their_slot_and_never_interleave(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), tty=False)
    run_four(console)
    out, err = capsys.readouterr()
    assert err == ""
    by_slot = plain_lines(out)
    total = len(PLAN.steps)
    for slot in (1, 2, 3):
        lines = by_slot[slot]
        assert lines[0] == f"pos-full {PLAN.version} on PT-300 PT3-{slot:04d} (firmware 2.4.1)"
        steps = lines[1:-1]
        # Every step line whole, in the plan's order: number, name, dots, outcome, time.
        assert [int(s.split("/")[0]) for s in steps] == list(range(1, total + 1))
        for s, step in zip(steps, PLAN.steps, strict=True):
            assert re.fullmatch(rf" *\d+/{total}  {re.escape(step.name)} \.+ (PASS|FAIL) +\d+\.\d\d s.*", s), s
    assert f"[slot 3]  12/{total}  card-tap ................... FAIL      0.36 s  ICC-NO-ATR  card-tap failed\n" in out
    assert by_slot[1][-1] == f"verdict PASS  ({total} pass)  report: /reports/run-1/report.html"
    assert by_slot[3][-1].startswith(f"verdict FAIL  ({total - 1} pass, 1 fail)  ICC-NO-ATR  ")
    assert by_slot[3][-1].endswith("  report: /reports/run-3/report.html")
    assert by_slot[4] == ["bench error: card reader pcsc://ACS ACR39U 03 00 did not answer"]


def test_many_threads_at_once_write_whole_lines(capsys: pytest.CaptureFixture[str]) -> None:
    slots = list(range(1, 17))
    console = MultiConsole(slots, PLAN.name, len(PLAN.steps), tty=False)
    threads = [threading.Thread(target=run_slot, args=(console, n, PLAN, f"U{n}", {})) for n in slots]
    with console:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    by_slot = plain_lines(capsys.readouterr().out)
    assert sorted(by_slot) == slots
    assert all(len(lines) == len(PLAN.steps) + 2 for lines in by_slot.values())


def test_prefixes_line_up_across_one_and_two_digit_slots(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([3, 12], "p", 1, tty=False)
    console.slot_failed(3, "x")
    console.slot_failed(12, "y")
    assert capsys.readouterr().out == "[slot 3]  bench error: x\n[slot 12] bench error: y\n"


def test_device_text_is_inert_in_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([7], PLAN.name, len(PLAN.steps), tty=False)
    with console:
        rec = run_slot(console, 7, PLAN, EVIL_SERIAL, {2: "PRN-COVER-OPEN\x1b]0;x\x07"})
    console.print_summary([Result(7, rec, None, None)])
    out = capsys.readouterr().out
    assert not RAW_CONTROL.findall(out), out
    assert f"on PT-300 {SHOWN_EVIL} (firmware" in out
    assert "PRN-COVER-OPEN\\x1b]0;x\\x07" in out
    assert re.search(rf"^ +7  {re.escape(SHOWN_EVIL)}  FAIL  ", out, re.M), out


def test_a_prompt_holds_plain_lines_without_blocking_the_slots(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2], PLAN.name, len(PLAN.steps), tty=False)
    with console:
        with console.paused():
            other = threading.Thread(target=run_slot, args=(console, 2, PLAN, "U2", {}))
            other.start()
            other.join(timeout=60)
            assert not other.is_alive(), "a slot waited for the operator's prompt"
            assert capsys.readouterr().out == ""  # nothing lands in the middle of the question
        assert len(plain_lines(capsys.readouterr().out)[2]) == len(PLAN.steps) + 2


def test_a_wait_for_the_unit_is_announced_then_counted_then_ended(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([2], PLAN.name, len(PLAN.steps), tty=False)
    listener = console.listener(2)
    for waited in (0.0, 0.3, 4.9, 5.1, 7.0, 10.2):
        listener.waiting("the unit", waited, 15.0)
    listener.wait_ended("the unit", True, 11.04)
    assert plain_lines(capsys.readouterr().out)[2] == [
        "waiting up to 15 s for the unit (check its power and cable)",
        "still waiting for the unit: 5 s of 15 s",
        "still waiting for the unit: 10 s of 15 s",
        "the unit answered again after 11.0 s",
    ]


def test_err_sends_everything_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), err=True, tty=False)
    console.print_summary(run_four(console))
    out, err = capsys.readouterr()
    assert out == ""
    assert "[slot 3] verdict FAIL" in err
    assert err.rstrip().endswith("4 units: 2 PASS, 1 FAIL, 1 ERROR")


# --------------------------------------------------------------------------- the summary
def test_plain_summary_is_one_aligned_row_per_slot_and_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), tty=False)
    results = run_four(console)
    capsys.readouterr()
    console.print_summary(list(reversed(results)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ""
    header, rows, counts = lines[1], lines[2:6], lines[6:]
    assert header.split() == ["slot", "serial", "verdict", "first", "fault", "report"]
    assert [r.split()[:3] for r in rows[:3]] == [["1", "PT3-0001", "PASS"], ["2", "PT3-0002", "PASS"],
                                                 ["3", "PT3-0003", "FAIL"]]
    assert rows[2].split()[3] == "ICC-NO-ATR"
    assert rows[3].split()[:2] == ["4", "ERROR"]
    assert "card reader pcsc://ACS ACR39U 03 00 did not answer" in rows[3]
    assert all(row.index("report.html") == rows[0].index("report.html") for row in rows[:3])  # aligned
    assert {row.index(v) for row, v in zip(rows, ("PASS", "PASS", "FAIL", "ERROR"), strict=True)} == {
        header.index("verdict")}
    assert counts == ["4 units: 2 PASS, 1 FAIL, 1 ERROR"]


def test_first_fault_is_the_first_finding_else_the_step_fault_else_the_error() -> None:
    rec = run_slot(MultiConsole([1], "p", 1, tty=False, file=io.StringIO()), 1, PLAN, "U", {5: "PRN-COVER-OPEN"})
    assert first_fault(rec) == f"PRN-COVER-OPEN  {rec.findings[0].title}"
    rec.findings = []
    assert first_fault(rec) == f"PRN-COVER-OPEN  {PLAN.steps[5].name} failed"
    assert first_fault(None, "unit port /dev/ttyUSB3 not found") == "unit port /dev/ttyUSB3 not found"
    rec.steps = [s for s in rec.steps if s.outcome == Outcome.PASS]
    rec.verdict = Verdict.PASS
    assert first_fault(rec) == ""


# --------------------------------------------------------------------------- the live table (a terminal)
def live_console(width: int = 140, **kw: object) -> tuple[MultiConsole, io.StringIO]:
    buf = io.StringIO()
    return MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), tty=True, file=buf, width=width, **kw), buf  # type: ignore[arg-type]


def last_frame(raw: str) -> list[str]:
    """The live table's last drawing, as the screen shows it (rich's own codes removed)."""
    text = RICH_OWN.sub("", raw)
    return text[text.rindex("bench run pos-full:"):].splitlines()


def rows_of(frame: list[str]) -> dict[int, list[str]]:
    return {int(cells[0]): cells[1:] for line in frame if line.startswith("│")
            for cells in [[c.strip() for c in line.strip("│").split("│")]]}


def test_live_table_is_one_row_per_slot_with_its_verdict() -> None:
    console, buf = live_console()
    results = run_four(console)
    raw = buf.getvalue()
    frame = last_frame(raw)
    assert frame[0].rstrip() == "bench run pos-full: 4 of 4 units done"
    rows = rows_of(frame)
    total = len(PLAN.steps)
    assert sorted(rows) == [1, 2, 3, 4]
    assert rows[1][0] == "PT3-0001" and rows[1][2].endswith(f"{total}/{total}") and rows[1][4] == "PASS"
    assert rows[3][3] == "1 ICC-NO-ATR" and rows[3][4] == "FAIL"
    assert rows[4][0] == "-" and rows[4][2].endswith(f"0/{total}")
    assert rows[4][4].startswith("bench error: card reader")
    assert "[slot" not in raw  # no plain lines on a terminal
    # the summary, in a rich table on a terminal
    console.print_summary(results)
    summary = RICH_OWN.sub("", buf.getvalue()[len(raw):])
    srows = rows_of(summary.splitlines())
    assert [r[:2] for r in srows.values()] == [["PT3-0001", "PASS"], ["PT3-0002", "PASS"], ["PT3-0003", "FAIL"],
                                               ["", "ERROR"]]
    assert srows[3][2].startswith("ICC-NO-ATR") and srows[3][3] == "/reports/run-3/report.html"
    assert summary.rstrip().endswith("4 units: 2 PASS, 1 FAIL, 1 ERROR")


def test_live_table_shows_the_step_running_a_retry_and_a_wait() -> None:
    console, _ = live_console()
    a, b = console.listener(1), console.listener(2)
    a.step_started(PLAN.steps[4], 4, len(PLAN.steps), 2)
    b.step_started(PLAN.steps[7], 7, len(PLAN.steps), 1)
    b.waiting("the unit", 0.0, 15.0)
    b.waiting("the unit", 12.4, 15.0)
    out = Console(file=io.StringIO(), width=140, color_system=None)
    out.print(console.live_table())
    rows = rows_of(out.file.getvalue().splitlines())  # type: ignore[attr-defined]
    assert rows[1][1] == PLAN.steps[4].name and rows[1][4] == "running (try 2)"
    assert rows[2][1] == PLAN.steps[7].name and rows[2][4] == "waiting for the unit ... 12 s"
    assert rows[3][4] == "starting"
    b.wait_ended("the unit", True, 12.9)
    out = Console(file=io.StringIO(), width=140, color_system=None)
    out.print(console.live_table())
    assert rows_of(out.file.getvalue().splitlines())[2][4] == "running"  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 100, 160])
def test_live_table_fits_the_terminal(width: int) -> None:
    console, _ = live_console(width)
    run_slot(console, 2, PLAN, "SN-000123456789-A-VERY-LONG-SERIAL", {3: "PRN-COVER-OPEN"})
    console.slot_failed(4, "a bench error with a long message " * 4)
    out = Console(file=io.StringIO(), width=width, color_system=None)
    out.print(console.live_table())
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert all(len(line) <= width for line in lines)
    rows = rows_of(lines)
    assert sorted(rows) == [1, 2, 3, 4]  # the slot column is never squeezed away
    assert rows[2][4] == "FAIL" and rows[2][2].endswith(f"{len(PLAN.steps)}/{len(PLAN.steps)}")


def test_device_text_is_inert_in_the_live_table_and_summary() -> None:
    console, buf = live_console()
    with console:
        rec = run_slot(console, 1, PLAN, EVIL_SERIAL, {})
    console.print_summary([Result(1, rec, Path("/reports/x[red]y"), None)])
    raw = buf.getvalue()
    assert "\x1b[2J" not in raw and "\u202e" not in raw  # the serial's own sequence never reaches the terminal
    assert not RAW_CONTROL.findall(RICH_OWN.sub("", raw))
    assert SHOWN_EVIL in raw  # shown as it is: "[bold]" styled nothing (markup would have eaten it)
    assert "/reports/x[red]y/report.html" in raw


def test_live_table_goes_to_stderr_with_err(capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), err=True, tty=True, width=120)
    console.print_summary(run_four(console))
    out, err = capsys.readouterr()
    assert out == ""  # stdout is left to the JSON
    assert "bench run pos-full: 4 of 4 units done" in err
    assert "4 units: 2 PASS, 1 FAIL, 1 ERROR" in err


def test_pausing_takes_the_table_off_and_draws_it_again() -> None:
    console, buf = live_console()
    with console:
        before = buf.getvalue()
        with console.paused():
            during = buf.getvalue()
            console.listener(1).step_started(PLAN.steps[0], 0, len(PLAN.steps), 1)
            assert buf.getvalue() == during  # nothing is drawn while the operator is asked
        after = buf.getvalue()
    assert "bench run pos-full: 0 of 4 units done" in before
    height = len(last_frame(during))  # title, top rule, header, rule, 4 rows, bottom rule
    assert height == 9
    # Drawn once more, then erased line by line: the prompt takes the table's place.
    assert during.endswith("\x1b[?25h\r" + "\x1b[1A\x1b[2K" * height)
    assert PLAN.steps[0].name in RICH_OWN.sub("", after[len(during):])  # and drawn again after


@pytest.mark.parametrize("width", [80, 100])
def test_a_usual_serial_is_shown_whole_at_80_columns(width: int) -> None:
    console, _ = live_console(width)
    run_slot(console, 1, PLAN, "PT3-000123-01", {})
    run_slot(console, 2, PLAN, "PT3-000123-02", {})
    out = Console(file=io.StringIO(), width=width, color_system=None)
    out.print(console.live_table())
    rows = rows_of(out.file.getvalue().splitlines())  # type: ignore[attr-defined]
    assert [rows[1][0], rows[2][0]] == ["PT3-000123-01", "PT3-000123-02"]
