"""A bench's heartbeat: one row per bench (station and host) in ``heartbeats``, rewritten every few seconds.

``bench run``, ``bench multi`` and ``bench soak`` start one (:func:`start`): a daemon thread
with its own connection to the store that writes what the bench is doing (its open runs: run
id, plan, serials) every :data:`HEARTBEAT_S` seconds (``BENCH_HEARTBEAT_S`` overrides), and at
once when a run starts, identifies its unit or ends; :meth:`Heartbeat.stop` writes a last
``stopped`` beat. The fleet dashboard shows a bench up while its last beat is younger than
:data:`bench.store.dashboard.HEARTBEAT_STALE_S`.

A heartbeat never fails nor holds up a run: it writes from its own thread and connection,
a failed beat is logged (and retried at the next one, on a new connection), and stopping
waits for the last beat at most :data:`STOP_WAIT_S`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench import __version__

if TYPE_CHECKING:
    from bench.record import Finding, RunRecord, StepRecord, UnitInfo, Verdict
    from bench.runner import RecordSink
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)

#: Seconds between beats (``BENCH_HEARTBEAT_S`` overrides).
HEARTBEAT_S = 5.0
#: The longest :meth:`Heartbeat.stop` waits for the last beat (a store that hangs does not hold up the exit).
STOP_WAIT_S = 2.0
#: ``doing`` is cut to this many characters (a station with many slots).
DOING_MAX = 1000

_BEAT = (
    "INSERT INTO heartbeats (station, host, pid, bench_version, started_at, last_seen, state, run_id, doing, slots) "
    "VALUES (:station, :host, :pid, :bench_version, :started_at, :last_seen, :state, :run_id, :doing, :slots) "
    "ON CONFLICT (station, host) DO UPDATE SET pid = excluded.pid, bench_version = excluded.bench_version, "
    "started_at = excluded.started_at, last_seen = excluded.last_seen, state = excluded.state, "
    "run_id = excluded.run_id, doing = excluded.doing, slots = excluded.slots"
)


def interval() -> float:
    """Seconds between beats: ``BENCH_HEARTBEAT_S`` when it is a positive number, else :data:`HEARTBEAT_S`."""
    text = os.environ.get("BENCH_HEARTBEAT_S", "").strip()
    if not text:
        return HEARTBEAT_S
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 86_400:
        _LOG.warning("BENCH_HEARTBEAT_S=%r is not a number of seconds: beating every %g s", text, HEARTBEAT_S)
        return HEARTBEAT_S
    return value


class _Run:
    __slots__ = ("plan", "serial", "slot")

    def __init__(self, plan: str, slot: int | None, serial: str | None) -> None:
        self.plan, self.slot, self.serial = plan, slot, serial


class Heartbeat:
    """One bench's heartbeat thread. Start with :meth:`start` (or :func:`start`), end with :meth:`stop`."""

    def __init__(self, url: str | None, station: str, *, slots: int = 1, interval_s: float | None = None) -> None:
        from drivers import owner

        self.url = url
        self.station = station
        self.slots = slots
        self.interval_s = interval() if interval_s is None else interval_s
        self._host = owner.host()
        self._started_at = datetime.now(UTC)
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}  # the open runs, in the order they started
        self._wake = threading.Event()
        self._stopping = False
        self._failing = False
        self._thread = threading.Thread(target=self._loop, name="bench-heartbeat", daemon=True)
        self._done = threading.Event()

    # ----------------------------------------------------------------- what the bench does

    def run_started(self, run: RunRecord) -> None:
        """A run began (its unit may not be known yet)."""
        with self._lock:
            self._runs[run.run_id] = _Run(run.plan_name, run.slot, run.unit.serial if run.unit else None)
        self._wake.set()

    def unit_known(self, run_id: str, serial: str) -> None:
        """The run's unit identified itself."""
        with self._lock:
            found = self._runs.get(run_id)
            if found is not None:
                found.serial = serial
        self._wake.set()

    def run_ended(self, run_id: str) -> None:
        """The run has its verdict."""
        with self._lock:
            self._runs.pop(run_id, None)
        self._wake.set()

    def watch(self, sink: RecordSink) -> RecordSink:
        """``sink`` (the store a runner writes to), telling this heartbeat what the run does as it goes."""
        return _Watched(sink, self)

    def beat(self, now: datetime | None = None, *, stopped: bool = False) -> dict[str, Any]:
        """The row this bench's next beat writes."""
        with self._lock:
            runs = list(self._runs.items())
        doing = ""
        if runs and not stopped:
            plans = sorted({r.plan for _, r in runs})
            units = [(f"slot {r.slot}: " if r.slot is not None else "") + (r.serial or "?")
                     for _, r in sorted(runs, key=lambda kv: (kv[1].slot or 0))]
            doing = f"{', '.join(plans)}: {', '.join(units)}"[:DOING_MAX]
        return {
            "station": self.station, "host": self._host, "pid": os.getpid(), "bench_version": __version__,
            "started_at": self._started_at, "last_seen": now or datetime.now(UTC),
            "state": "stopped" if stopped else "running" if runs else "idle",
            "run_id": runs[0][0] if runs and not stopped else None, "doing": doing, "slots": self.slots,
        }

    # ----------------------------------------------------------------- the thread

    def start(self) -> Heartbeat:
        """Start beating (the first beat at once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Write the last, ``stopped``, beat and end the thread (waiting at most :data:`STOP_WAIT_S`)."""
        if not self._thread.is_alive():
            return
        self._stopping = True
        self._wake.set()
        if not self._done.wait(STOP_WAIT_S):
            _LOG.warning("heartbeat: the last beat to the store did not finish within %g s; left behind", STOP_WAIT_S)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        store: StoreBase | None = None
        try:
            while True:
                stopping = self._stopping
                store = self._write(store, stopped=stopping)
                if stopping:
                    return
                self._wake.wait(self.interval_s)
                self._wake.clear()
        finally:
            if store is not None:
                _close(store)
            self._done.set()

    def _write(self, store: StoreBase | None, *, stopped: bool) -> StoreBase | None:
        """One beat; the connection to keep (None after a failure: a new one next time)."""
        try:
            if store is None:
                from bench.store.connect import open_store

                store = open_store(self.url, settle=False)
            db = store.db
            row = self.beat(stopped=stopped)
            row["started_at"], row["last_seen"] = db.time(row["started_at"]), db.time(row["last_seen"])
            with db.write():
                db.execute(_BEAT, row)
        except Exception as exc:  # never the run's problem: said once (--debug), retried at the next beat
            # Not a WARNING: the console's one line about a lost database is the run store's to say, and a log
            # line on stderr would land inside the step line being written.
            level = logging.DEBUG if self._failing else logging.INFO
            _LOG.log(level, "heartbeat of %s to the store failed: %s", self.station, " ".join(str(exc).split()))
            self._failing = True
            if store is not None:
                _close(store)
            return None
        if self._failing:
            _LOG.info("heartbeat of %s: the store answers again", self.station)
            self._failing = False
        return store


