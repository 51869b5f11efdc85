"""A test as a step of the session's run: its outcome over setup, call and teardown, its fault and log.

The outcome follows ``bench run``'s rules for a check: a :class:`~drivers.errors.DeviceError`
or a failed assertion is the unit failing (FAIL, with the error's fault code), an
:class:`~drivers.errors.EquipmentError` is the bench (ERROR), a prompt nobody answered is a
TIMEOUT, any other exception is the test's own bug (ERROR, ``TEST-ERROR``). A skipped test is
not run (SKIP with ``TEST-SKIPPED``: the run cannot PASS). What pytest shows of a bench test
(its failure text, captured output) has card numbers and track data masked.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from bench.errors import BenchError, DeviceError, EquipmentError, OperatorTimeout, said
from bench.measure import Measurement
from bench.pytestplugin.measure import MeasurementFailed
from bench.record import Outcome, StepRecord, utcnow
from drivers.codecs.pan import redact
from drivers.i18n import N_

#: Captured lines a failed step keeps (the newest).
LOG_LINES = 200

#: A test whose setup and teardown passed but that was never called (``pytest --setup-only``).
NOT_CALLED = "not run: pytest ran only its setup and teardown (--setup-only)"

_WORST = (Outcome.PASS, Outcome.SKIP, Outcome.FAIL, Outcome.TIMEOUT, Outcome.ERROR)


@dataclass
class TestStep:
    """What one test did so far, phase by phase."""

    name: str
    started: datetime = field(default_factory=utcnow)
    t0: float = field(default_factory=time.perf_counter)
    outcome: Outcome = Outcome.PASS
    fault: str | None = None
    message: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    called: bool = False

    def take(self, report: pytest.TestReport, call: pytest.CallInfo[Any]) -> None:
        """Fold one phase's report in (the worst outcome so far wins; the first message of it stays)."""
        if report.when == "call":
            self.called = True
        if report.passed:
            return
        if report.skipped:
            outcome, fault, message = _skipped(report)
        else:
            outcome, fault, message = _failed(report, call)
            self.log = _captured(report, call)
        if _WORST.index(outcome) > _WORST.index(self.outcome):
            self.outcome, self.fault, self.message = outcome, fault, message

    def record(self) -> StepRecord:
        """The finished step (numbered by the slot when it is kept)."""
        if self.outcome == Outcome.PASS and not self.called:  # pytest --setup-only: the test never ran
            self.outcome, self.fault, self.message = Outcome.SKIP, "TEST-SKIPPED", NOT_CALLED
        # masked here too: the reports are written from this record, not from the store
        return StepRecord(0, self.name, "pytest", self.outcome, self.started, time.perf_counter() - self.t0,
                          1, self.fault, redact(self.message), list(self.measurements),
                          [redact(line) for line in self.log])


def _skipped(report: pytest.TestReport) -> tuple[Outcome, str | None, str]:
    reason = getattr(report, "wasxfail", None)
    if reason is not None:
        return Outcome.SKIP, "TEST-SKIPPED", N_("expected to fail: {reason}", reason=reason) if reason else N_(
            "expected to fail")
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return Outcome.SKIP, "TEST-SKIPPED", text.removeprefix("Skipped: ")


def _failed(report: pytest.TestReport, call: pytest.CallInfo[Any]) -> tuple[Outcome, str | None, str]:
    excinfo = call.excinfo
    def at(message: str) -> str:  # where in the test it happened, when not in its body
        return message if report.when == "call" else N_("{message} (in {when})", message=message, when=report.when)

    if excinfo is None:  # a strict xfail that passed
        return Outcome.FAIL, "TEST-FAILED", N_("passed, but was expected to fail")
    exc = excinfo.value
    if isinstance(exc, OperatorTimeout):
        return Outcome.TIMEOUT, exc.fault_code, at(said(exc))
    if isinstance(exc, DeviceError):
        return Outcome.FAIL, exc.fault_code or "TEST-FAILED", at(said(exc))
    if isinstance(exc, EquipmentError | BenchError):
        return Outcome.ERROR, exc.fault_code or "BENCH-ERROR", at(said(exc))
    if isinstance(exc, MeasurementFailed):  # its own words, not the class's dotted name before them
        message = exc.measurement.message  # kept a Text when masking changed nothing
        return Outcome.FAIL, exc.fault_code or "TEST-FAILED", at(message if redact(message) == message else str(exc))
    fault = getattr(exc, "fault_code", None)  # the test's own assertion error may carry one
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        return Outcome.FAIL, fault or "TEST-FAILED", at(_first_line(excinfo.exconly()))
    return Outcome.ERROR, "TEST-ERROR", at(N_("error in the test: {error}", error=_first_line(excinfo.exconly())))


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line.removeprefix("Failed: ")
    return line if len(line) <= 300 else line[:299] + "…"


def _captured(report: pytest.TestReport, call: pytest.CallInfo[Any]) -> list[str]:
    lines: list[str] = []
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, BenchError) and exc.detail:
        lines.append(f"detail: {exc.detail}")
    for title, text in report.sections:
        if text.strip():
            lines.append(f"-- {title} --")
            lines.extend(text.rstrip("\n").splitlines())
    return lines[-LOG_LINES:]


def mask_report(report: pytest.TestReport) -> None:
    """Mask card numbers and track data in what pytest prints and writes of a report.

    The failure's structure is kept (masked in place): pytest's short summary and the JUnit
    XML's ``message`` read its crash line, which a plain string would not have.
    """
    report.longrepr = _masked(report.longrepr)
    report.sections = [(title, redact(text)) for title, text in report.sections]
    if isinstance(getattr(report, "wasxfail", None), str):  # an xfail's reason: the summary and JUnit show it
        report.wasxfail = redact(report.wasxfail)


def _masked(value: Any) -> Any:
    """``value`` with every text in it redacted; pytest's repr objects (dataclasses) are changed in place."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return type(value)(_masked(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, _masked(getattr(value, f.name)))
    return value
