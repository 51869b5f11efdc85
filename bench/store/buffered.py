"""A PostgreSQL store that keeps testing when the database goes away: runs fail over to the outbox.

:class:`BufferedStore` is what ``bench run`` (and each slot of a multi-up run) writes to when its
store is PostgreSQL. While the database answers, every call goes to it. When it cannot be
reached at the start, or a write fails with :class:`EquipmentError` mid-run, the run goes to
the local outbox (:mod:`bench.store.outbox`): what the run wrote so far is written there again
(its start, unit and every finished step), then the failed write and every later one. The run
stays there to its end, so no step is split between the two; ``bench sync``
(:mod:`bench.store.sync`) uploads it, completing the part the database already holds.
A later run of the same process tries the database again, at most every :data:`RETRY_S`.

The console hears of it once per process and database, in one line (``notice``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from bench.errors import EquipmentError
from bench.record import Finding, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store import outbox
from bench.store.base import StoreBase
from bench.store.history import RunSummary, Stats, TrendPoint
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: After losing the database, a new run tries it again at most this often (seconds).
RETRY_S = 30.0

_T = TypeVar("_T")
_told: set[str] = set()  # databases whose loss this process has announced


@dataclass
class _Run:
    """What a run wrote so far, to write it again into the outbox if the database goes."""

    start: RunRecord | None = None
    unit: UnitInfo | None = None
    steps: list[StepRecord] = field(default_factory=list)
    buffered: bool = False


def open_run_store(url: str | None, notice: Callable[[str], None] | None = None) -> Any:
    """The store a run writes to: on PostgreSQL a :class:`BufferedStore` (a database that cannot be
    reached, or goes away, sends the run to the local outbox), else :func:`~bench.store.connect.open_store`.

    Args:
        url: the store URL (``None``: the per-user SQLite file).
        notice: told once, in one line, when results start going to the outbox (the console).

    Raises:
        UsageError: the URL is malformed.
        EquipmentError: a SQLite store that cannot be opened.
    """
    if url is not None and url.startswith("postgres"):
        return BufferedStore.open(url, notice)
    from bench.store.connect import open_store

    return open_store(url)


class BufferedStore:
    """The store at a PostgreSQL URL, with the outbox behind it. Not thread-safe: one per thread."""

    def __init__(self, url: str, notice: Callable[[str], None] | None = None) -> None:
        self._url = url
        self._box = outbox.for_url(url)
        self.url = self._box.url
        self._notice = notice
        self._primary: StoreBase | None = None
        self._lost_at: float | None = None
        self._why = ""
        self._local: StoreBase | None = None
        self._hold: contextlib.ExitStack | None = None
        self._runs: dict[str, _Run] = {}
        self.buffered: list[str] = []  # ids of the runs that went to the outbox
        self.reserve_lots = False  # a lot's run takes its sample place in the database, never in the outbox

    @classmethod
    def open(cls, url: str, notice: Callable[[str], None] | None = None) -> BufferedStore:
        """The store at ``url``: the database when it answers, else (for now) the outbox.

        Raises:
            UsageError: a malformed URL.
        """
        store = cls(url, notice)
        store._connect()
        return store

    # ------------------------------------------------------------------ the two stores

    def _connect(self) -> None:
        from bench.store.connect import open_store

        try:
            self._primary = open_store(self._url)
            self._primary.reserve_lots = self.reserve_lots
            self._lost_at = None
        except EquipmentError as exc:
            self._lose(exc)

    def _lose(self, exc: BaseException) -> None:
        """The database is gone: close it; the writes that follow go to the outbox."""
        if self._primary is not None:
            with contextlib.suppress(Exception):
                self._primary.close()
        self._primary, self._lost_at, self._why = None, time.monotonic(), str(exc)
        _LOG.info("store %s lost: %s", self.url, exc)

    def _outbox(self) -> StoreBase:
        if self._local is None:
            from bench.store.engine import Store

            hold = contextlib.ExitStack()
            hold.enter_context(outbox.held(self._box))
            try:
                self._local = Store.open(self._box.store_url)
            except BaseException:
                hold.close()
                raise
            self._hold = hold
        if self.url not in _told:
            _told.add(self.url)
            line = N_("database {url} unreachable: results are buffered on this PC; `bench sync` will upload them",
                      url=self.url)
            (self._notice or _LOG.warning)(line)
        return self._local

    @property
    def online(self) -> bool:
        """Whether writes go to the database (else to the outbox)."""
        return self._primary is not None

    @property
    def db(self) -> Any:
        """The database's connection, for the lots and cases (they need the database itself).

        Raises:
            EquipmentError: the database cannot be reached.
        """
        if self._primary is None:
            raise EquipmentError(N_("store {url} cannot be reached ({why}): lots and repair cases need the database",
                                    url=self.url, why=self._why))
        return self._primary.db

    # ------------------------------------------------------------------ writes

    def _write(self, run_id: str, op: Callable[[StoreBase], None]) -> None:
        run = self._runs.get(run_id)
        if self._primary is not None and not (run is not None and run.buffered):
            try:
                op(self._primary)
                return
            except EquipmentError as exc:
                self._lose(exc)
        local = self._outbox()
        if run is not None and not run.buffered:
            run.buffered = True
            self.buffered.append(run_id)
            if run.start is not None:  # what the database may or may not hold: written again here
                local.start_run(run.start)
                if run.unit is not None:
                    local.set_unit(run_id, run.unit)
                for step in run.steps:
                    local.add_step(run_id, step)
        op(local)

    def start_run(self, run: RunRecord) -> None:
        """Write the run's row (see :meth:`StoreBase.start_run`); a new run tries a lost database again."""
        if self._primary is None and self._lost_at is not None and time.monotonic() - self._lost_at >= RETRY_S:
            self._connect()
        if self.reserve_lots and run.lot is not None:
            self._start_lot_run(run)
            return
        self._runs[run.run_id] = entry = _Run()
        self._write(run.run_id, lambda s: s.start_run(run))
        entry.start, entry.unit = replace(run, steps=[], findings=[]), run.unit

    def _start_lot_run(self, run: RunRecord) -> None:
        """A lot's run starts in the database or not at all: only there can it take a place in the lot's sample."""
        why = self._why
        if self._primary is not None:
            self._primary.reserve_lots = True
            try:
                self._primary.start_run(run)
            except EquipmentError as exc:
                self._lose(exc)
                why = str(exc)
            else:
                self._runs[run.run_id] = _Run(replace(run, steps=[], findings=[]), run.unit)
                return
        raise EquipmentError(N_("store {url} cannot be reached ({why}): a lot's units are tested only while its "
                                "database answers", url=self.url, why=why))

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Record which unit a run is testing."""
        self._write(run_id, lambda s: s.set_unit(run_id, unit))
        if run_id in self._runs:
            self._runs[run_id].unit = unit

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store one finished step, committed on return (in the database or the outbox)."""
        self._write(run_id, lambda s: s.add_step(run_id, step))
        if run_id in self._runs:
            self._runs[run_id].steps.append(step)

    def finish_run(
        self, run_id: str, verdict: Verdict, ended_at: datetime, summary: str = "", findings: Sequence[Finding] = ()
    ) -> None:
        """Close a run (in the store that holds its steps)."""
        self._write(run_id, lambda s: s.finish_run(run_id, verdict, ended_at, summary, findings))
        self._runs.pop(run_id, None)

    # ------------------------------------------------------------------ reads: the database, else the outbox

    def _read(self, fn: Callable[[StoreBase], _T]) -> _T:
        if self._primary is not None:
            try:
                return fn(self._primary)
            except EquipmentError as exc:
                self._lose(exc)
        return fn(self._outbox())

    def get_run(self, run_id: str) -> RunRecord:
        """The whole run (see :meth:`StoreBase.get_run`); a buffered run from the outbox."""
        if run_id in self.buffered:
            return self._outbox().get_run(run_id)
        return self._read(lambda s: s.get_run(run_id))

    def latest_run(self) -> RunRecord | None:
        """The most recently started run."""
        return self._read(lambda s: s.latest_run())

    def open_runs(self) -> list[tuple[str, str | None, int | None, datetime]]:
        """The RUNNING runs of every host."""
        return self._read(lambda s: s.open_runs())

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first."""
        return self._read(lambda s: s.history(serial, limit))

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run."""
        return self._read(lambda s: s.last_pass(serial))

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest values of a measurement, oldest first."""
        return self._read(lambda s: s.trend(measurement, model, serial, limit))

    def stats(self, since: datetime | None = None, model: str | None = None, station: str | None = None) -> Stats:
        """Yield over the finished runs."""
        return self._read(lambda s: s.stats(since, model, station))

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Let go of the database and the outbox."""
        try:
            if self._primary is not None:
                with contextlib.suppress(Exception):  # a lost database may fail to close cleanly
                    self._primary.close()
        finally:
            if self._local is not None:
                self._local.close()
            if self._hold is not None:
                self._hold.close()
            self._primary = self._local = self._hold = None

    def __enter__(self) -> BufferedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
