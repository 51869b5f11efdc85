"""The bench a pytest session tests, and the run record it keeps per slot.

A session has one bench: the simulated one (``--bench-sim``, started on first use, torn down at
the end) or a station file's real devices. Each slot (a one-unit bench has one) is a
:class:`SlotBench`: its devices opened on demand and kept for the session, its operator, and one
run record in the store with a step per test, written as each test ends, so a session killed
half way leaves the finished steps stored (and the run marked ABORTED by the next ``bench``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import __version__
from bench.devices import DeviceSet
from bench.errors import BenchError, UsageError
from bench.operator import Operator, ScriptedOperator
from bench.pytestplugin.options import BenchOptions
from bench.record import RunRecord, StepRecord, UnitInfo, Verdict, utcnow
from drivers.i18n import N_
from drivers.interfaces import Device, Unit

_LOG = logging.getLogger(__name__)

#: The roles a station may have, in the order they are started.
ROLES = ("unit", "card_reader", "printer", "host", "supply", "dmm", "scope")


class RoleMissing(LookupError):
    """The station has no device in a role a test asked for (the test is skipped, naming the role).

    ``unstarted`` is True on the simulated bench, which has every role but starts only those the
    collected tests name (a fixture asked for with ``request.getfixturevalue`` is not seen).
    """

    def __init__(self, role: str, *, unstarted: bool = False) -> None:
        super().__init__(role)
        self.role = role
        self.unstarted = unstarted


@dataclass
class SlotBench:
    """One slot of the session's bench: its devices, its operator and its run record.

    Attributes:
        number: the slot number (1 on a one-unit bench).
        multi: whether the bench has several slots (the record then names its slot).
        urls: role -> URL of the slot's devices (shared ones included).
        devices: the slot's devices (the same :class:`~bench.devices.DeviceSet` ``bench run`` uses).
        operator: who does what a test asks of a person.
        record: the slot's run record, started with the slot.
    """

    number: int
    multi: bool
    urls: dict[str, str]
    devices: DeviceSet
    operator: Operator
    record: RunRecord
    store: Any
    simulated: bool = False
    _steps: int = field(default=0, repr=False)

    def device(self, role: str) -> Device:
        """The open device in ``role`` (opened on first use, kept for the session).

        Raises:
            RoleMissing: the station has no device in ``role``.
            BenchError: the device could not be opened (an equipment or device error, one line).
        """
        if role not in self.urls:
            raise RoleMissing(role, unstarted=self.simulated and role in ROLES)
        self.devices.open([role])
        err = self.devices.error(role)
        if err is not None:
            raise err
        dev = self.devices.get(role)
        assert dev is not None
        return dev

    def add_step(self, step: StepRecord) -> StepRecord:
        """Number ``step`` as the record's next one, keep it and store it at once."""
        step.index = self._steps
        self._steps += 1
        self.record.steps.append(step)
        self.store.add_step(self.record.run_id, step)
        return step

    def identify(self) -> None:
        """Ask the unit who it is, for the record (a unit that does not answer is left unnamed)."""
        if "unit" not in self.urls:
            return
        try:
            unit = self.device("unit")
            if not isinstance(unit, Unit):
                return
            ident = unit.identify()
        except BenchError as exc:
            _LOG.info("slot %d: the unit did not identify: %s", self.number, exc)
            return
        info = UnitInfo(ident.model, ident.serial, ident.hw_revision, ident.firmware)
        self.record.unit = info
        self.store.set_unit(self.record.run_id, info)


@dataclass
class FinishedRun:
    """A slot's run as the session ended it: the record, its report folder, why a report failed."""

    slot: SlotBench
    report: Path | None = None
    report_error: str | None = None


