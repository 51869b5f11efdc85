"""What every store offers, on any :class:`~bench.store.writes.Db`: the run's writes and the reads.

:class:`bench.store.engine.Store` (SQLAlchemy: creates, migrates, PostgreSQL) and
:class:`bench.store.sqlite.SqliteStore` (``sqlite3`` on a current SQLite file) are this
class on their own connection; neither adds SQL of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from bench.record import Finding, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store import queries
from bench.store.db import Db
from bench.store.history import RunSummary, Stats, TrendPoint
from bench.store.writes import RunWriter


class StoreBase:
    """A connection to the run store. Not thread-safe: one per thread (the runner's threads take turns)."""

    url: str

    def __init__(self, db: Db) -> None:
        self._db = db
        self._writer = RunWriter(db)

    @property
    def db(self) -> Db:
        """The connection the store's plain SQL runs on, for code that keeps its own tables here (the lots)."""
        return self._db

    @property
    def reserve_lots(self) -> bool:
        """Whether a run carrying a lot takes a place in its sample as it starts (``bench run --lot``)."""
        return self._writer.reserve_lots

    @reserve_lots.setter
    def reserve_lots(self, on: bool) -> None:
        self._writer.reserve_lots = on

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Let go of the database."""
        raise NotImplementedError

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writes

    def start_run(self, run: RunRecord) -> None:
        """Write the run's row with verdict RUNNING and this process's pid and hostname.

        Steps, findings, ended_at and verdict already on ``run`` are not written: steps come
        through :meth:`add_step`, the end through :meth:`finish_run`.
        """
        self._writer.start_run(run)

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Record which unit a run is testing (known once the unit has identified itself)."""
        self._writer.set_unit(run_id, unit)

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store one finished step with its measurements and attachments, committed on return."""
        self._writer.add_step(run_id, step)

    def finish_run(
        self, run_id: str, verdict: Verdict, ended_at: datetime, summary: str = "", findings: Sequence[Finding] = ()
    ) -> None:
        """Close a run: its verdict, end time, summary and diagnosis (replacing any earlier ones)."""
        self._writer.finish_run(run_id, verdict, ended_at, summary, findings)

    def mark_abandoned(self, host: str | None = None, keep: Collection[str] = ()) -> list[str]:
        """Mark ABORTED the RUNNING runs whose process is gone; their ids.

        Without ``host`` (or with this host's name): this host's runs whose owner (pid, its start
        time, the boot) is gone; runs of live processes and of other hosts are left alone. With
        another host's name: every RUNNING run of that host (only when a person says so:
        ``bench runs abandon --host``). A run's ``ended_at`` becomes the end of its last step
        (its start when it has none). Runs in ``keep`` are left alone (buffered in an outbox).
        """
        return self._writer.mark_abandoned(host, keep)

    # ----------------------------------------------------------------- reads

    def get_run(self, run_id: str) -> RunRecord:
        """The whole run, by id or by a unique id prefix.

        Raises:
            RunNotFoundError: no run, or several, match.
        """
        with self._db.read():
            return queries.get_run(self._db, run_id)

    def latest_run(self) -> RunRecord | None:
        """The most recently started run, or ``None`` on an empty store."""
        with self._db.read():
            rid = queries.latest_run_id(self._db)
            return queries.get_run(self._db, rid) if rid is not None else None

    def open_runs(self) -> list[tuple[str, str | None, int | None, datetime]]:
        """The RUNNING runs of every host, oldest first: id, host, pid, start."""
        with self._db.read():
            return queries.open_runs(self._db)

    def history(self, serial: str, limit: int | None = None) -> list[RunSummary]:
        """A unit's runs, newest first (every model with that serial)."""
        with self._db.read():
            return queries.history(self._db, serial, limit)

    def last_pass(self, serial: str) -> RunSummary | None:
        """The unit's newest PASS run, or ``None``."""
        with self._db.read():
            return queries.last_pass(self._db, serial)

    def trend(
        self, measurement: str, model: str | None = None, serial: str | None = None, limit: int = 1000
    ) -> list[TrendPoint]:
        """The newest ``limit`` numeric values of a measurement, in chronological order.

        Args:
            measurement: the measurement's name, e.g. ``battery_voltage``.
            model: only units of this model.
            serial: only this unit.
            limit: at most this many points (the newest).
        """
        with self._db.read():
            return queries.trend(self._db, measurement, model, serial, limit)

    def stats(self, since: datetime | None = None, model: str | None = None, station: str | None = None) -> Stats:
        """Yield over the finished runs started at or after ``since``.

        ``first_pass_yield`` is the share of units whose first judged run in the window passed (an
        ABORTED run judged nothing and is left out);
        ``failures_by_fault`` counts FAIL runs per fault code (steps' and findings' codes, each
        once per run), most frequent first.
        """
        with self._db.read():
            return queries.stats(self._db, since, model, station)
