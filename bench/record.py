"""The run record: one per run, each step appended as soon as it ends.

This is the single source every report renders from and the store persists. Its JSON
form (``RunRecord.to_dict``) is versioned; the schema lives in ``docs/run-record.schema.json``.
Card data never enters a record unmasked: checks mask PANs before measuring them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bench.i18n.verdicts import STATE_WORDS
from bench.measure import Limit, Measurement
from drivers.i18n import Text, current_language

SCHEMA_VERSION = 2  # 2: ``lang``, the language the run spoke


class Outcome(StrEnum):
    """How one step ended."""

    PASS = "PASS"
    FAIL = "FAIL"  # the unit is at fault
    ERROR = "ERROR"  # the bench (or the check) is at fault
    # Not run: a prerequisite did not pass, the step is not for the unit's model, or (with fault
    # OP-SKIPPED) the operator declined it. A SKIP with a fault code keeps the run from passing.
    SKIP = "SKIP"
    TIMEOUT = "TIMEOUT"  # the step did not finish in time


#: A step's outcome as a reader says it inside another text (its English value stays the code: ``FAIL``).
OUTCOME_WORDS: dict[Outcome, Text] = {outcome: STATE_WORDS[outcome.value] for outcome in Outcome}


class Verdict(StrEnum):
    """How the whole run ended."""

    RUNNING = "RUNNING"  # only while the run is open
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    INCOMPLETE = "INCOMPLETE"  # no fault found, but steps the operator skipped: the unit is not signed off
    ABORTED = "ABORTED"  # Ctrl-C or another terminating signal, or a crash found on a later start

    @property
    def exit_code(self) -> int:
        """The CLI exit code for this verdict (INCOMPLETE is 1: the unit did not pass)."""
        return {"PASS": 0, "FAIL": 1, "INCOMPLETE": 1, "ERROR": 3, "ABORTED": 130, "RUNNING": 3}[self.value]


@dataclass
class AttachmentRecord:
    """A file attached to a step."""

    name: str
    mime: str
    data: bytes

    def to_dict(self) -> dict[str, Any]:
        """Plain data; the bytes as base64."""
        return {"name": self.name, "mime": self.mime, "data_b64": base64.b64encode(self.data).decode()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AttachmentRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(d["name"], d["mime"], base64.b64decode(d["data_b64"]))


@dataclass
class StepRecord:
    """What one step did and measured."""

    index: int
    name: str
    check: str
    outcome: Outcome
    started_at: datetime
    duration_s: float
    attempts: int = 1
    fault: str | None = None
    message: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    attachments: list[AttachmentRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "index": self.index,
            "name": self.name,
            "check": self.check,
            "outcome": self.outcome.value,
            "started_at": iso(self.started_at),
            "duration_s": round(self.duration_s, 6),
            "attempts": self.attempts,
            "fault": self.fault,
            "message": self.message,
            "measurements": [m.to_dict() for m in self.measurements],
            "log": list(self.log),
            "attachments": [a.to_dict() for a in self.attachments],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            index=d["index"],
            name=d["name"],
            check=d["check"],
            outcome=Outcome(d["outcome"]),
            started_at=_parse(d["started_at"]),
            duration_s=d["duration_s"],
            attempts=d.get("attempts", 1),
            fault=d.get("fault"),
            message=d.get("message", ""),
            measurements=[_measurement(m) for m in d.get("measurements", [])],
            log=list(d.get("log", [])),
            attachments=[AttachmentRecord.from_dict(a) for a in d.get("attachments", [])],
        )


@dataclass
class UnitInfo:
    """The unit under test, as it identified itself."""

    model: str
    serial: str
    hw_revision: str = ""
    firmware: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"model": self.model, "serial": self.serial, "hw_revision": self.hw_revision, "firmware": self.firmware}


@dataclass
class Finding:
    """One line of the diagnosis: a fault, the steps that show it, and what to do."""

    fault: str
    title: str
    category: str
    part: str
    action: str
    in_unit: bool
    steps: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return dict(self.__dict__)


@dataclass
class RunRecord:
    """One run of a plan on one unit at one station."""

    run_id: str
    plan_name: str
    plan_version: str
    plan_hash: str
    station: str
    operator: str
    started_at: datetime
    ended_at: datetime | None = None
    verdict: Verdict = Verdict.RUNNING
    unit: UnitInfo | None = None
    steps: list[StepRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""
    lot: str | None = None
    scenario: str | None = None
    bench_version: str = ""
    slot: int | None = None  # the fixture slot on a multi-up station (None: a one-unit station)
    # The language the run spoke (its reports' default language); texts in the record stay English.
    lang: str = field(default_factory=current_language)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON form (see docs/run-record.schema.json)."""
        return {
            "schema": f"bench.run/{SCHEMA_VERSION}",
            "run_id": self.run_id,
            "plan": {"name": self.plan_name, "version": self.plan_version, "hash": self.plan_hash},
            "station": self.station,
            "operator": self.operator,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "unit": self.unit.to_dict() if self.unit else None,
            "lot": self.lot,
            "scenario": self.scenario,
            "slot": self.slot,
            "bench_version": self.bench_version,
            "lang": self.lang,
            "steps": [s.to_dict() for s in self.steps],
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        """Inverse of :meth:`to_dict`."""
        unit = d.get("unit")
        return cls(
            run_id=d["run_id"],
            plan_name=d["plan"]["name"],
            plan_version=d["plan"]["version"],
            plan_hash=d["plan"]["hash"],
            station=d["station"],
            operator=d["operator"],
            started_at=_parse(d["started_at"]),
            ended_at=_parse(d["ended_at"]) if d.get("ended_at") else None,
            verdict=Verdict(d["verdict"]),
            unit=UnitInfo(**unit) if unit else None,
            steps=[StepRecord.from_dict(s) for s in d.get("steps", [])],
            findings=[Finding(**f) for f in d.get("findings", [])],
            summary=d.get("summary", ""),
            lot=d.get("lot"),
            scenario=d.get("scenario"),
            bench_version=d.get("bench_version", ""),
            slot=d.get("slot"),
            lang=d.get("lang", "en"),
        )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(t: datetime) -> str:
    """``2024-05-01T08:00:00.123456Z``: how records, the store and reports write a time."""
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _measurement(d: dict[str, Any]) -> Measurement:
    lim = d.get("limit")
    limit = None
    if lim:
        lim = dict(lim)
        if "one_of" in lim:
            lim["one_of"] = tuple(lim["one_of"])
        limit = Limit(**lim)
    return Measurement(
        name=d["name"],
        value=d["value"],
        unit=d.get("unit"),
        limit=limit,
        passed=d.get("passed", True),
        fault=d.get("fault"),
        message=d.get("message", ""),
    )
