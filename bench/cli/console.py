"""The CLI layer's console: live step lines, the run summary, and the terminal operator.

This is the only place (with :mod:`bench.cli`) that writes to the terminal.
"""

from __future__ import annotations

import select
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli import safe
from bench.errors import OperatorTimeout
from bench.operator import Operator
from bench.plan import Step
from bench.record import Outcome, RunRecord, StepRecord, Verdict
from drivers.codecs.pan import redact

if TYPE_CHECKING:
    from bench.checks.base import Progress

_COLOURS = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.ERROR: "magenta",
    Outcome.TIMEOUT: "red",
    Outcome.SKIP: "yellow",
}
_VERDICT_COLOURS = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.ERROR: "magenta", Verdict.INCOMPLETE: "yellow",
                    Verdict.ABORTED: "yellow"}


#: Seconds between the plain "still waiting" lines when the console is not a terminal (a log, CI).
PLAIN_WAIT_EVERY = 5.0
#: Seconds between progress lines of a long step (a soak) when the console is not a terminal.
PLAIN_PROGRESS_EVERY = 10.0
_BAR = 24
_REWRITE = safe.Styled("\r\x1b[2K")  # back to the start of the line and clear it: the live line


class ConsoleListener:
    """Prints one line per step as the run goes (to stderr when stdout carries JSON).

    A wait with nothing else to show (a unit that dropped off its port) is announced with what
    is awaited and for how long, then shown as it goes: on a terminal a live line counting the
    seconds, otherwise a plain line every :data:`PLAIN_WAIT_EVERY` seconds.
    """

    def __init__(self, *, err: bool = False, width: int = 28, tty: bool | None = None) -> None:
        self.err = err
        self.width = width
        self._tty = tty
        self._shown = 0.0
        self._progress_at: float | None = None  # when the last progress line was drawn (None: none live)

    def _is_tty(self) -> bool:
        if self._tty is None:
            stream = sys.stderr if self.err else sys.stdout
            self._tty = bool(getattr(stream, "isatty", lambda: False)())
        return self._tty

    def waiting(self, what: str, waited: float, limit: float) -> None:
        """The start of a wait (``waited`` 0), then its progress."""
        if waited == 0:
            safe.echo(f"  waiting up to {limit:g} s for {what} (check its power and cable)", err=self.err)
            self._shown = 0.0
            return
        if self._is_tty():
            if int(waited) != int(self._shown):
                self._shown = waited
                safe.echo(_REWRITE, f"  ... {int(waited)} s of {limit:g} s", nl=False, err=self.err)
                (sys.stderr if self.err else sys.stdout).flush()
        elif waited - self._shown >= PLAIN_WAIT_EVERY:
            self._shown = waited
            safe.echo(f"  still waiting for {what}: {int(waited)} s of {limit:g} s", err=self.err)

    def wait_ended(self, what: str, answered: bool, waited: float) -> None:
        """How the wait ended, on its own line."""
        if self._is_tty() and self._shown:
            safe.echo(_REWRITE, nl=False, err=self.err)
        if answered:
            safe.echo(f"  the unit answered again after {waited:.1f} s", err=self.err)
        else:
            safe.echo(f"  the unit did not answer again within {waited:.0f} s: the steps that need it are skipped",
                      err=self.err)

    def run_started(self, rec: RunRecord) -> None:
        """The line above the steps: plan, unit, station."""
        u = rec.unit
        unit = f"{u.model} {u.serial} (firmware {u.firmware})" if u else "unit not identified"
        safe.echo(f"bench run  {rec.plan_name} {rec.plan_version}  on {safe.one_line(unit)}  station {rec.station}",
                  err=self.err)

    def step_started(self, step: Step, index: int, total: int, attempt: int) -> None:
        """Nothing to show until the step ends (retries are shown on the result line)."""

    def step_progress(self, step: str, progress: Progress) -> None:
        """A long step's progress: a live bar on a terminal, a plain line every few seconds otherwise."""
        now = time.monotonic()
        tty = self._is_tty()
        every = 0.2 if tty else PLAIN_PROGRESS_EVERY
        if self._progress_at is not None and now - self._progress_at < every:
            return
        first = self._progress_at is None
        self._progress_at = now
        line = progress_line(step, progress, bar=tty)
        if tty:
            safe.echo(_REWRITE, line, nl=False, err=self.err)
            (sys.stderr if self.err else sys.stdout).flush()
        elif not first or progress.done == 0:
            safe.echo(line, err=self.err)

    def end_live_line(self) -> None:
        """The run ends without its step's line (Ctrl-C, an error): keep the live line as it stood and
        end it, so what is written next starts a line of its own."""
        if (self._progress_at is not None or self._shown) and self._is_tty():
            safe.echo("", err=self.err)
        self._progress_at, self._shown = None, 0.0

    def step_ended(self, record: StepRecord, total: int) -> None:
        """One line: number, name, outcome, time, fault and message."""
        if self._progress_at is not None and self._is_tty():
            safe.echo(_REWRITE, nl=False, err=self.err)
        self._progress_at = None
        num_name, outcome, rest = step_line(record, total, self.width)
        safe.echo(f" {num_name}", outcome, rest, err=self.err)


