"""The pytest plugin's hooks (entry point ``pytest11: bench``): installing ``pos-bench`` is enough.

Options are read once (:mod:`~bench.pytestplugin.options`); with a bench, the session's
:class:`~bench.pytestplugin.session.BenchSession` lives in the config's stash. Each test that
uses a bench fixture becomes a step of its slot's run record as it ends; the records are
finished, reported and the bench torn down when the session ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from bench.controls import escape_controls
from bench.pytestplugin.fixtures import (  # noqa: F401  (fixtures are found as the plugin module's names)
    SESSION,
    STEP,
    bench_slot,
    card_reader,
    dmm,
    host,
    measure,
    operator,
    printer,
    scope,
    station,
    supply,
    unit,
)
from bench.pytestplugin.options import add_options, read_options, session_language
from drivers.i18n import N_, _, ngettext, tr, using_language

_LOG = logging.getLogger(__name__)

_FINISHED = pytest.StashKey[list[Any]]()
_FINISH_ERROR = pytest.StashKey[str]()
_LOG_FACTORY = pytest.StashKey[Callable[..., logging.LogRecord]]()
_SIGNALS = pytest.StashKey[Any]()

#: Fixture name -> the station role it needs started.
ROLE_FIXTURES = {role: role for role in ("unit", "card_reader", "printer", "host", "supply", "dmm", "scope")}


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--bench-*`` options."""
    add_options(parser)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Read the options and load scenario, station and operator script: a problem is one line, exit 4."""
    from bench.errors import BenchError

    try:
        options = read_options(config)
        if not options.enabled:
            return
        from bench.pytestplugin.session import BenchSession

        session = BenchSession(options, terminal_operator=_terminal_operator(config),
                               name=f"pytest:{config.rootpath.name}")
    except BenchError as exc:
        with using_language(session_language()):  # also for an option refused before the session spoke it
            raise pytest.UsageError(tr(exc)) from None
    config.stash[SESSION] = session
    from bench import interrupts

    # SIGTERM (a CI job cancelled, a kill) and SIGHUP end the session as Ctrl-C does, as they end
    # `bench run`: the runs are stored ABORTED and the bench torn down, not left RUNNING by a killed process.
    config.stash[_SIGNALS] = interrupts.install()
    config.stash[_LOG_FACTORY] = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_masking_factory(config.stash[_LOG_FACTORY]))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put logging and the signal handlers back as they were."""
    factory = config.stash.get(_LOG_FACTORY, None)
    if factory is not None:
        logging.setLogRecordFactory(factory)
    if _SIGNALS in config.stash:
        from bench import interrupts

        interrupts.restore(config.stash[_SIGNALS])
        del config.stash[_SIGNALS]


