"""What ``bench run`` does, apart from parsing arguments: wire plan, bench, store and runner.

Kept out of :mod:`bench.cli` so tests and other front ends (the lot inspection) can run
a plan the same way the command line does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import interrupts
from bench.errors import BenchError, UsageError
from bench.operator import Operator, ScriptedOperator
from bench.record import RunRecord, Verdict
from drivers.i18n import N_, Text, join_texts

if TYPE_CHECKING:
    from bench.runner import RunListener
    from drivers.sim.scenario import SimDevices

_LOG = logging.getLogger(__name__)


@dataclass
class RunRequest:
    """Everything ``bench run`` was asked to do."""

    plan_file: Path
    station_file: Path | None = None
    sim: bool = False
    scenario: str | None = None
    report_dir: Path | None = Path("reports")
    db: str | None = None
    operator_name: str | None = None
    operator_script: Path | None = None
    lot: str | None = None
    case_id: int | None = None  # the repair case the run belongs to (bench run --case)
    junit: Path | None = None
    listener: RunListener | None = None  # progress as steps end (the CLI's console)
    terminal_operator: Callable[[str], Operator] | None = None  # prompts a person at a real station
    unit_serial: str | None = None  # with sim: the simulated unit's serial (one unit of a lot)
    allow_downgrade: bool = False  # --allow-downgrade: unit.firmware_update may flash an older image
    notice: Callable[[str], None] | None = None  # one line for the console (results buffered: bench sync)


def load_run_plan(req: RunRequest) -> Any:
    """The plan a run executes: the file's, with the run's options applied (``--allow-downgrade``)."""
    from bench.plan import load_plan, with_param

    plan = load_plan(req.plan_file)
    if req.allow_downgrade:
        plan = with_param(plan, "unit.firmware_update", "allow_downgrade", True, option="--allow-downgrade")
    return plan


def execute(req: RunRequest) -> RunResult:
    """Run a plan as the request says; the record, the report folder, and any report that failed.

    Raises:
        UsageError: bad plan, station or scenario, or report destinations that cannot be
            written (before anything runs).
        Interrupted: Ctrl-C or another terminating signal (the run is stored as ABORTED first).
    """
    plan = load_run_plan(req)
    scenario = None
    if req.sim:
        from bench.scenario import load_scenario

        scenario = load_scenario(req.scenario or "good")
    station_name = "sim"
    urls: dict[str, str] = {}
    db = req.db
    station_operator = None
    if req.station_file is not None:
        from bench.station import load_station

        station = load_station(req.station_file)
        station_name, urls, station_operator = station.name, station.devices, station.operator
        db = db or station.db
    answers: dict[str, Any] = {}
    if req.operator_script is not None:
        from bench.scenario import load_operator_script

        answers = load_operator_script(req.operator_script)
    elif scenario is not None:
        answers = scenario.answers
    check_outputs(req)
    store, case = _case_store(req, db)  # an unknown or closed case: UsageError before anything runs
    serial = req.unit_serial or (case.serial if case is not None else None)  # a simulated unit is the case's
    sim_devices = None
    if scenario is not None:
        sim_devices = scenario.devices.with_serial(serial) if serial else scenario.devices
    # The simulated unit's process starts first and comes up while this one opens the store
    # and imports what the run needs; the run waits for it only when it opens the devices.
    try:
        sim = _spawn_sim(sim_devices, plan.devices)
    except BaseException:
        if store is not None:
            store.close()
        raise
    try:
        store = store or _open_store(db, req.notice)
    except BaseException:
        _close_sim(sim)
        raise
    sink = None
    from bench.store import heartbeat

    heart = heartbeat.start(db, station_name)  # its own thread and connection: never the run's problem
    try:
        from bench.devices import DeviceSet
        from bench.runner import Runner

        if req.lot is not None:
            from bench.lots.store import check_lot_open

            check_lot_open(store, req.lot)  # unknown or already decided lot: UsageError, exit 2
            store.reserve_lots = True  # the run takes a place in the lot's sample as it starts, or is refused
        listener = req.listener
        actions: dict[str, Any] = {}
        if sim is not None:
            with interrupts.shielded():
                sim.start()  # waits for the unit's process to serve
            urls, actions = {**urls, **sim.urls}, dict(sim.actions)
        operator = _operator(req, answers, actions, station_operator)
        devices = DeviceSet(urls)
        if case is not None:
            from bench.cases.attach import CaseSink

            sink = CaseSink(store, case)
        try:
            runner = Runner(plan, devices, operator, heart.watch(sink or store), station=station_name, listener=listener,
                            lot=req.lot, scenario=scenario.name if scenario else None)
            try:
                rec = runner.run()
            except BenchError as exc:
                # The run ended early (unit unreachable, Ctrl-C) but it ended: its record
                # is stored, and it gets its reports like any other run.
                interrupts.hold()
                if runner.record.verdict != Verdict.RUNNING:
                    exc.record = runner.record  # type: ignore[attr-defined]
                    exc.case, exc.case_note = _case_outcome(sink)  # type: ignore[attr-defined]
                    exc.report, exc.report_error = write_reports(req, runner.record, store)  # type: ignore[attr-defined]
                raise
            interrupts.hold()  # the verdict is stored: a signal from now on does not undo the run
        finally:
            with interrupts.shielded():
                devices.close()
        if sim is not None:
            sim.stop_unit_soon()  # it exits while the reports are written; closing the bench waits
        report_path, report_error = write_reports(req, rec, store)
    finally:
        try:
            _close_sim(sim)
        finally:
            with interrupts.shielded():
                heart.stop()
                store.close()
    return RunResult(rec, report_path, report_error, *_case_outcome(sink))


@dataclass
class RunResult:
    """What ``bench run`` did: the finished record, its report folder, and why a report failed (if one did)."""

    record: RunRecord
    report: Path | None
    report_error: str | None = None
    case: str | None = None  # C<n>: the case the run joined
    case_note: str | None = None  # why the run did not join the case it was asked to

    def __iter__(self) -> Iterator[Any]:  # rec, report_path = execute(...) keeps working
        return iter((self.record, self.report))


def check_outputs(req: RunRequest) -> None:
    """Refuse, before anything runs, report destinations that cannot be written (exit 2, naming the path).

    The report folder is created (it would be anyway) and a file is made and removed in it and in
    the ``--junit`` file's folder: the user learns now, not after the whole run. A disk that fills
    up during the run is still possible: :func:`write_reports` copes with that.

    Raises:
        UsageError: naming the path and what is wrong with it.
    """
    from bench.reports.files import check_writable_dir, check_writable_file

    if req.report_dir is not None:
        check_writable_dir(req.report_dir, "--report")
    if req.junit is not None:
        check_writable_file(req.junit, "--junit")


def report_formats(rec: RunRecord) -> tuple[str, ...]:
    """What a run's report folder holds: the record, the HTML and JUnit, and for a unit that failed
    its fault report (rma.md, rma.json), so the repair desk needs no second command."""
    base = ("json", "html", "junit")
    return (*base, "rma") if rec.verdict == Verdict.FAIL else base


def write_reports(req: RunRequest, rec: RunRecord, store: Any) -> tuple[Path | None, str | None]:
    """Write the run's report folder (and --junit file) while the store is open; never raises for a file.

    The store is needed: the HTML shows the unit's trends, the fault report when it last passed.
    Each file is written whole or not at all (temp file and rename), under :func:`interrupts.shielded`.

    Returns:
        The report folder (None when none was asked for or it could not be written) and, when a
        report could not be written, one line saying which and why (the run is stored regardless).
    """
    return write_report_files(rec, store, req.report_dir, req.junit)


def write_report_files(
    rec: RunRecord, store: Any, report_dir: Path | None, junit: Path | None = None
) -> tuple[Path | None, str | None]:
    """:func:`write_reports` for any front end: the folder for ``rec`` under ``report_dir``, and ``junit``."""
    from bench.reports import report_dir_name
    from bench.reports.files import write_atomic
    from bench.reports.render import render, write_attachments
    from bench.reports.render import write_reports as write_folder

    report_path = None
    problems: list[Text] = []
    with interrupts.shielded():
        if report_dir is not None:
            folder = report_dir / report_dir_name(rec)
            try:
                write_folder(rec, folder, report_formats(rec), store)
                write_attachments(rec, folder)
                report_path = folder
            except OSError as exc:
                problems.append(N_("cannot write the report folder {folder}: {why}", folder=str(folder), why=_why(exc)))
        if junit is not None:
            try:
                write_atomic(junit, render(rec, "junit"))
            except OSError as exc:
                problems.append(N_("cannot write --junit {path}: {why}", path=str(junit), why=_why(exc)))
    for problem in problems:
        _LOG.debug("run %s: %s", rec.run_id, problem)
    return report_path, join_texts(problems, separator=";") or None


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _spawn_sim(devices: SimDevices | None, roles: set[str]) -> Any:
    """The simulated bench with its unit's process started (not yet serving), or None without --sim."""
    if devices is None:
        return None
    from drivers.sim.bench import SimBench

    sim = SimBench(devices, roles)
    with interrupts.shielded():
        return sim.spawn()


