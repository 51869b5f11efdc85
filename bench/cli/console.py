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
from bench.cli.tables import aside, listing, word
from bench.errors import OperatorTimeout
from bench.i18n.layout import pad
from bench.operator import Operator
from bench.plan import Step
from bench.record import Outcome, RunRecord, StepRecord, Verdict
from drivers.codecs.pan import redact
from drivers.i18n import N_, _, tr, translation

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
            safe.echo("  ", _("waiting up to {limit} s for {what} (check its power and cable)").format(
                limit=f"{limit:g}", what=tr(what)), err=self.err)
            self._shown = 0.0
            return
        if self._is_tty():
            if int(waited) != int(self._shown):
                self._shown = waited
                safe.echo(_REWRITE, "  ... ", _("{waited} s of {limit} s").format(waited=int(waited), limit=f"{limit:g}"),
                          nl=False, err=self.err)
                (sys.stderr if self.err else sys.stdout).flush()
        elif waited - self._shown >= PLAIN_WAIT_EVERY:
            self._shown = waited
            safe.echo("  ", _("still waiting for {what}: {waited} s of {limit} s").format(
                what=tr(what), waited=int(waited), limit=f"{limit:g}"), err=self.err)

    def wait_ended(self, what: str, answered: bool, waited: float) -> None:
        """How the wait ended, on its own line."""
        if self._is_tty() and self._shown:
            safe.echo(_REWRITE, nl=False, err=self.err)
        if answered:
            safe.echo("  ", _("the unit answered again after {waited} s").format(waited=f"{waited:.1f}"), err=self.err)
        else:
            safe.echo("  ", _("the unit did not answer again within {waited} s: the steps that need it are skipped")
                      .format(waited=f"{waited:.0f}"), err=self.err)

    def run_started(self, rec: RunRecord) -> None:
        """The line above the steps: plan, unit, station."""
        u = rec.unit
        unit = unit_text(u)
        line = _("{plan} {version}  on {unit}  station {station}").format(
            plan=rec.plan_name, version=rec.plan_version, unit=safe.one_line(unit), station=rec.station)
        safe.echo("bench run  ", line, err=self.err)  # i18n: the command's name

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


def unit_text(u: Any) -> str:
    """``PT-300 PT3-000123 (firmware 2.4.1)``, or that the unit did not say who it is."""
    if u is None:
        return _("unit not identified")
    return _("{model} {serial} (firmware {firmware})").format(model=u.model, serial=u.serial, firmware=u.firmware)


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
        parts.append(f"{safe.one_line(tr(name))} {shown}")
    if progress.text:
        parts.append(safe.one_line(tr(progress.text)))
    return "  ".join(parts)


def step_line(record: StepRecord, total: int, width: int) -> tuple[str, Any, str]:
    """A finished step's line in three parts: `` n/N  name .....``, the coloured outcome, then time and why.

    The one-unit console and the multi-up console's plain lines both print it.
    """
    num = f"{record.index + 1:>{len(str(total))}}/{total}"
    name = f"{record.name} ".ljust(width, ".")
    outcome = safe.style(pad(word(record.outcome), 7), fg=_COLOURS[record.outcome], bold=True)
    tries = " " + _("({n} tries)").format(n=record.attempts) if record.attempts > 1 else ""
    detail = ""
    if record.outcome != Outcome.PASS:
        fault = f"{record.fault}  " if record.fault else ""
        # A step's message may quote what a device reported: masked like the reports (README "Card data").
        detail = safe.one_line(redact(f"  {fault}{tr(record.message)}"))
    return f" {num}  {safe.one_line(name)} ", outcome, f" {record.duration_s:6.2f} s{tries}{detail}"


def print_summary(rec: RunRecord, report_path: str | None, *, err: bool = False) -> None:
    """The verdict, the findings with their repair actions, and where the record is."""
    counts: dict[str, int] = {}
    for s in rec.steps:
        counts[s.outcome.value] = counts.get(s.outcome.value, 0) + 1
    tally = tally_text(counts)
    verdict = safe.style(word(rec.verdict), fg=_VERDICT_COLOURS.get(rec.verdict, "white"), bold=True)
    if any(s.attachments for s in rec.steps):  # a soak's figures ride in its step's attachment
        from bench.cli.soakview import soak_lines

        for line in soak_lines(rec):
            safe.echo(line, err=err)
    safe.echo("\n", _("Verdict: "), verdict, "  ", aside(tally),
              f"  {safe.one_line(redact(tr(rec.summary)))}", err=err)
    for f in rec.findings:
        where = _("unit") if f.in_unit else _("operator") if f.category == "operator" else _("bench")
        safe.echo(f"  {f.fault:<16} {tr(f.title)} ", _("[{category}, {where}]").format(category=tr(f.category), where=where),
                  err=err)
        safe.echo(f"  {'':<16} ", _("part: {part}; action: {action}").format(part=tr(f.part), action=tr(f.action)),
                  err=err)
        if f.consequences:
            safe.echo(f"  {'':<16} ", _("also skipped because of it: {steps}").format(steps=listing(f.consequences)),
                      err=err)
    safe.echo(_("Run {run}").format(run=rec.run_id), err=err)
    if report_path:
        folder = Path(report_path)
        also = listing(["run.json", "junit.xml"] + ([_("fault report rma.md")] if (folder / "rma.md").is_file() else []))
        safe.echo(_("Report: {path}  (also {also})").format(path=folder / "report.html", also=also), err=err)
        for file in sorted((folder / "attachments").glob("*")):
            label = _("Receipt: {path}") if "receipt" in file.name else _("Attachment: {path}")
            safe.echo(label.format(path=file), err=err)


_TALLY = {"PASS": N_("{n} pass"), "FAIL": N_("{n} fail"), "ERROR": N_("{n} error"), "SKIP": N_("{n} skip"),
          "TIMEOUT": N_("{n} timeout")}


def tally_text(counts: dict[str, int]) -> str:
    """``4 pass, 1 fail``: how many steps ended each way, in the reader's language."""
    return listing(translation().gettext(_TALLY[k]).format(n=n) if k in _TALLY else f"{n} {k.lower()}"
                   for k, n in counts.items())


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
                raise OperatorTimeout(N_("no operator response (no terminal)"))
            return line.strip()
        ready, _w, _x = select.select([sys.stdin], [], [], timeout)
        if not ready:
            safe.echo("", err=True)
            waited = f"{timeout:g}"
            raise OperatorTimeout(N_("no operator response within {timeout} s", timeout=waited))
        return sys.stdin.readline().strip()

    def confirm(self, question: str, *, timeout: float) -> bool:
        """Ask yes/no."""
        while True:
            answer = self._read(tr(question) + " " + _("[y/n]") + " ", timeout).lower()
            if answer in ("y", "yes", _("yes")):
                return True
            if answer in ("n", "no", _("no")):
                return False

    def choose(self, question: str, options: Sequence[str], *, timeout: float) -> str:
        """Ask for one of ``options``."""
        while True:
            answer = self._read(f"{tr(question)} ({'/'.join(options)}) ", timeout)
            if answer in options:
                return answer

    def ask_text(self, question: str, *, timeout: float) -> str:
        """Ask for a line of text."""
        return self._read(f"{tr(question)} ", timeout)

    def perform(self, action: str, instruction: str, **details: Any) -> None:
        """Show the instruction; the check then waits for the device to see it."""
        safe.echo(safe.style(f">>> {tr(instruction)}", bold=True), err=True)
