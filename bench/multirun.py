"""Multi-up runs: one plan on every slot of a station at once, one record per unit.

Each slot's :class:`~bench.runner.Runner` runs on its own thread in this process, with its
own devices (:mod:`bench.slotdevices`), its own store connection and its own operator
(scripted per slot, or the person at the bench through one prompt queue). A slot's run is
the same as a one-unit ``bench run``: its record persisted step by step, its report folder,
its verdict; a unit that hangs, reboots or sends garbage ends only its own slot's run. The
main thread only waits, so Ctrl-C or SIGTERM reaches it: it stops every slot
(:meth:`Runner.abort`), each recorded ABORTED with the steps it finished.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import interrupts
from bench.errors import EXIT_BENCH, EXIT_INTERRUPTED, EXIT_USAGE, BenchError, UsageError, exit_code, said
from bench.operator import Operator, ScriptedOperator
from bench.record import RunRecord, Verdict
from bench.run import RunRequest, check_outputs, write_reports
from bench.slotoperator import PromptQueue, SlotOperator
from drivers.i18n import N_, Text

if TYPE_CHECKING:
    from bench.plan import Plan
    from bench.runner import RunListener, Runner
    from bench.slotdevices import SharedDevices
    from bench.store.heartbeat import Heartbeat

_LOG = logging.getLogger(__name__)

#: The most simulated units one bench runs (pcscd serves 16 readers).
MAX_SIM_UNITS = 16


@dataclass
class SlotRun:
    """How one slot's run ended: its record (None when it never started), report and exit code."""

    slot: int
    record: RunRecord | None = None
    report: Path | None = None
    error: str | None = None  # one line: why the run ended early or could not start
    report_error: str | None = None
    code: int = 0


@dataclass
class MultiRequest:
    """A multi-up ``bench run``: the one-unit request, and the slots.

    Attributes:
        base: plan, station or ``--sim``, report folder, store, operator, lot, JUnit file.
        slots: the slots to run (``--slot``); empty: every slot of the station.
        units: with ``--sim``: how many simulated units (slots 1..N).
        scenarios: with ``--sim``: slot -> scenario; the key 0 is every slot not named.
        serials: with ``--sim``: slot -> the simulated unit's serial (a lot's units).
        listener_for: the console's listener of a slot.
        slot_done: called (on the slot's thread) as each slot's run ends.
        pause: held while a prompt is on the terminal (the live table stops redrawing).
        started: called once the slots are known and their devices are up, before the first
            step: the slot numbers and the plan (the console sets up its table).
    """

    base: RunRequest
    slots: tuple[int, ...] = ()
    units: int | None = None
    scenarios: dict[int, str] = field(default_factory=dict)
    serials: dict[int, str] = field(default_factory=dict)
    listener_for: Callable[[int], RunListener | None] | None = None
    slot_done: Callable[[SlotRun], None] | None = None
    pause: Callable[[], Any] | None = None
    started: Callable[[list[int], Plan], None] | None = None