def _masking_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Log records whose text has card numbers and track data masked, whichever handler shows them
    (pytest's live log, its captured log, a file): a bench session's logs may hold what a unit said."""
    from drivers.codecs.pan import redact

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a malformed call: let logging report it as it would
            return record
        masked = redact(text)
        if masked != text:
            record.msg, record.args = masked, None
        return record

    return factory


def _terminal_operator(config: pytest.Config) -> Any:
    def make(name: str) -> Any:
        from bench.cli.console import TerminalOperator
        from bench.pytestplugin.prompts import PausedCaptureOperator, capture_suspended

        capman = config.pluginmanager.getplugin("capturemanager")
        return PausedCaptureOperator(TerminalOperator(name), capture_suspended(capman))

    return make


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A YAML plan named on the command line (or matching ``bench_plans``) is collected as tests."""
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    from bench.pytestplugin.plans import collect_plan

    return collect_plan(file_path, parent)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On a bench with several slots, every bench test runs once per slot (ids ``slot1``, ``slot2``...)."""
    session = metafunc.config.stash.get(SESSION, None)
    if session is None or not session.multi or "bench_slot" not in metafunc.fixturenames:
        return
    metafunc.parametrize("bench_slot", session.slot_numbers, indirect=True,
                         ids=[f"slot{n}" for n in session.slot_numbers])


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """In a bench session a card number in a parameter is masked in the test's id, which pytest
    shows and writes (the progress lines, the summary, the JUnit XML's test case names)."""
    if SESSION not in config.stash or not isinstance(val, str):
        return None
    from drivers.codecs.pan import redact

    masked = redact(val)
    return masked if masked != val else None


@pytest.hookimpl(trylast=True)  # after -k/-m deselected theirs: the tests that will run
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tell the bench which roles the collected tests use (the simulator starts only those)."""
    bench = config.stash.get(SESSION, None)
    if bench is None:
        return
    from bench.pytestplugin.fixtures import step_name
    from bench.pytestplugin.session import ROLES

    roles: set[str] = set()
    ids: list[str] = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        wanted = getattr(item, "bench_roles", None)  # a plan's step
        if wanted is None and "bench_slot" not in names:
            continue
        ids.append(step_name(item))
        if wanted is not None:
            roles.update(wanted)
        elif "station" in names:
            roles.update(ROLES)
        else:
            roles.update(role for name, role in ROLE_FIXTURES.items() if name in names)
    bench.want(roles, ids)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """Fold each phase into the test's step; store the step once its teardown ends.

    Only tests with the ``STEP`` stash key (set by the ``bench_slot`` fixture) are stored here; a
    plan's items never set it: the plan's runner stores their steps (:mod:`.plans`).
    """
    report = yield
    held = item.stash.get(STEP, None) or _skipped_before_its_fixtures(item, report)
    if held is None:
        return report
    from bench.errors import BenchError
    from bench.pytestplugin.steps import mask_report

    slot, step = held
    mask_report(report)
    step.take(report, call)
    if report.when == "teardown":
        del item.stash[STEP]
        try:
            slot.add_step(step.record())
        except BenchError as exc:  # the store went away: say so on the test, the session goes on
            _LOG.error("step %s not stored: %s", step.name, exc)
            report.sections.append(("bench", _("this test's step was not stored: {why}").format(why=tr(exc))))
    return report


def _skipped_before_its_fixtures(item: pytest.Item, report: pytest.TestReport) -> Any:
    """A bench test a ``skip``/``skipif`` mark skipped before its fixtures ran: a SKIP step all the
    same, as when it skips itself (a run with a test not run cannot PASS)."""
    bench = item.config.stash.get(SESSION, None)
    if bench is None or report.when != "setup" or not report.skipped:
        return None
    if "bench_slot" not in getattr(item, "fixturenames", ()):
        return None
    from bench.errors import BenchError
    from bench.pytestplugin.fixtures import step_name
    from bench.pytestplugin.steps import TestStep

    callspec = getattr(item, "callspec", None)
    number = callspec.params.get("bench_slot", bench.slot_numbers[0]) if callspec else bench.slot_numbers[0]
    try:
        slot = bench.slot(int(number))
    except BenchError:  # the bench did not start: the tests that use it say so
        return None
    held = item.stash[STEP] = (slot, TestStep(step_name(item)))
    return held


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """End each slot's run record (ABORTED when the session was interrupted), write reports, tear down."""
    bench = session.config.stash.get(SESSION, None)
    if bench is None:
        return
    from bench import interrupts
    from bench.pytestplugin.plans import finish as finish_plans

    if _SIGNALS in session.config.stash:
        interrupts.hold()  # the runs are ended whole: a signal now is noted, a second one interrupts
    finish_plans(session.config)  # a plan's runner still going stops before the bench goes
    interrupted = None
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        who = interrupts.interrupted_by() if interrupts.received() else N_("interrupted")
        interrupted = N_("{who} before every test ran", who=who)
    from bench.errors import BenchError, said

    try:
        session.config.stash[_FINISHED] = bench.finish(interrupted)
    except BenchError as exc:  # the store went away at the end: say so, and the session did not pass
        session.config.stash[_FINISH_ERROR] = said(exc)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per run: slot, unit, verdict, steps, the run id and the report folder."""
    finished = config.stash.get(_FINISHED, [])
    problem = config.stash.get(_FINISH_ERROR, None)
    if not finished and problem is None:
        return
    terminalreporter.write_sep("=", "bench")  # as pytest's own sections: a pending progress line ends first
    if problem is not None:
        terminalreporter.write_line(escape_controls(_("error: the runs could not be finished: {why}").format(
            why=tr(problem))), red=True)
    for run in finished:
        rec = run.slot.record
        who = f"{rec.unit.model} {rec.unit.serial}" if rec.unit is not None else _("unit not identified")
        steps = ngettext("{n} step", "{n} steps", len(rec.steps)).format(n=len(rec.steps))
        line = _("{unit}: {verdict} ({steps}) - {summary} - run {run}").format(
            unit=who, verdict=rec.verdict.value, steps=steps, summary=tr(rec.summary), run=rec.run_id[:8])
        if rec.slot is not None:
            line = _("slot {slot}: {line}").format(slot=rec.slot, line=line)
        if run.report is not None:
            line += " - " + _("report {path}").format(path=run.report)
        if run.report_error:
            line += f" - {tr(run.report_error)}"
        terminalreporter.write_line(escape_controls(line))