class BenchSession:
    """The session's bench, started on first use.

    Args:
        options: the ``--bench-*`` options.
        terminal_operator: a person at a real station, by operator name (prompts on the terminal).
        name: what the run records call the plan (``pytest:<folder>``).

    Raises:
        PlanError, UsageError, ConfigError: a bad scenario, station file or operator script, a
            report folder that cannot be written, or a malformed store URL (one line, before any test runs).
    """

    def __init__(self, options: BenchOptions, *, terminal_operator: Callable[[str], Operator] | None = None,
                 name: str = "pytest") -> None:
        from bench.scenario import load_operator_script, load_scenario
        from bench.station import load_station

        self.options = options
        self.name = name
        self._terminal_operator = terminal_operator
        self.scenario = load_scenario(options.scenario or "good") if options.sim else None
        self.station = load_station(options.station_file) if options.station_file is not None else None
        self.db_url = options.db or (self.station.db if self.station is not None else None)
        if self.db_url is not None:
            _check_store_url(self.db_url)
        self.answers: dict[str, Any] = dict(self.scenario.answers) if self.scenario is not None else {}
        if options.operator_script is not None:
            self.answers = load_operator_script(options.operator_script)
        if options.report_dir is not None:
            from bench.reports.files import check_writable_dir

            check_writable_dir(options.report_dir, "--bench-report")
        if self.station is not None:
            self.slot_numbers = self.station.slot_numbers
        else:
            self.slot_numbers = list(range(1, (options.units or 1) + 1))
        self.roles: set[str] = {"unit"}  # the simulator starts these (the unit names the record)
        self.test_ids: list[str] = []
        self._sim: Any = None
        self._store: Any = None
        self._shared: Any = None
        self._urls: dict[int, dict[str, str]] = {}
        self._actions: dict[int, dict[str, Any]] = {}
        self._slots: dict[int, SlotBench] = {}
        self._failed: BenchError | None = None

    @property
    def multi(self) -> bool:
        """Whether tests run once per slot."""
        return len(self.slot_numbers) > 1

    @property
    def station_name(self) -> str:
        """The station's name for the records (``sim`` for the simulated bench)."""
        return self.station.name if self.station is not None else "sim"

    def want(self, roles: Iterable[str], test_ids: Iterable[str]) -> None:
        """Before the first test: the roles the collected tests use and their ids (the record's plan hash)."""
        self.roles.update(r for r in roles if r in ROLES)
        self.test_ids = sorted(set(test_ids))

    def slot(self, number: int) -> SlotBench:
        """Slot ``number``, its bench started and its record opened on first use.

        Raises:
            BenchError: the bench or the store could not be started (raised again for every
                later test: it is not retried).
        """
        found = self._slots.get(number)
        if found is not None:
            return found
        if self._failed is not None:
            raise self._failed
        try:
            self._start()
        except BenchError as exc:
            self._failed = exc
            raise
        made = self._slots[number] = self._open_slot(number)
        made.identify()
        return made

    def _start(self) -> None:
        if self._store is None:
            from bench.store.connect import open_store

            self._store = open_store(self.db_url)
        if self._urls:
            return
        if self.station is not None:
            from bench.slotdevices import SharedDevices

            if self.multi and self.station.shared:
                self._shared = SharedDevices(self.station.shared)
            self._urls = {n: self.station.slot_urls(n) for n in self.slot_numbers}
            return
        assert self.scenario is not None
        if self.multi:
            from drivers.sim.station import SimStation

            sim: Any = SimStation({n: self.scenario.devices for n in self.slot_numbers}, self.roles)
            self._sim = sim.start()
            self._urls = {n: dict(sim.urls_by_slot[n]) for n in self.slot_numbers}
            self._actions = {n: dict(sim.actions_by_slot[n]) for n in self.slot_numbers}
        else:
            from drivers.sim.bench import SimBench

            sim = SimBench(self.scenario.devices, self.roles)
            self._sim = sim.start()
            self._urls = {1: dict(sim.urls)}
            self._actions = {1: dict(sim.actions)}

    def _open_slot(self, number: int) -> SlotBench:
        from bench.slotdevices import SlotDevices

        urls = self._urls[number]
        if self._shared is not None:
            assert self.station is not None
            devices: DeviceSet = SlotDevices(self.station.slots[number], self._shared)
        else:
            devices = DeviceSet(urls)
        operator = self._operator(number)
        digest = hashlib.sha256("\n".join(self.test_ids).encode()).hexdigest()
        record = RunRecord(
            run_id=str(uuid.uuid4()), plan_name=self.name, plan_version=digest[:8], plan_hash=digest,
            station=self.station_name, operator=operator.name, started_at=utcnow(),
            scenario=self.scenario.name if self.scenario is not None else None, bench_version=__version__,
            slot=number if self.multi else None,
        )
        self._store.start_run(record)
        return SlotBench(number, self.multi, dict(devices.urls), devices, operator, record, self._store,
                         simulated=self.station is None)

    def _operator(self, number: int) -> Operator:
        station_operator = self.station.operator if self.station is not None else None
        if self.options.sim or self.options.operator_script is not None:
            return ScriptedOperator(self.answers, self._actions.get(number, {}),
                                    name=station_operator or "scripted")
        if self._terminal_operator is None:
            raise UsageError(N_("a real station needs an operator: run from a terminal or give --bench-operator-script"))
        import getpass

        return self._terminal_operator(station_operator or getpass.getuser())

    def finish(self, interrupted: str | None = None) -> list[FinishedRun]:
        """End every slot's run (ABORTED, saying ``interrupted``, when the session was), write the
        reports, close the devices, the simulator and the store. Harmless twice."""
        from bench.diagnosis import diagnose, summarize, verdict_of

        done: list[FinishedRun] = []
        try:
            for slot in self._slots.values():
                rec = slot.record
                if rec.verdict != Verdict.RUNNING:
                    continue
                rec.ended_at = utcnow()
                rec.findings = diagnose(rec.steps)
                rec.verdict = Verdict.ABORTED if interrupted else verdict_of(rec.steps)
                rec.summary = interrupted or summarize(rec.verdict, rec.findings, rec.steps)
                if not rec.steps and not interrupted:
                    rec.verdict, rec.summary = Verdict.INCOMPLETE, "no test ran"
                self._store.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)
                done.append(FinishedRun(slot))
            for run in done:
                run.report, run.report_error = self._report(run.slot.record)
        finally:
            self._close()
        return done

    def _report(self, rec: RunRecord) -> tuple[Path | None, str | None]:
        if self.options.report_dir is None:
            return None, None
        from bench.run import write_report_files

        return write_report_files(rec, self._store, self.options.report_dir)

    def _close(self) -> None:
        for slot in self._slots.values():
            with contextlib.suppress(Exception):
                slot.devices.close()
        if self._shared is not None:
            with contextlib.suppress(Exception):
                self._shared.close()
            self._shared = None
        if self._sim is not None:
            sim, self._sim = self._sim, None
            sim.close()
        if self._store is not None:
            store, self._store = self._store, None
            store.close()


def _check_store_url(url: str) -> None:
    """A malformed store URL, or a SQLite file in a folder that is not there, before any test runs
    (the store itself is opened by the first bench test: a session without one touches nothing)."""
    from bench.store.sqlite import check_sqlite_path, sqlite_file

    found = sqlite_file(url)
    if found is not None:
        check_sqlite_path(found[0], url)
        return
    from bench.store.engine import parse_url

    parse_url(url)