@dataclass
class MultiResult:
    """Every slot's run, in slot order, and whether a signal stopped them."""

    runs: list[SlotRun]
    interrupted: bool = False
    junit_error: str | None = None

    @property
    def exit_code(self) -> int:
        """130 interrupted, else 3 when the bench failed anywhere, else 1 when a unit did not pass, else 0."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        codes = {r.code for r in self.runs}
        if self.junit_error or EXIT_BENCH in codes or EXIT_INTERRUPTED in codes:
            return EXIT_BENCH
        return max(codes & {0, 1, EXIT_USAGE}, default=0)  # a plan not for a unit's model: 2


@dataclass
class _Slot:
    number: int
    urls: dict[str, str]
    answers: dict[str, Any]
    actions: dict[str, Any]
    scenario: str | None = None


def execute_many(req: MultiRequest) -> MultiResult:
    """Run the plan on every chosen slot at once; every slot's record, report and exit code.

    Raises:
        UsageError: bad plan, station, slot choice, scenario or output path (before anything runs).
        EquipmentError: the simulated station could not start.
        KeyboardInterrupt: a second signal while the slots were being stopped.
    """
    from bench.run import load_run_plan

    base = req.base
    plan = load_run_plan(base)
    slots, station_name, shared_urls, db, station_operator = _slots(req)
    answers_all, answers_by_slot = _operator_answers(base)
    check_outputs(base)
    if base.lot is not None:
        _check_lot(db, base.lot)
    sim = _start_sim(req, slots, plan) if base.sim else None
    for slot in slots:  # an --operator-script answers instead of the scenarios' operator
        if base.operator_script is not None:
            slot.answers = answers_by_slot.get(slot.number, answers_all)
    shared = None
    from bench.store import heartbeat

    heart = heartbeat.start(db, station_name, slots=len(slots))  # its own thread and connection
    try:
        if shared_urls:
            from bench.slotdevices import SharedDevices

            shared = SharedDevices(shared_urls)
        queue = PromptQueue(req.pause)
        stopper = _Stopper()
        finished = _Finished()
        threads = []
        results = {slot.number: SlotRun(slot.number) for slot in slots}
        for slot in slots:
            operator = _operator(base, slot, queue, station_operator)
            t = threading.Thread(target=_run_slot, name=f"bench-slot-{slot.number}", daemon=True,
                                 args=(req, plan, slot, operator, shared, db, station_name, stopper,
                                       results[slot.number], finished, heart))
            threads.append(t)
        if req.started is not None:
            req.started([slot.number for slot in slots], plan)
        interrupted = _start_and_wait(threads, finished, stopper, queue)
        interrupts.hold()  # every slot has its verdict stored: a signal now does not undo them
        if sim is not None:
            sim.stop_units_soon()
    finally:
        with interrupts.shielded():
            heart.stop()
        if shared is not None:
            with interrupts.shielded():
                shared.close()
        if sim is not None:
            with interrupts.shielded():
                sim.close()
    runs = [results[n] for n in sorted(results)]
    return MultiResult(runs, interrupted, _write_junit(base, runs))


def _slots(req: MultiRequest) -> tuple[list[_Slot], str, dict[str, str], str | None, str | None]:
    """The chosen slots with their URLs (and scenarios with --sim), the station's name, shared URLs, store, operator."""
    base = req.base
    if base.sim:
        if req.units is None and req.slots:
            raise UsageError(N_("--slot with --sim needs --units N (the simulated station's slots are 1..N)"))
        units = req.units or 1
        if not 1 <= units <= MAX_SIM_UNITS:
            raise UsageError(N_("--units must be between 1 and {most}, not {units}", most=MAX_SIM_UNITS, units=units))
        numbers = list(range(1, units + 1))
        chosen = _choose(numbers, req.slots, N_("the simulated station has slots 1-{units}", units=units))
        for slot in req.scenarios:
            if slot and slot not in numbers:
                raise UsageError(N_("--scenario names slot {slot}; the simulated station has slots 1-{units}", slot=slot,
                                    units=units))
        out = []
        for n in chosen:
            name = req.scenarios.get(n) or req.scenarios.get(0) or "good"
            out.append(_Slot(n, {}, {}, {}, name))
        return out, "sim", {}, base.db, None
    if base.station_file is None:
        raise UsageError(N_("give either --station FILE (real bench) or --sim (simulated bench)"))
    from bench.station import load_station

    station = load_station(base.station_file)
    out = [_Slot(n, dict(station.slots[n]), {}, {}) for n in station.select_slots(req.slots)]
    return out, station.name, dict(station.shared), base.db or station.db, station.operator


def _choose(numbers: list[int], wanted: tuple[int, ...], what: Text) -> list[int]:
    for n in wanted:
        if n not in numbers:
            raise UsageError(N_("--slot {n}: {what}", n=n, what=what))
    return sorted(set(wanted)) if wanted else numbers


def _operator_answers(base: RunRequest) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    if base.operator_script is None:
        return {}, {}
    from bench.scenario import load_slot_operator_script

    return load_slot_operator_script(base.operator_script)


def _check_lot(db: str | None, lot: str) -> None:
    from bench.lots.store import check_lot_open
    from bench.store.connect import open_store

    store = open_store(db)
    try:
        check_lot_open(store, lot)  # unknown or already decided lot: UsageError, exit 2
    finally:
        store.close()


def _start_sim(req: MultiRequest, slots: list[_Slot], plan: Plan) -> Any:
    """The simulated station for the chosen slots, started whole; fills in each slot's URLs, answers and actions."""
    from bench.scenario import load_scenario
    from drivers.sim.station import SimStation

    loaded: dict[str, Any] = {}
    devices = {}
    for slot in slots:
        assert slot.scenario is not None
        scenario = loaded.get(slot.scenario) or loaded.setdefault(slot.scenario, load_scenario(slot.scenario))
        dev = scenario.devices
        if slot.number in req.serials:
            dev = dev.with_serial(req.serials[slot.number])
        devices[slot.number] = dev
        slot.answers = dict(scenario.answers)
    sim = SimStation(devices, plan.devices)
    with interrupts.shielded():  # started whole or not at all, whatever signal comes
        sim.start()
    for slot in slots:
        slot.urls = dict(sim.urls_by_slot[slot.number])
        slot.actions = dict(sim.actions_by_slot.get(slot.number, {}))
    return sim


