"""The console of a multi-up run: one row (or one line prefix) per slot, and the summary table at the end.

On a terminal a live table (rich's ``Live``) shows each slot's unit, step, progress, failures
so far and verdict, redrawn a few times a second from rich's own thread; the runners' threads
only update the state under one lock, so a step never waits on the terminal. In a log or CI
the same events are plain lines prefixed by their slot, one write per line under that lock,
so lines from different slots never interleave. Device text (serials, messages, faults) is
escaped with :func:`bench.cli.safe.one_line` and handed to rich as ``Text`` objects on a
console with markup, emoji and highlighting off, so ``[red]`` or an escape sequence in a
unit's serial is shown as it is and styles nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from bench.cli import safe
from bench.cli.console import (
    _VERDICT_COLOURS,
    PLAIN_PROGRESS_EVERY,
    PLAIN_WAIT_EVERY,
    progress_line,
    step_line,
    tally_text,
    unit_text,
)
from bench.cli.tables import aside, listing, word
from bench.i18n.layout import display_width, pad
from bench.plan import Step
from bench.record import Outcome, RunRecord, StepRecord, Verdict
from drivers.i18n import _, ngettext, tr

if TYPE_CHECKING:
    from bench.checks.base import Progress

#: Redraws a second of the live table (rich's refresh thread; the runners never draw).
REFRESH_PER_SECOND = 4
_FAILED = (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT)
_NAME_WIDTH = 28


class SlotResult(Protocol):
    """What :meth:`MultiConsole.print_summary` reads of each slot's end (the multi-up run's result)."""

    @property
    def slot(self) -> int:
        """The slot number."""

    @property
    def record(self) -> RunRecord | None:
        """The slot's run record (None: the bench failed before its first step)."""

    @property
    def report(self) -> Path | None:
        """The slot's report folder, if one was written."""

    @property
    def error(self) -> str | None:
        """Why the slot has no record (or its report none), on one line."""


@dataclass
class _Row:
    """One slot's state, as the live table shows it (changed only under the console's lock)."""

    slot: int
    total: int
    serial: str = ""
    step: str = ""
    attempt: int = 1
    done: int = 0
    failures: int = 0
    first_fault: str = ""
    waiting: tuple[float, float] | None = None  # (waited, limit) while waiting for the unit
    verdict: Verdict | None = None
    error: str = ""
    wait_shown: float = 0.0
    progress: str = ""  # a long step's live counts ("812/3000 (27%)  approved 790 ...")
    progress_at: float | None = None  # when its last plain line was written


def first_fault(record: RunRecord | None, error: str | None = None) -> str:
    """The one-line reason a unit did not pass: its first finding, else its first faulty step, else ``error``."""
    if record is not None:
        if record.verdict == Verdict.ABORTED and record.summary:
            return tr(record.summary)  # "interrupted by ...": not a fault of the unit or the bench
        if record.findings:
            f = record.findings[0]
            return f"{f.fault}  {tr(f.title)}"
        for s in record.steps:
            if s.outcome != Outcome.PASS and s.fault:
                return f"{s.fault}  {tr(s.message)}".rstrip()
        for s in record.steps:
            if s.outcome in _FAILED:
                return f"{s.name}: {tr(s.message)}".rstrip(": ")
        if record.verdict not in (Verdict.PASS, Verdict.RUNNING) and record.summary and not error:
            return tr(record.summary)
    return tr(error) if error else ""


def _report_file(report: Path | str | None) -> str:
    return str(Path(report) / "report.html") if report else ""


def _verdict_text(verdict: Verdict) -> Text:
    return Text(word(verdict), style=f"bold {_VERDICT_COLOURS.get(verdict, 'white')}")


def _text(value: object, style: str = "") -> Text:
    """Device (or any) text for rich: escaped onto one line, never parsed as markup."""
    return Text(safe.one_line(value), style=style)


