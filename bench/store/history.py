"""What the store's queries return, and :class:`RunHistory`, the read-only view reports use.

Only the standard library and :mod:`bench.record` are imported here: a report or a command
that only reads history never pulls in SQLAlchemy through this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bench.errors import UsageError
from bench.record import RunRecord, Verdict, iso


class RunNotFoundError(UsageError):
    """No stored run has the given id (or id prefix), or the prefix matches several."""


@dataclass
class RunSummary:
    """One line of a unit's history."""

    run_id: str
    started_at: datetime
    ended_at: datetime | None
    verdict: Verdict
    plan_name: str
    plan_version: str
    station: str
    model: str | None
    serial: str | None
    faults: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "run_id": self.run_id,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "verdict": self.verdict.value,
            "plan": {"name": self.plan_name, "version": self.plan_version},
            "station": self.station,
            "model": self.model,
            "serial": self.serial,
            "faults": list(self.faults),
        }


@dataclass
class TrendPoint:
    """One numeric value of a measurement, with the limit it was judged against."""

    at: datetime
    serial: str | None
    value: float
    limit_min: float | None
    limit_max: float | None
    passed: bool
    run_id: str
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "at": iso(self.at),
            "serial": self.serial,
            "value": self.value,
            "limit_min": self.limit_min,
            "limit_max": self.limit_max,
            "passed": self.passed,
            "run_id": self.run_id,
            "unit": self.unit,
        }


@dataclass
class Stats:
    """Yield figures over the finished runs in a window."""

    runs: int
    units: int
    first_pass_yield: float | None  # share of units whose first judged (not ABORTED) run in the window passed
    verdicts: dict[str, int]
    failures_by_fault: list[tuple[str, int]]  # FAIL runs per fault code, descending (pareto)
    mean_duration_s: float | None
    since: datetime | None = None
    model: str | None = None
    station: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "runs": self.runs,
            "units": self.units,
            "first_pass_yield": self.first_pass_yield,
            "verdicts": dict(self.verdicts),
            "failures_by_fault": [{"fault": f, "count": n} for f, n in self.failures_by_fault],
            "mean_duration_s": self.mean_duration_s,
            "since": iso(self.since) if self.since else None,
            "model": self.model,
            "station": self.station,
        }


class RunHistory(Protocol):
    """The read-only view of a store that reports and the history commands need.

    Both :class:`bench.store.engine.Store` (SQLAlchemy, any database) and
    :class:`bench.store.sqlite.SqliteStore` (``sqlite3``, a current SQLite file) are one.
    """

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first (every model with that serial)."""

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run, or ``None``."""

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest ``limit`` numeric values of a measurement, oldest first."""

    def get_run(self, run_id: str) -> RunRecord:
        """The whole run, by id or unique id prefix (:class:`RunNotFoundError` otherwise)."""

    def latest_run(self) -> RunRecord | None:
        """The most recently started run, or ``None`` on an empty store."""

    def close(self) -> None:
        """Let go of the database."""

    def __enter__(self) -> RunHistory:
        """Use it in a ``with`` block."""

    def __exit__(self, *exc: object) -> None:
        """Close it."""