def _close(store: StoreBase) -> None:
    try:
        store.close()
    except Exception as exc:  # a connection already lost
        _LOG.debug("heartbeat: closing the store: %s", exc)


class _Watched:
    """A record sink that forwards to the store and tells the heartbeat (only after the store took it)."""

    def __init__(self, sink: RecordSink, heart: Heartbeat) -> None:
        self._sink = sink
        self._heart = heart

    def start_run(self, run: RunRecord) -> None:
        self._sink.start_run(run)
        self._heart.run_started(run)

    def set_unit(self, run_id: str, unit: UnitInfo) -> None:
        self._sink.set_unit(run_id, unit)
        self._heart.unit_known(run_id, unit.serial)

    def add_step(self, run_id: str, step: StepRecord) -> None:
        self._sink.add_step(run_id, step)

    def finish_run(self, run_id: str, verdict: Verdict, ended_at: Any, summary: str,
                   findings: Sequence[Finding]) -> None:
        try:
            self._sink.finish_run(run_id, verdict, ended_at, summary, list(findings))
        finally:
            self._heart.run_ended(run_id)

    def __getattr__(self, name: str) -> Any:  # anything else the runner's caller uses (a CaseSink's)
        return getattr(self._sink, name)


def start(url: str | None, station: str, *, slots: int = 1) -> Heartbeat:
    """A started heartbeat of bench ``station`` to the store at ``url`` (``None``: the local SQLite store)."""
    return Heartbeat(url, station, slots=slots).start()