def _close_sim(sim: Any) -> None:
    """Tear the simulated bench down whole, whatever signal comes."""
    if sim is not None:
        with interrupts.shielded():
            sim.close()


def _operator(req: RunRequest, answers: dict[str, Any], actions: dict[str, Any], station_operator: str | None) -> Operator:
    name = req.operator_name or station_operator
    if req.sim or req.operator_script is not None:
        return ScriptedOperator(answers, actions, name=name or "scripted")
    if req.terminal_operator is None:
        raise UsageError(N_("a real station needs an operator: run from a terminal or give --operator-script"))
    import getpass

    return req.terminal_operator(name or getpass.getuser())


def _case_store(req: RunRequest, db: str | None) -> tuple[Any, Any]:
    """With ``--case``: the store, open, and the case (refused when unknown or closed); else ``(None, None)``."""
    if req.case_id is None:
        return None, None
    from bench.cases.store import check_case_open

    store = _open_store(db)
    try:
        return store, check_case_open(store, req.case_id)
    except BaseException:
        store.close()
        raise


def _case_outcome(sink: Any) -> tuple[str | None, str | None]:
    """The case the run joined (``C<n>``) and why it did not, from the run's :class:`CaseSink` (None: no --case)."""
    if sink is None:
        return None, None
    return (sink.case.label if sink.attached else None), sink.note


def _open_store(db: str | None, notice: Callable[[str], None] | None = None) -> Any:
    """The store for a run: ``sqlite3`` alone on a current SQLite file (no SQLAlchemy), else SQLAlchemy's;
    on PostgreSQL with the outbox behind it (:func:`bench.store.buffered.open_run_store`).

    Opening it marks ABORTED the runs that crashed processes left open (:func:`open_store`).
    """
    from bench.store.buffered import open_run_store

    return open_run_store(db, notice)
