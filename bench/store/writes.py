"""The run path's writes, as plain SQL that SQLite and PostgreSQL both run.

:class:`RunWriter` is what the runner calls (start_run, set_unit, add_step, finish_run) and
what marks the runs of crashed processes ABORTED. It runs on a :class:`Db`: the standard
library's ``sqlite3`` (:mod:`bench.store.sqlite`) or a SQLAlchemy connection
(:mod:`bench.store.engine`). Both execute the SQL text of this module, so a step stored by
either reads back the same, byte for byte (a test compares them).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from bench.i18n.stored import text_json
from bench.record import Finding, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store import lotplaces, rows, totals
from bench.store.db import Db
from bench.store.history import RunNotFoundError
from drivers import owner
from drivers.codecs.pan import redact
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)


INSERT_RUN = (
    "INSERT INTO runs (id, unit_id, unit_hw_revision, unit_firmware, station_id, operator, plan_name, "
    "plan_version, plan_hash, lot, scenario, started_at, ended_at, verdict, summary, pid, pid_start, boot_id, hostname, "
    "bench_version, slot, model, lang, summary_text) VALUES (:id, :unit_id, :unit_hw_revision, :unit_firmware, "
    ":station_id, :operator, :plan_name, :plan_version, :plan_hash, :lot, :scenario, :started_at, NULL, 'RUNNING', "
    ":summary, :pid, :pid_start, :boot_id, :hostname, :bench_version, :slot, :model, :lang, :summary_text)"
)
SET_UNIT = (
    "UPDATE runs SET unit_id = :unit_id, unit_hw_revision = :unit_hw_revision, unit_firmware = :unit_firmware, "
    "model = :model WHERE id = :id"
)
#: Steps stored before the unit was known get its model (trends by model read it from the measurement).
SET_MEASUREMENT_MODEL = (
    "UPDATE measurements SET model = :model WHERE step_id IN (SELECT id FROM steps WHERE run_id = :run_id)"
)
RUN_MODEL = "SELECT u.model FROM runs r JOIN units u ON u.id = r.unit_id WHERE r.id = :run_id"
INSERT_STEP = (
    "INSERT INTO steps (run_id, idx, name, check_name, outcome, started_at, duration_s, attempts, fault, message, log, "
    "message_text) VALUES (:run_id, :idx, :name, :check_name, :outcome, :started_at, :duration_s, :attempts, :fault, "
    ":message, :log, :message_text)"
)
INSERT_MEASUREMENT = (
    "INSERT INTO measurements (step_id, seq, name, value_json, value_num, unit, limit_json, limit_min, limit_max, "
    "passed, fault, message, measured_at, model, message_text) VALUES (:step_id, :seq, :name, :value_json, :value_num, "
    ":unit, :limit_json, :limit_min, :limit_max, :passed, :fault, :message, :measured_at, :model, :message_text)"
)
INSERT_ATTACHMENT = (
    "INSERT INTO attachments (step_id, seq, name, mime, data) VALUES (:step_id, :seq, :name, :mime, :data)"
)
FINISH_RUN = (
    "UPDATE runs SET verdict = :verdict, ended_at = :ended_at, summary = :summary, summary_text = :summary_text "
    "WHERE id = :id"
)
DELETE_FINDINGS = "DELETE FROM findings WHERE run_id = :run_id"
INSERT_FINDING = (
    "INSERT INTO findings (run_id, seq, fault, title, category, part, action, in_unit, steps, consequences, texts) "
    "VALUES (:run_id, :seq, :fault, :title, :category, :part, :action, :in_unit, :steps, :consequences, :texts)"
)
# 'RUNNING' is a literal so that SQLite may use the partial index ix_runs_running.
OPEN_RUNS = (
    "SELECT id, pid, pid_start, boot_id, started_at FROM runs WHERE verdict = 'RUNNING' AND hostname = :hostname"
)
STEP_TIMES = "SELECT started_at, duration_s FROM steps WHERE run_id = :run_id"
MARK_ABORTED = (
    "UPDATE runs SET verdict = 'ABORTED', ended_at = :ended_at WHERE id = :id AND verdict = 'RUNNING'"
)
UPSERT_STATION = "INSERT INTO stations (name) VALUES (:name) ON CONFLICT DO NOTHING"
STATION_ID = "SELECT id FROM stations WHERE name = :name"
UPSERT_UNIT = "INSERT INTO units (model, serial) VALUES (:model, :serial) ON CONFLICT DO NOTHING"
UNIT_ID = "SELECT id FROM units WHERE model = :model AND serial = :serial"


class RunWriter:
    """The writes of a run, on one :class:`Db`. Not thread-safe: one per connection."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._station_ids: dict[str, int] = {}
        self._unit_ids: dict[tuple[str, str], int] = {}
        self._models: dict[str, str | None] = {}  # run id -> its unit's model, for the measurement rows
        self._me = owner.me()
        #: Runs carrying a lot take a place in its sample as they start (``bench run --lot``: :mod:`lotplaces`).
        self.reserve_lots = False

    @contextmanager
    def _write(self) -> Iterator[Db]:
        try:
            with self.db.write():
                yield self.db
        except BaseException:
            self._forget()
            raise

    def _forget(self) -> None:
        """Ids cached during a rolled-back transaction may name rows that are not there."""
        self._station_ids.clear()
        self._unit_ids.clear()
        self._models.clear()

    def _id(self, cache: dict[Any, int], key: Any, upsert: str, select: str, values: dict[str, Any]) -> int:
        found = cache.get(key)
        if found is None:
            self.db.execute(upsert, values)
            found = cache[key] = int(self.db.query(select, values)[0][0])
        return found

    def _station_id(self, name: str) -> int:
        return self._id(self._station_ids, name, UPSERT_STATION, STATION_ID, {"name": name})

    def _unit_id(self, unit: UnitInfo) -> int:
        key = (unit.model, unit.serial)
        return self._id(self._unit_ids, key, UPSERT_UNIT, UNIT_ID, {"model": unit.model, "serial": unit.serial})

    def start_run(self, run: RunRecord) -> None:
        """Write the run's row with verdict RUNNING and this process's pid and hostname.

        Steps, findings, ended_at and verdict already on ``run`` are not written: steps come
        through :meth:`add_step`, the end through :meth:`finish_run`. With :attr:`reserve_lots`, a run
        of a lot first takes a place in the lot's sample (:func:`bench.store.lotplaces.reserve`).

        Raises:
            UsageError: with :attr:`reserve_lots`, the lot's sample has no place left (or it is decided).
        """
        unit = run.unit
        with self._write() as db:
            if self.reserve_lots and run.lot is not None:
                lotplaces.reserve(db, run.lot)  # refused: the row is never written
            db.execute(INSERT_RUN, {
                "id": run.run_id,
                "unit_id": self._unit_id(unit) if unit else None,
                "unit_hw_revision": unit.hw_revision if unit else "",
                "unit_firmware": unit.firmware if unit else "",
                "station_id": self._station_id(run.station),
                "operator": run.operator,
                "plan_name": run.plan_name,
                "plan_version": run.plan_version,
                "plan_hash": run.plan_hash,
                "lot": run.lot,
                "scenario": run.scenario,
                "started_at": db.time(run.started_at),
                "summary": redact(run.summary),
                "summary_text": text_json(run.summary),
                "lang": run.lang,
                "pid": self._me.pid,
                "pid_start": self._me.start,
                "boot_id": self._me.boot_id,
                "hostname": self._me.host,
                "bench_version": run.bench_version,
                "slot": run.slot,
                "model": unit.model if unit else None,
            })
        self._remember(run.run_id, unit.model if unit else None)
        _LOG.debug("store: run %s started", run.run_id)

    def _remember(self, run_id: str, model: str | None) -> None:
        if len(self._models) >= 64:
            self._models.clear()
        self._models[run_id] = model

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        """Record which unit a run is testing (known once the unit has identified itself)."""
        with self._write() as db:
            changed = db.execute(SET_UNIT, {"id": run_id, "unit_id": self._unit_id(unit),
                                            "unit_hw_revision": unit.hw_revision, "unit_firmware": unit.firmware,
                                            "model": unit.model})
            if changed != 1:
                raise RunNotFoundError(N_("no run {run_id!r} in the store", run_id=run_id))
            db.execute(SET_MEASUREMENT_MODEL, {"model": unit.model, "run_id": run_id})
        self._remember(run_id, unit.model)

    def add_step(self, run_id: str, step: StepRecord) -> None:
        """Store one finished step with its measurements and attachments, committed on return."""
        step_row = rows.step_row(run_id, step)
        db = self.db
        try:  # the hot path: no generator-based context manager (self._write) around it
            with db.write():
                step_row["started_at"] = at = db.time(step.started_at)
                if run_id in self._models:
                    model = self._models[run_id]
                else:
                    found = db.query(RUN_MODEL, {"run_id": run_id})
                    model = found[0][0] if found else None
                    self._remember(run_id, model)
                step_id = db.insert(INSERT_STEP, step_row)
                if step.measurements:
                    m_rows = [rows.measurement_row(i, m) for i, m in enumerate(step.measurements)]
                    for row in m_rows:
                        row["step_id"], row["measured_at"], row["model"] = step_id, at, model
                    db.executemany(INSERT_MEASUREMENT, m_rows)
                if step.attachments:
                    a_rows = [rows.attachment_row(i, a) for i, a in enumerate(step.attachments)]
                    for row in a_rows:
                        row["step_id"] = step_id
                    db.executemany(INSERT_ATTACHMENT, a_rows)
        except BaseException:
            self._forget()
            raise

    def finish_run(
        self,
        run_id: str,
        verdict: Verdict,
        ended_at: datetime,
        summary: str = "",
        findings: Sequence[Finding] = (),
    ) -> None:
        """Close a run: its verdict, end time, summary and diagnosis (replacing any earlier ones)."""
        with self._write() as db, totals.kept(db, run_id):
            changed = db.execute(FINISH_RUN, {"id": run_id, "verdict": verdict.value,
                                              "ended_at": db.time(ended_at), "summary": redact(summary),
                                              "summary_text": text_json(summary)})
            if changed != 1:
                raise RunNotFoundError(N_("no run {run_id!r} in the store", run_id=run_id))
            db.execute(DELETE_FINDINGS, {"run_id": run_id})
            f_rows = rows.finding_rows(run_id, findings)
            if f_rows:
                db.executemany(INSERT_FINDING, f_rows)
        _LOG.debug("store: run %s finished %s", run_id, verdict.value)

    def mark_abandoned(self, host: str | None = None, keep: Collection[str] = ()) -> list[str]:
        """Mark ABORTED the RUNNING runs whose process is gone, but those in ``keep``.

        Without ``host``, or with this host's name: the runs of this host whose process is gone
        (its pid not running, or running a process that started at another time or in another
        boot: the pid was reused). With another host's name: every RUNNING run of that host,
        which this host cannot check (the user says that host's runs are over).
        ``keep``: runs to leave as they are (this host's buffered runs: ``bench sync`` completes them).
        A run's ``ended_at`` becomes the end of its last step (its start when it has none).

        Returns:
            The ids of the runs marked.
        """
        here = host is None or host == self._me.host
        with self.db.read():
            candidates = self.db.query(OPEN_RUNS, {"hostname": self._me.host if here else host})
        dead = [
            (rid, rows.utc(started))
            for rid, pid, pid_start, boot, started in candidates
            if rid not in keep and (not here or pid is None or not owner.alive(owner.Owner(pid, pid_start, boot, self._me.host)))
        ]
        marked: list[str] = []
        for run_id, started in dead:
            with self._write() as db, totals.kept(db, run_id):
                ends = db.query(STEP_TIMES, {"run_id": run_id})
                ended = max((rows.utc(s) + timedelta(seconds=d) for s, d in ends), default=started)
                changed = db.execute(MARK_ABORTED, {"id": run_id, "ended_at": db.time(ended)})
            if changed == 1:
                marked.append(run_id)
                _LOG.warning("store: run %s was left open by a process that is gone: marked ABORTED", run_id)
        return marked
