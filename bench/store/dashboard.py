"""What the fleet dashboard (``bench serve``) reads: yield, failure pareto, benches, runs in progress, lots.

Every function takes a :class:`~bench.store.db.Db` inside a read (``with db.read():``) and runs plain
SQL both databases take. The yield and pareto figures come from summary rows kept at insert
(schema version 8: per day, model and station), the bench list from the heartbeat rows: no function
here scans ``steps`` or ``runs`` beyond an index range (each ≤ 100 ms at 10 million stored steps on
PostgreSQL: ``make bench``).

This module fixes the interface the web layer (``bench/web/``) codes against; ``docs/fleet.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.store.db import Db
    from bench.store.history import RunSummary


@dataclass(frozen=True)
class YieldFigure:
    """Finished runs over a window or a day: how many, how many passed, the first-pass yield."""

    runs: int
    passed: int
    failed: int
    incomplete: int  # INCOMPLETE, ERROR and ABORTED
    first_pass_units: int  # units whose first judged run in the window was judged
    first_pass_passed: int  # ... and passed

    @property
    def first_pass_yield(self) -> float | None:
        """Share of first judged runs that passed, ``None`` when there were none."""
        return self.first_pass_passed / self.first_pass_units if self.first_pass_units else None


@dataclass(frozen=True)
class DayYield:
    """One day (UTC) of one model or bench, or of the whole fleet (``key`` ``""``)."""

    day: date
    key: str
    figure: YieldFigure


@dataclass(frozen=True)
class FaultCount:
    """One bar of the failure pareto: a fault code and how many FAIL runs showed it."""

    fault: str
    runs: int


@dataclass(frozen=True)
class BenchStatus:
    """One bench (a station) as its heartbeat last said."""

    name: str
    host: str
    up: bool  # a heartbeat within :data:`HEARTBEAT_STALE_S`
    last_seen: datetime
    state: str  # "idle", "running", "stopped" (said goodbye)
    run_id: str | None  # the run it is on (a multi-up bench: its first open run)
    doing: str  # plan and serials, for people
    slots: int
    bench_version: str


@dataclass(frozen=True)
class RunInProgress:
    """A RUNNING run: where, on what, since when, how far."""

    run_id: str
    station: str
    slot: int | None
    plan_name: str
    model: str | None
    serial: str | None
    started_at: datetime
    steps_done: int


@dataclass(frozen=True)
class LotStatus:
    """An inspection lot: its sample plan and progress."""

    lot: str
    supplier: str
    part: str
    lot_size: int
    sample_size: int
    inspected: int
    defectives: int
    ac: int
    re: int
    state: str  # OPEN, DECIDED
    decision: str | None  # ACCEPT, REJECT


@dataclass(frozen=True)
class Overview:
    """The front page."""

    today: YieldFigure
    week: YieldFigure
    pareto_week: list[FaultCount]
    benches: list[BenchStatus]
    running: list[RunInProgress]
    days: list[DayYield] = field(default_factory=list)  # the last 14 days, whole fleet


#: A bench whose last heartbeat is older than this (seconds) is shown down.
HEARTBEAT_STALE_S = 30.0


def overview(db: Db, now: datetime) -> Overview:
    """The front page at ``now`` (aware UTC): today (UTC day), the last 7 days, benches, runs."""
    raise NotImplementedError


def yield_by_day(
    db: Db, since: date, until: date, *, by: str = "", model: str | None = None, station: str | None = None
) -> list[DayYield]:
    """One :class:`DayYield` per day in ``[since, until]`` and per key (``by``: ``""``, ``"model"`` or
    ``"station"``), days without runs left out, oldest first."""
    raise NotImplementedError


def pareto(
    db: Db, since: date, until: date, *, model: str | None = None, station: str | None = None, limit: int = 10
) -> list[FaultCount]:
    """The most frequent fault codes of FAIL runs between the two days (inclusive), most first."""
    raise NotImplementedError


def benches(db: Db, now: datetime) -> list[BenchStatus]:
    """Every bench that ever sent a heartbeat, by name."""
    raise NotImplementedError


def running(db: Db, *, station: str | None = None) -> list[RunInProgress]:
    """The RUNNING runs, oldest first."""
    raise NotImplementedError


def models(db: Db) -> list[str]:
    """Every model with a stored run, by name."""
    raise NotImplementedError


def search_serial(db: Db, text: str, limit: int = 20) -> list[tuple[str, str]]:
    """Units whose serial starts with ``text`` (case-insensitive): (model, serial), at most ``limit``."""
    raise NotImplementedError


def unit_runs(db: Db, serial: str, limit: int = 200) -> list[RunSummary]:
    """A unit's runs, newest first (as ``bench history``)."""
    raise NotImplementedError


def station_runs(db: Db, station: str, limit: int = 50) -> list[RunSummary]:
    """A bench's newest runs, newest first."""
    raise NotImplementedError


def model_runs(db: Db, model: str, limit: int = 50) -> list[RunSummary]:
    """A model's newest runs, newest first."""
    raise NotImplementedError


def lots(db: Db, *, open_only: bool = False, limit: int = 100) -> list[LotStatus]:
    """Inspection lots, open ones first, newest first."""
    raise NotImplementedError
