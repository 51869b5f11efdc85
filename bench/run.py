"""What ``bench run`` does, apart from parsing arguments: wire plan, bench, store and runner.

Kept out of :mod:`bench.cli` so tests and other front ends (the lot inspection) can run
a plan the same way the command line does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import BenchError, ConfigError, PlanError, UsageError
from bench.operator import Operator, ScriptedOperator
from bench.record import RunRecord, Verdict

if TYPE_CHECKING:
    from bench.runner import RunListener

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
    junit: Path | None = None
    listener: RunListener | None = None  # progress as steps end (the CLI's console)
    terminal_operator: Callable[[str], Operator] | None = None  # prompts a person at a real station


def execute(req: RunRequest) -> tuple[RunRecord, Path | None]:
    """Run a plan as the request says; return the record and the report folder.

    Raises:
        UsageError: bad plan, station or scenario (before anything runs).
        Interrupted: Ctrl-C (the run is stored as ABORTED first).
    """
    from bench.devices import DeviceSet
    from bench.plan import load_plan
    from bench.runner import Runner

    plan = load_plan(req.plan_file)
    scenario = None
    if req.sim:
        from drivers.sim.scenario import load_scenario

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
        answers = _load_answers(req.operator_script)
    elif scenario is not None:
        answers = dict(scenario.operator.get("answers", {"*": True}))

    store = _open_store(db)
    if req.lot is not None:
        from bench.lots.store import check_lot_open

        try:
            check_lot_open(store, req.lot)  # unknown or already decided lot: UsageError, exit 2
        except BaseException:
            store.close()
            raise
    listener = req.listener
    report_path = None
    try:
        with _bench(scenario, plan.devices) as (sim_urls, actions):
            urls = {**urls, **sim_urls}
            operator = _operator(req, answers, actions, station_operator)
            with DeviceSet(urls) as devices:
                runner = Runner(plan, devices, operator, store, station=station_name, listener=listener,
                                lot=req.lot, scenario=scenario.name if scenario else None)
                try:
                    rec = runner.run()
                except BenchError as exc:
                    # The run ended early (unit unreachable, Ctrl-C) but it ended: its record
                    # is stored, and it gets its reports like any other run.
                    if runner.record.verdict != Verdict.RUNNING:
                        exc.record = runner.record  # type: ignore[attr-defined]
                        exc.report = _write_reports(req, runner.record, store)  # type: ignore[attr-defined]
                    raise
        report_path = _write_reports(req, rec, store)
    finally:
        store.close()
    return rec, report_path


def _write_reports(req: RunRequest, rec: RunRecord, store: Any) -> Path | None:
    """Write the run's report folder (and --junit file) while the store is open.

    The store is needed: the HTML shows the unit's trends, the fault report when it last passed.
    """
    from bench.reports import report_dir_name
    from bench.reports.render import render, write_attachments, write_reports

    report_path = None
    if req.report_dir is not None:
        report_path = req.report_dir / report_dir_name(rec)
        write_reports(rec, report_path, ("json", "html", "junit"), store)
        write_attachments(rec, report_path)
    if req.junit is not None:
        req.junit.parent.mkdir(parents=True, exist_ok=True)
        req.junit.write_text(render(rec, "junit"), encoding="utf-8")
    return report_path


@contextlib.contextmanager
def _bench(scenario: Any, roles: set[str]) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    if scenario is None:
        yield {}, {}
        return
    from drivers.sim.bench import SimBench

    with SimBench(scenario, roles) as sim:
        yield dict(sim.urls), dict(sim.actions)


def _operator(req: RunRequest, answers: dict[str, Any], actions: dict[str, Any], station_operator: str | None) -> Operator:
    name = req.operator_name or station_operator
    if req.sim or req.operator_script is not None:
        return ScriptedOperator(answers, actions, name=name or "scripted")
    if req.terminal_operator is None:
        raise UsageError("a real station needs an operator: run from a terminal or give --operator-script")
    import getpass

    return req.terminal_operator(name or getpass.getuser())


def _load_answers(path: Path) -> dict[str, Any]:
    from drivers.yamlsafe import load_file

    try:
        data = load_file(path)
    except ConfigError as exc:
        raise PlanError.of(exc) from exc
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict):
        raise PlanError("an operator script is a mapping with an 'answers' mapping", path=str(path))
    return dict(data.get("answers", {}))


def _open_store(db: str | None) -> Any:
    """The store for a run: ``sqlite3`` alone on a current SQLite file (no SQLAlchemy), else SQLAlchemy's."""
    from bench.store.connect import open_store

    store = open_store(db)
    aborted = store.mark_abandoned()
    for run_id in aborted:
        _LOG.warning("run %s was left open by a process that is gone; marked ABORTED", run_id)
    return store
