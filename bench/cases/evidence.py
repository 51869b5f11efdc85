"""A case's evidence: its runs, and what each run shows (failed steps, findings, decoded log entries).

The unit's event log reaches a run record as the log lines of its ``unit.event_log`` step,
one per recent error (``2026-12-07 03:10 E0201 card reader: no ATR - ...``, see
:func:`bench.checks.unit.event_log`). :data:`LOG_FAULTS` maps each decoded code to a fault
code of the table, so an E0201 points at the card reader module and an E0002 at the firmware,
not at a generic "errors in the log".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bench.diagnosis import not_run, step_faults
from bench.record import Outcome, RunRecord, StepRecord
from drivers.codecs import unitcodes
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: Decoded event-log code -> fault code (None: an event that is no fault, e.g. paper loaded).
LOG_FAULTS: dict[int, str | None] = {
    0x0001: None,  # power on
    0x0002: "FW-CRASH",  # watchdog reset: the firmware hung
    0x0003: "FW-CRASH",
    0x0004: "UNIT-POST-RTC",  # clock lost
    0x0101: "PWR-BATT-LOW",
    0x0102: "PWR-BATT-DEAD",  # deep discharge: the pack is damaged
    0x0103: "PWR-NO-ADAPTER",
    0x0104: "PWR-NOT-CHARGING",
    0x0201: "ICC-NO-ATR",
    0x0202: "ICC-ERROR",
    0x0203: None,  # card pulled mid-sale: the customer's doing, nothing to repair
    0x0301: "CTLS-NO-CARD",
    0x0302: None,  # two cards in the field: the customer's doing
    0x0401: "MSR-BAD-LRC",
    0x0402: "MSR-NO-READ",
    0x0501: "PRN-PAPER-END",
    0x0502: "PRN-COVER",
    0x0503: "PRN-CUTTER",
    0x0504: "PRN-HEAD-HOT",
    0x0505: "PRN-PAPER-NEAR-END",
    0x0506: None,  # paper loaded
    0x0601: "KEY-STUCK",
    0x0701: "DSP-BACKLIGHT",
    0x0801: "NET-NO-LINK",
    0x0802: "TXN-NETWORK",
    0x0803: "NET-TLS",
    0x0901: "SEC-TAMPER",
    0x0902: "SEC-TAMPER",
    0x0A01: None,  # update applied
    0x0A02: "FW-UPDATE-FAILED",
    0x0A03: "FW-SIGNATURE",
}

_EVENT_LOG_CHECK = "unit.event_log"
_ENTRY_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} E([0-9A-F]{4}) ")


@dataclass(frozen=True)
class CaseEvidence:
    """Everything a case knows: its runs (oldest first, intake runs included) and the unit.

    ``serial`` and ``model`` default to what the runs' units said (an intake run has no unit).
    """

    runs: Sequence[RunRecord]
    serial: str = ""
    model: str = ""
    complaint: str = ""

    def ordered(self) -> list[RunRecord]:
        """The runs oldest first."""
        return sorted(self.runs, key=lambda r: r.started_at)

    def unit(self) -> tuple[str, str]:
        """(serial, model): as given, else from the newest run that identified the unit."""
        serial, model = self.serial, self.model
        for run in reversed(self.ordered()):
            if run.unit is not None:
                serial = serial or run.unit.serial
                model = model or run.unit.model
        return serial, model


@dataclass(frozen=True)
class Observation:
    """One fault seen in one run: where (step and check, or the run itself) and how."""

    fault: str
    run_id: str
    step: str | None = None
    check: str | None = None
    source: str = ""
    log_code: int | None = None
    message: str = ""


def log_codes(step: StepRecord) -> list[int]:
    """The event-log codes an ``unit.event_log`` step decoded into its log, in order, without repeats."""
    codes: list[int] = []
    if step.check != _EVENT_LOG_CHECK:
        return codes
    for line in step.log:
        m = _ENTRY_RE.match(line)
        if m is not None:
            code = int(m.group(1), 16)
            if code not in codes:
                codes.append(code)
    return codes


def observations(run: RunRecord) -> list[Observation]:
    """The faults a run shows: each failed (or operator-skipped) step's, decoded log entries, run-level ones."""
    out: list[Observation] = []
    seen: set[str] = set()
    for step in run.steps:
        if step.outcome not in (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT) and not not_run(step):
            continue
        codes = step_faults(step) or [_default_code(step)]
        where = N_("intake {step}", step=step.name) if step.check.startswith("intake.") else N_("step {step}", step=step.name)
        for code in codes:
            if code == "LOG-ERRORS":
                decoded = _from_log(run, step)
                out.extend(decoded)
                seen.update(o.fault for o in decoded)
                seen.add(code)
                if decoded and all(o.log_code is not None for o in decoded) and not _unknown_codes(step):
                    continue  # every entry named its fault: "errors in the log" says nothing more
            out.append(Observation(code, run.run_id, step.name, step.check, where,
                                   message=step.message))
            seen.add(code)
    for finding in run.findings:
        if finding.fault not in seen:
            # A fault of the run itself (the unit never answered, the run was interrupted).
            out.append(Observation(finding.fault, run.run_id, source="run", message=run.summary))
            seen.add(finding.fault)
    return out


def _from_log(run: RunRecord, step: StepRecord) -> list[Observation]:
    out: list[Observation] = []
    for code in log_codes(step):
        fault = LOG_FAULTS.get(code)
        if fault is not None:
            out.append(Observation(fault, run.run_id, step.name, step.check,
                                   N_("event log {code}", code=unitcodes.describe(code)), log_code=code))
    return out


def _unknown_codes(step: StepRecord) -> list[int]:
    return [c for c in log_codes(step) if c not in LOG_FAULTS]


def _default_code(step: StepRecord) -> str:
    """The fault of a failed step that names none (as :mod:`bench.diagnosis` does)."""
    if step.outcome == Outcome.TIMEOUT:
        return "STEP-TIMEOUT"
    if step.outcome == Outcome.ERROR:
        return "BENCH-ERROR"
    return "UNIT-FAULT"