def _operator(base: RunRequest, slot: _Slot, queue: PromptQueue, station_operator: str | None) -> Operator:
    name = base.operator_name or station_operator
    if base.sim or base.operator_script is not None:
        return ScriptedOperator(slot.answers, slot.actions, name=name or "scripted")
    if base.terminal_operator is None:
        raise UsageError(N_("a real station needs an operator: run from a terminal or give --operator-script"))
    import getpass

    return SlotOperator(base.terminal_operator(name or getpass.getuser()), slot.number, queue)


class _Stopper:
    """The slots' runners, so one Ctrl-C stops them all (even one still being set up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runners: list[Runner] = []
        self.stopping = False

    def add(self, runner: Runner) -> None:
        with self._lock:
            self._runners.append(runner)
            if self.stopping:
                runner.abort()

    def stop_all(self) -> None:
        with self._lock:
            self.stopping = True
            for runner in self._runners:
                runner.abort()


class _Finished:
    """How many slot threads have finished, under a condition the main thread waits on.

    Not ``Thread.join``: on Python 3.11 a join cut short by Ctrl-C can mark a thread that is
    still running as stopped, and the slots would then be left before they stored ABORTED.
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.count = 0

    def one(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait_for(self, n: int) -> None:
        """Until ``n`` slots finished; wakes every quarter second so a signal is acted on."""
        with self.cond:
            while self.count < n:
                self.cond.wait(0.25)


def _start_and_wait(threads: list[threading.Thread], finished: _Finished, stopper: _Stopper,
                    queue: PromptQueue) -> bool:
    """Start every slot and wait for them (a signal is acted on within a quarter second); whether one stopped them."""
    started = 0
    try:
        for t in threads:
            t.start()
            started += 1
        finished.wait_for(len(threads))
        return False
    except KeyboardInterrupt:
        stopper.stop_all()
        queue.close()
        with interrupts.shielded():  # each slot records its step and its ABORTED verdict; a second signal cuts it short
            finished.wait_for(started)
        return True


def _run_slot(req: MultiRequest, plan: Plan, slot: _Slot, operator: Operator, shared: SharedDevices | None,
              db: str | None, station: str, stopper: _Stopper, result: SlotRun, finished: _Finished,
              heart: Heartbeat) -> None:
    """One slot's whole run, on its own thread; never raises (the outcome goes into ``result``)."""
    from bench.runner import Runner
    from bench.slotdevices import SlotDevices
    from bench.store.buffered import open_run_store

    base = replace(req.base, junit=None)  # one JUnit file for the station, written at the end
    store = None
    devices = SlotDevices(slot.urls, shared)
    try:
        store = open_run_store(db, base.notice)
        store.reserve_lots = base.lot is not None  # each unit takes a place in the lot's sample, or is refused
        listener = req.listener_for(slot.number) if req.listener_for is not None else None
        runner = Runner(plan, devices, operator, heart.watch(store), station=station, listener=listener, lot=base.lot,
                        scenario=slot.scenario if base.sim else None)
        runner.record.slot = slot.number
        stopper.add(runner)
        try:
            runner.run()
        except BenchError as exc:
            result.error, result.code = said(exc), exit_code(exc)
        rec = runner.record
        devices.close()
        if rec.verdict != Verdict.RUNNING:
            result.record = rec
            if result.error is None:
                result.code = rec.verdict.exit_code
            result.report, result.report_error = write_reports(base, rec, store)
            if result.report_error and result.code == 0:
                result.code = EXIT_BENCH
    except BenchError as exc:  # the store could not be opened, ...
        result.error, result.code = said(exc), exit_code(exc)
    except Exception as exc:  # a bug must not take the other slots down: one line, the traceback in the log
        _LOG.error("slot %d failed:\n%s", slot.number, "".join(traceback.format_exception(exc)))
        result.error, result.code = N_("internal error: {error}", error=type(exc).__name__ + ": " + str(exc)), EXIT_BENCH
    finally:
        devices.close()
        if store is not None:
            store.close()
        try:
            if req.slot_done is not None:
                req.slot_done(result)
        except Exception:
            _LOG.warning("showing slot %d's end failed", slot.number, exc_info=True)
        finally:
            finished.one()


def _write_junit(base: RunRequest, runs: list[SlotRun]) -> str | None:
    """The station's JUnit file (a suite per unit), when ``--junit`` asked for one; why it failed, or None."""
    if base.junit is None:
        return None
    from bench.reports.files import write_atomic
    from bench.reports.junit import render_junit_many

    records = [r.record for r in runs if r.record is not None]
    try:
        with interrupts.shielded():
            write_atomic(base.junit, render_junit_many(records))
    except OSError as exc:
        return N_("cannot write --junit {path}: {why}", path=str(base.junit), why=exc.strerror or type(exc).__name__)
    return None