class SlotListener:
    """The :class:`bench.runner.RunListener` of one slot: forwards each event to its :class:`MultiConsole`."""

    def __init__(self, console: MultiConsole, slot: int) -> None:
        self.console = console
        self.slot = slot

    def run_started(self, record: RunRecord) -> None:
        """The unit identified itself (or not): its serial goes on the slot's row."""
        self.console._run_started(self.slot, record)

    def step_started(self, step: Step, index: int, total: int, attempt: int) -> None:
        """The slot's current step."""
        self.console._step_started(self.slot, step.name, index, total, attempt)

    def step_ended(self, record: StepRecord, total: int) -> None:
        """A step of the slot ended."""
        self.console._step_ended(self.slot, record, total)

    def waiting(self, what: str, waited: float, limit: float) -> None:
        """The slot waits for its unit (it dropped off its port)."""
        self.console._waiting(self.slot, what, waited, limit)

    def wait_ended(self, what: str, answered: bool, waited: float) -> None:
        """The slot's wait ended."""
        self.console._wait_ended(self.slot, what, answered, waited)

    def step_progress(self, step: str, progress: Progress) -> None:
        """How the slot's long step (a soak) is going."""
        self.console._progress(self.slot, step, progress)


class MultiConsole:
    """The console of a run on several slots at once, safe to call from every slot's thread.

    Args:
        slots: the slot numbers, in the order their rows are shown.
        plan_name: shown in the live table's title.
        total_steps: the plan's step count (each slot's own count replaces it once its steps start).
        err: write to stderr (stdout carries JSON) instead of stdout.
        tty: live table (True) or plain lines (False); None: whether the stream is a terminal.
        file: write there instead of stdout/stderr (tests); with ``tty`` True, as a terminal.
        width: the live and summary tables' width (None: the terminal's).
    """

    def __init__(self, slots: Sequence[int], plan_name: str, total_steps: int, *, err: bool = False,
                 tty: bool | None = None, file: IO[str] | None = None, width: int | None = None) -> None:
        self.plan_name = plan_name
        self.total_steps = total_steps
        self.err = err
        self.tty = _is_terminal(err) if tty is None else tty
        self._file = file
        self._lock = threading.Lock()  # the state and the plain lines
        self._live_lock = threading.Lock()  # starting/stopping the live table; taken before _lock, never inside it
        self._rows = {n: _Row(n, total_steps) for n in slots}
        self._prefix_width = max((display_width(_slot_prefix(n)) for n in slots), default=8)
        self._pauses = 0
        self._held: list[tuple[str | safe.Styled, ...]] = []  # plain lines written while a prompt is shown
        self._rich: Console | None = None
        self._live: Live | None = None
        if self.tty:
            self._rich = Console(file=file, stderr=err, force_terminal=True, width=width, markup=False,
                                 emoji=False, highlight=False)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> MultiConsole:
        """On a terminal, start the live table; nothing on plain output."""
        with self._live_lock:
            if self._rich is not None and self._live is None:
                # Lines others write to the terminal (log records, an operator's instruction) go above
                # the table; stdout is left alone when it carries JSON (err=True).
                real = self._file is None
                self._live = Live(console=self._rich, get_renderable=self.live_table,
                                  refresh_per_second=REFRESH_PER_SECOND, transient=False,
                                  redirect_stdout=real and not self.err,
                                  redirect_stderr=real and (self.err or _is_terminal(err=True)))
                self._live.start(refresh=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the live table, leaving its last frame on the screen."""
        with self._live_lock:
            live, self._live = self._live, None
            if live is not None and self._pauses == 0:
                live.transient = False
                live.stop()
            with self._lock:
                self._write_held()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While a prompt is asked on the terminal: the live table is taken off the screen and redrawn after.

        In plain mode the slots' lines are held meanwhile and written when the last prompt ends,
        so none lands in the middle of a question. The runners' events are never blocked.
        """
        with self._live_lock:
            with self._lock:
                self._pauses += 1
                first = self._pauses == 1
            if first and self._live is not None:
                self._live.transient = True  # erase the table: the prompt takes its place
                self._live.stop()
        try:
            yield
        finally:
            with self._live_lock:
                with self._lock:
                    self._pauses -= 1
                    last = self._pauses == 0
                    if last:
                        self._write_held()
                if last and self._live is not None:
                    self._live.transient = False
                    self._live.start(refresh=True)

    def listener(self, slot: int) -> SlotListener:
        """The run listener of ``slot`` (a :class:`bench.runner.RunListener`)."""
        with self._lock:
            self._row(slot)
        return SlotListener(self, slot)

    # ------------------------------------------------------------------ the end of a slot
    def slot_failed(self, slot: int, message: str) -> None:
        """The slot ended without a record (the bench failed before its first step)."""
        with self._lock:
            row = self._row(slot)
            row.error = message
            row.waiting = None
            self._line(slot, _("bench error: "), safe.style(tr(message), fg="magenta"))

    def slot_done(self, slot: int, record: RunRecord, report_path: Path | str | None) -> None:
        """The slot's run ended with ``record``; its report (folder) is at ``report_path``."""
        with self._lock:
            row = self._row(slot)
            row.verdict = record.verdict
            row.waiting = None
            row.done = max(row.done, len(record.steps))
            if record.unit is not None:
                row.serial = record.unit.serial
            counts: dict[str, int] = {}
            for s in record.steps:
                counts[s.outcome.value] = counts.get(s.outcome.value, 0) + 1
            tally = tally_text(counts)
            fault = first_fault(record)
            colour = _VERDICT_COLOURS.get(record.verdict, "white")
            parts: list[str | safe.Styled] = [_("verdict "), safe.style(word(record.verdict), fg=colour, bold=True),
                                              "  " + aside(tally) if tally else ""]
            if fault:
                parts.append(f"  {safe.one_line(fault)}")
            if report_path:
                parts.append("  " + _("report: {path}").format(path=_report_file(report_path)))
            self._line(slot, *parts)

    # ------------------------------------------------------------------ the listener's events
    def _run_started(self, slot: int, record: RunRecord) -> None:
        with self._lock:
            row = self._row(slot)
            u = record.unit
            row.serial = u.serial if u is not None else row.serial
            self._line(slot, _("{plan} {version} on {unit}").format(plan=record.plan_name, version=record.plan_version,
                                                                      unit=safe.one_line(unit_text(u))))

    def _step_started(self, slot: int, name: str, index: int, total: int, attempt: int) -> None:
        with self._lock:
            row = self._row(slot)
            row.step, row.total, row.attempt = name, total, attempt

    def _step_ended(self, slot: int, rec: StepRecord, total: int) -> None:
        with self._lock:
            row = self._row(slot)
            row.total = total
            row.progress, row.progress_at = "", None
            row.done = max(row.done, rec.index + 1)
            if rec.outcome in _FAILED:
                row.failures += 1
                if not row.first_fault:
                    row.first_fault = rec.fault or rec.name
            if self.tty:
                return
            self._line(slot, *step_line(rec, total, _NAME_WIDTH))

    def _waiting(self, slot: int, what: str, waited: float, limit: float) -> None:
        with self._lock:
            row = self._row(slot)
            row.waiting = (waited, limit)
            if self.tty:
                return
            if waited == 0:
                row.wait_shown = 0.0
                self._line(slot, _("waiting up to {limit} s for {what} (check its power and cable)").format(
                    limit=f"{limit:g}", what=safe.one_line(tr(what))))
            elif waited - row.wait_shown >= PLAIN_WAIT_EVERY:
                row.wait_shown = waited
                self._line(slot, _("still waiting for {what}: {waited} s of {limit} s").format(
                    what=safe.one_line(tr(what)), waited=int(waited), limit=f"{limit:g}"))

    def _progress(self, slot: int, step: str, progress: Progress) -> None:
        line = progress_line(step, progress, bar=False).strip()
        with self._lock:
            row = self._row(slot)
            row.progress = line.removeprefix(safe.one_line(step)).strip()
            if self.tty:
                return
            now = time.monotonic()
            if row.progress_at is None or now - row.progress_at >= PLAIN_PROGRESS_EVERY:
                row.progress_at = now
                self._line(slot, line)

    def _wait_ended(self, slot: int, what: str, answered: bool, waited: float) -> None:
        with self._lock:
            self._row(slot).waiting = None
            if answered:
                self._line(slot, _("the unit answered again after {waited} s").format(waited=f"{waited:.1f}"))
            else:
                self._line(slot, _("the unit did not answer again within {waited} s: the steps that need it are "
                                   "skipped").format(waited=f"{waited:.0f}"))

    # ------------------------------------------------------------------ drawing
    def _row(self, slot: int) -> _Row:
        """``slot``'s row, added (at the end) for a slot the console was not told of (caller holds the lock)."""
        if slot not in self._rows:
            self._rows[slot] = _Row(slot, self.total_steps)
            self._prefix_width = max(self._prefix_width, display_width(_slot_prefix(slot)))
        return self._rows[slot]

    def _line(self, slot: int, *parts: str | safe.Styled) -> None:
        """One plain line for ``slot`` (caller holds the lock; nothing on a terminal, the table shows it)."""
        if self.tty:
            return
        line = (pad(_slot_prefix(slot), self._prefix_width) + " ", *parts)
        if self._pauses:
            self._held.append(line)
        else:
            safe.echo(*line, err=self.err, file=self._file)

    def _write_held(self) -> None:
        """The plain lines held during a prompt (caller holds the lock)."""
        held, self._held = self._held, []
        for line in held:
            safe.echo(*line, err=self.err, file=self._file)

    def live_table(self, width: int | None = None) -> Table:
        """The live table as it stands, fitted to ``width`` (default: the console's): one row per slot.

        Called by rich's refresh thread; it copies the rows under the lock and draws outside it.
        """
        with self._lock:
            rows = [replace(r) for r in self._rows.values()]
        width = width or (self._rich.width if self._rich is not None else 100)
        counter = max((len(f"{r.total}/{r.total}") for r in rows), default=5)
        bar, widths = _live_widths(width, counter)
        n_done = sum(1 for r in rows if r.verdict is not None or r.error)
        table = Table(title=_text(_("bench run {plan}: {done} of {total} units done").format(
            plan=self.plan_name, done=n_done, total=len(rows))), title_justify="left")
        table.add_column(_("slot"), justify="right", no_wrap=True, width=4)
        for name, w in zip((_("unit"), _("step")), widths[:2], strict=True):
            table.add_column(name, no_wrap=True, overflow="ellipsis", width=w)
        table.add_column(_("progress"), no_wrap=True, width=bar + counter + (1 if bar else 0))
        for name, w in zip((_("fails"), _("status")), widths[2:], strict=True):
            table.add_column(name, no_wrap=True, overflow="ellipsis", width=w)
        for r in rows:
            table.add_row(*_cells(r, bar, counter))
        return table

    # ------------------------------------------------------------------ the end table
    def print_summary(self, results: Sequence[SlotResult]) -> None:
        """The end table (slot, serial, verdict, first fault, report), then one line of counts."""
        rows: list[tuple[str, str, Verdict, str, str]] = []
        for res in sorted(results, key=lambda r: r.slot):
            rec = res.record
            serial = rec.unit.serial if rec is not None and rec.unit is not None else ""
            verdict = rec.verdict if rec is not None else Verdict.ERROR
            rows.append((str(res.slot), safe.one_line(serial), verdict, safe.one_line(first_fault(rec, res.error)),
                         safe.one_line(_report_file(res.report))))
        counts: dict[Verdict, int] = {}
        for row in rows:
            counts[row[2]] = counts.get(row[2], 0) + 1
        tally = listing(f"{counts[v]} {word(v)}" for v in Verdict if v in counts)
        total = ngettext("{n} unit: {tally}", "{n} units: {tally}", len(rows)).format(n=len(rows), tally=tally)
        with self._lock:
            if self._rich is not None:
                self._rich_summary(rows, total)
            else:
                self._plain_summary(rows, total)

    def _rich_summary(self, rows: list[tuple[str, str, Verdict, str, str]], total: str) -> None:
        assert self._rich is not None
        table = Table()
        table.add_column(_("slot"), justify="right", no_wrap=True)
        table.add_column(_("serial"), overflow="fold")
        table.add_column(_("verdict"))
        table.add_column(_("first fault"), overflow="fold")
        table.add_column(_("report"), overflow="fold")
        for slot, serial, verdict, fault, report in rows:
            table.add_row(Text(slot), Text(serial), _verdict_text(verdict), Text(fault), Text(report))
        self._rich.print(table)
        self._rich.print(Text(total), soft_wrap=True)

    def _plain_summary(self, rows: list[tuple[str, str, Verdict, str, str]], total: str) -> None:
        head = (_("slot"), _("serial"), _("verdict"), _("first fault"), _("report"))
        cells = [head, *[(s, n, word(v), f, r) for s, n, v, f, r in rows]]
        widths = [max(display_width(c[i]) for c in cells) for i in range(len(head) - 1)]
        safe.echo("", err=self.err, file=self._file)
        for i, (slot, serial, verdict, fault, report) in enumerate(cells):
            colour = None if i == 0 else _VERDICT_COLOURS.get(rows[i - 1][2], "white")
            shown: str | safe.Styled = verdict if colour is None else safe.style(verdict, fg=colour, bold=True)
            safe.echo(f"{pad(slot, widths[0], '>')}  {pad(serial, widths[1])}  ", shown,
                      " " * (widths[2] - display_width(verdict)),
                      f"  {pad(fault, widths[3])}  {report}".rstrip(), err=self.err, file=self._file)
        safe.echo(total, err=self.err, file=self._file)


def _cells(r: _Row, bar: int, counter: int) -> tuple[RenderableType, ...]:
    """One slot's row of the live table."""
    count = Text(f"{r.done}/{r.total}".rjust(counter))
    progress: RenderableType = count
    if bar:
        total = max(r.total, 1)
        grid = Table.grid(padding=(0, 1))
        grid.add_row(ProgressBar(total=total, completed=min(r.done, total), width=bar, complete_style="cyan",
                                 finished_style="green"), count)
        progress = grid
    running = r.verdict is None and not r.error
    step = _text(r.step) if r.step and running else Text("")
    fails = _text(f"{r.failures} {r.first_fault}".rstrip(), "red") if r.failures else Text("0", style="dim")
    if r.error:
        status = _text(_("bench error: ") + tr(r.error), "bold magenta")
    elif r.verdict is not None:
        status = _verdict_text(r.verdict)
    elif r.waiting is not None:
        status = Text(_("waiting for the unit ... {waited} s").format(waited=int(r.waiting[0])), style="yellow")
    elif r.step and r.progress:
        status = _text(r.progress, "cyan")
    elif r.step:
        status = Text(_("running (try {n})").format(n=r.attempt) if r.attempt > 1 else _("running"), style="cyan")
    else:
        status = Text(_("starting"), style="dim")
    serial = _text(r.serial) if r.serial else Text("-", style="dim")
    return Text(str(r.slot)), serial, step, progress, fails, status


def _live_widths(width: int, counter: int) -> tuple[int, list[int]]:
    """The progress bar's width, and the unit, step, fails and status columns' widths that fit ``width``.

    Each column gets its least, then the room left is shared toward each one's most (left to
    itself, rich squeezes the narrow columns, the slot first, to nothing).
    """
    bar = 16 if width >= 110 else 8 if width >= 80 else 0
    room = width - 19 - 4 - counter - (bar + 1 if bar else 0)  # 6 columns: 7 rules and 12 padding
    least, most = [14, 10, 5, 8], [20, 24, 16, 48]  # the unit first: a serial cut short tells the rows apart no more
    spare = room - sum(least)
    if spare <= 0:
        return bar, least
    share = min(1.0, spare / sum(m - n for n, m in zip(least, most, strict=True)))
    return bar, [n + int((m - n) * share) for n, m in zip(least, most, strict=True)]


def _slot_prefix(slot: int) -> str:
    return _("[slot {n}]").format(n=slot)


def _is_terminal(err: bool) -> bool:
    stream: Any = sys.stderr if err else sys.stdout
    if os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


__all__ = ["REFRESH_PER_SECOND", "MultiConsole", "SlotListener", "SlotResult", "first_fault"]