def progress_line(step: str, progress: Progress, *, bar: bool = True) -> str:
    """``  soak [#####.......]  812/3000  approved 790  declined 12  failed 10`` (the bar only on a terminal)."""
    total = progress.total
    parts = [f"  {safe.one_line(step)}"]
    if total:
        share = min(1.0, max(0.0, progress.done / total))
        if bar:
            filled = round(share * _BAR)
            parts.append("[" + "#" * filled + "." * (_BAR - filled) + "]")
        parts.append(f"{progress.done}/{total} ({share:.0%})")
    else:
        parts.append(str(progress.done))
    for name, value in progress.counts.items():
        shown = f"{value:.0f}" if isinstance(value, float) else str(value)
        parts.append(f"{safe.one_line(name)} {shown}")
    if progress.text:
        parts.append(safe.one_line(progress.text))
    return "  ".join(parts)


def step_line(record: StepRecord, total: int, width: int) -> tuple[str, Any, str]:
    """A finished step's line in three parts: `` n/N  name .....``, the coloured outcome, then time and why.

    The one-unit console and the multi-up console's plain lines both print it.
    """
    num = f"{record.index + 1:>{len(str(total))}}/{total}"
    name = f"{record.name} ".ljust(width, ".")
    outcome = safe.style(f"{record.outcome.value:<7}", fg=_COLOURS[record.outcome], bold=True)
    tries = f" ({record.attempts} tries)" if record.attempts > 1 else ""
    detail = ""
    if record.outcome != Outcome.PASS:
        fault = f"{record.fault}  " if record.fault else ""
        # A step's message may quote what a device reported: masked like the reports (README "Card data").
        detail = safe.one_line(redact(f"  {fault}{record.message}"))
    return f" {num}  {safe.one_line(name)} ", outcome, f" {record.duration_s:6.2f} s{tries}{detail}"


def print_summary(rec: RunRecord, report_path: str | None, *, err: bool = False) -> None:
    """The verdict, the findings with their repair actions, and where the record is."""
    counts: dict[str, int] = {}
    for s in rec.steps:
        counts[s.outcome.value] = counts.get(s.outcome.value, 0) + 1
    tally = ", ".join(f"{n} {k.lower()}" for k, n in counts.items())
    verdict = safe.style(rec.verdict.value, fg=_VERDICT_COLOURS.get(rec.verdict, "white"), bold=True)
    if any(s.attachments for s in rec.steps):  # a soak's figures ride in its step's attachment
        from bench.cli.soakview import soak_lines

        for line in soak_lines(rec):
            safe.echo(line, err=err)
    safe.echo("\nVerdict: ", verdict, f"  ({tally})  {safe.one_line(redact(rec.summary))}", err=err)
    for f in rec.findings:
        where = "unit" if f.in_unit else "operator" if f.category == "operator" else "bench"
        safe.echo(f"  {f.fault:<16} {f.title} [{f.category}, {where}]", err=err)
        safe.echo(f"  {'':<16} part: {f.part}; action: {f.action}", err=err)
        if f.consequences:
            safe.echo(f"  {'':<16} also skipped because of it: {', '.join(f.consequences)}", err=err)
    safe.echo(f"Run {rec.run_id}", err=err)
    if report_path:
        folder = Path(report_path)
        also = "run.json, junit.xml" + (", fault report rma.md" if (folder / "rma.md").is_file() else "")
        safe.echo(f"Report: {folder / 'report.html'}  (also {also})", err=err)
        for file in sorted((folder / "attachments").glob("*")):
            label = "Receipt" if "receipt" in file.name else "Attachment"
            safe.echo(f"{label}: {file}", err=err)


class TerminalOperator(Operator):
    """A person at the bench, answering in the terminal. Every prompt has a timeout."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _read(self, question: str, timeout: float) -> str:
        safe.echo(question, nl=False, err=True)
        sys.stderr.flush()
        if not sys.stdin.isatty():
            line = sys.stdin.readline()
            if not line:
                raise OperatorTimeout("no operator response (no terminal)")
            return line.strip()
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        if not ready:
            safe.echo("", err=True)
            raise OperatorTimeout(f"no operator response within {timeout:g} s")
        return sys.stdin.readline().strip()

    def confirm(self, question: str, *, timeout: float) -> bool:
        """Ask yes/no."""
        while True:
            answer = self._read(f"{question} [y/n] ", timeout).lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Ask for one of ``options``."""
        while True:
            answer = self._read(f"{question} ({'/'.join(options)}) ", timeout)
            if answer in options:
                return answer

    def ask_text(self, question: str, *, timeout: float) -> str:
        """Ask for a line of text."""
        return self._read(f"{question} ", timeout)

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Show the instruction; the check then waits for the device to see it."""
        safe.echo(safe.style(f">>> {instruction}", bold=True), err=True)
