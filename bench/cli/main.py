"""The command line: ``bench run``, ``bench plan check``, ``bench list``, ``bench station check``, ...

Conventions, everywhere: exit 0 pass, 1 unit did not pass (FAIL or INCOMPLETE), 2 usage or
plan error, 3 bench or equipment error, 130 interrupted; every command that prints results has ``--json``;
errors go to stderr as one line (``--debug`` for the traceback). Heavy modules are
imported inside the commands so ``bench --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from bench import __version__
from bench.cli import safe
from bench.cli.clicktr import Group
from bench.cli.params import PLAN
from bench.errors import EXIT_BENCH, EXIT_INTERRUPTED, EXIT_USAGE, BenchError, Interrupted, UsageError, exit_code
from drivers.i18n import N_, _, tr

_LOG = logging.getLogger("bench")


class _State:
    debug = False


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(safe.SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    try:
        from drivers.codecs.pan import RedactingFilter

        handler.addFilter(RedactingFilter())
    except ImportError:  # pragma: no cover - drivers.codecs.pan ships with bench
        pass
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for noisy in ("sqlalchemy", "PIL", "usb", "smartcard"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Bench(Group):
    """The ``bench`` group: a reader that went away (``bench history X | head -1``) interrupts the command.

    Click would exit 1 on a closed pipe, which here says "the unit failed".
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """Parse the command line (``--help`` and ``--version`` print here)."""
        with _reader_gone_is_interrupted():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command."""
        with _reader_gone_is_interrupted():
            return super().invoke(ctx)


@contextlib.contextmanager
def _reader_gone_is_interrupted() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from exc


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        safe.echo(_("{prog}, version {version}").format(prog="bench", version=__version__))
        ctx.exit()


@click.group(cls=_Bench, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help=N_("Show the version and exit."))
@click.option("--lang", metavar="LANG", expose_value=False,
              help=N_("Language of the output: en or zh_CN (default: BENCH_LANG, the station file's lang, "
                      "the locale). Give it before the command: bench --lang zh_CN run ..."))
@click.option("--debug", is_flag=True, help=N_("Log everything and show tracebacks."))
def cli(debug: bool) -> None:
    """Self-test bench for point-of-sale payment terminals."""
    _State.debug = debug
    _setup_logging(debug)


# ---------------------------------------------------------------------------- run
@cli.command()
@click.argument("plan_file", metavar="PLAN", type=PLAN)
@click.option("--station", "station_file", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Station file (stations/NAME.toml) with the bench's device URLs."))
@click.option("--sim", is_flag=True, help=N_("Start the simulated bench, run on it, and tear it down."))
@click.option("--scenario", "scenarios", multiple=True, metavar="[SLOT=]NAME",
              help=N_("With --sim: a fault scenario (name or file); default 'good'. With --units, "
                      "SLOT=NAME puts it on one slot (repeatable); the others run NAME or 'good'."))
@click.option("--units", type=click.IntRange(1, 16), help=N_("With --sim: test N simulated units at once (slots 1..N)."))
@click.option("--slot", "slots", type=click.IntRange(1, 64), multiple=True,
              help=N_("On a multi-up station: run only this slot (repeatable). Default: every slot."))
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=Path("reports"),
              show_default=True, help=N_("Directory for the run's report folder."))
@click.option("--db", help=N_("Results store URL (default: the local SQLite store)."))
@click.option("--operator", "operator_name", help=N_("Operator name recorded with the run."))
@click.option("--operator-script", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("YAML answers for a scripted operator (no person needed)."))
@click.option("--lot", help=N_("Incoming-inspection lot this unit belongs to."))
@click.option("--case", "case_ref", metavar="ID", help=N_("Repair case (C<n>) the run belongs to (bench case open)."))
@click.option("--junit", "junit_file", type=click.Path(path_type=Path),
              help=N_("Also write a JUnit XML file here (for CI)."))
@click.option("--allow-downgrade", is_flag=True,
              help=N_("Let the plan's unit.firmware_update steps flash an image older than the running firmware."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the run record as JSON on stdout."))
def run(
    plan_file: Path,
    station_file: Path | None,
    sim: bool,
    scenarios: tuple[str, ...],
    units: int | None,
    slots: tuple[int, ...],
    report_dir: Path,
    db: str | None,
    operator_name: str | None,
    operator_script: Path | None,
    lot: str | None,
    case_ref: str | None,
    junit_file: Path | None,
    allow_downgrade: bool,
    as_json: bool,
) -> None:
    """Run PLAN (a file, or a plan's name such as pos-quick) on the unit at a station (or on the simulated bench with --sim).

    On a multi-up station (a station file with [slots.N], or --sim --units N) every slot runs at
    once, each unit with its own record, report and verdict; the exit code is 0 when every unit
    passed, 1 when any did not, 3 when the bench failed, 130 when interrupted.
    """
    from bench.cli.console import ConsoleListener, TerminalOperator, print_summary
    from bench.cli.multi import parse_scenarios, run_many, wants_many
    from bench.run import RunRequest, execute

    if scenarios and not sim:
        raise UsageError(N_("--scenario needs --sim"))
    if units is not None and not sim:
        raise UsageError(N_("--units needs --sim (a real station's slots come from its station file)"))
    if sim == (station_file is not None):
        raise UsageError(N_("give either --station FILE (real bench) or --sim (simulated bench)"))
    station = None
    if station_file is not None:
        from bench.cli.language import speak_station
        from bench.station import load_station

        station = load_station(station_file)
        speak_station(station)
    by_slot = parse_scenarios(scenarios)
    many = wants_many(station, slots, units)
    if not many and set(by_slot) - {0}:
        raise UsageError(N_("--scenario SLOT=NAME needs --units N (a multi-up simulated station)"))
    scenario = by_slot.get(0)
    case_id = None
    if case_ref is not None:
        from bench.cases.model import parse_case_id

        case_id = parse_case_id(case_ref)
        if many:
            raise UsageError(N_("--case needs a one-unit run: not with --units, --slot or a multi-up station "
                                "(test the case's unit on its own)"))
    request = RunRequest(
        plan_file=plan_file,
        station_file=station_file,
        sim=sim,
        scenario=scenario,
        report_dir=report_dir,
        db=db,
        operator_name=operator_name,
        operator_script=operator_script,
        lot=lot,
        case_id=case_id,
        junit=junit_file,
        allow_downgrade=allow_downgrade,
        listener=None if as_json or many else ConsoleListener(),
        terminal_operator=TerminalOperator,
    )
    request.notice = _notice_for(request.listener)
    if many:
        sys.exit(run_many(request, slots=slots, units=units, scenarios=by_slot, as_json=as_json))
    try:
        result = execute(request)
    except BenchError as exc:
        if isinstance(request.listener, ConsoleListener):
            request.listener.end_live_line()  # a flash's bar, say: the error line goes below it
        # A run that ended early still has its record: scripts asking for JSON get it.
        if as_json and getattr(exc, "record", None) is not None:
            _echo_record(exc.record, getattr(exc, "report", None),  # type: ignore[attr-defined]
                         getattr(exc, "report_error", None), exc if hasattr(exc, "case") else None)
        if getattr(exc, "case_note", None):
            _say(safe.bench_line(tr(exc.case_note)))  # type: ignore[attr-defined]
        if getattr(exc, "report_error", None):
            _say(safe.error_line(tr(exc.report_error)))  # type: ignore[attr-defined]
        raise
    rec = result.record
    if as_json:
        _echo_record(rec, result.report, result.report_error, result)
    else:
        print_summary(rec, str(result.report) if result.report else None)
        if result.case is not None:
            safe.echo(_("Case {case}").format(case=result.case))
    if result.case_note:
        _say(safe.bench_line(tr(result.case_note)))
    code = rec.verdict.exit_code
    if result.report_error:
        # The verdict above stands and the run is stored; the bench did not do all it was asked.
        _say(safe.error_line(_("{message} (the run is stored: `bench report {run}` renders it again)").format(
            message=tr(result.report_error), run=rec.run_id[:8])))
        code = EXIT_BENCH
    sys.exit(code)


def _notice_for(listener: Any) -> Callable[[str], None]:
    """One line to stderr, below the console's live line (e.g. results buffered for ``bench sync``)."""

    def notice(text: str) -> None:
        end = getattr(listener, "end_live_line", None)
        if end is not None:
            end()
        _say(safe.bench_line(text))

    return notice


def _echo_record(rec: Any, report_path: Path | None, report_error: str | None = None, result: Any = None) -> None:
    from bench.reports.format import redacted

    out = redacted(rec).to_dict()  # card numbers masked as in run.json
    out["report"] = str(report_path) if report_path else None
    if result is not None and (result.case is not None or result.case_note):
        out["case"], out["case_note"] = result.case, result.case_note
    if report_error:
        out["report_error"] = report_error
    safe.echo_json(json.dumps(out, indent=2))


# ---------------------------------------------------------------------------- plans
@cli.group()
def plan() -> None:
    """Work with test plans."""


@plan.command("check")
@click.argument("files", metavar="PLAN...", nargs=-1, required=True, type=PLAN)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the result as JSON."))
def plan_check(files: tuple[Path, ...], as_json: bool) -> None:
    """Validate plans (files, or names such as pos-full); exit 2 on the first error."""
    from bench.plan import load_plan

    results: list[dict[str, Any]] = []
    for f in files:
        p = load_plan(f)
        results.append({"file": str(f), "plan": p.name, "version": p.version, "steps": len(p.steps),
                        "devices": sorted(p.devices), "ok": True})
    if as_json:
        safe.echo_json(json.dumps(results, indent=2))
    else:
        for r in results:
            safe.echo(_("{file}: OK  plan {plan} {version}, {steps} steps, devices: {devices}").format(
                file=r["file"], plan=r["plan"], version=r["version"], steps=r["steps"],
                devices=", ".join(r["devices"]) or _("none")))


@cli.command("list")
@click.option("--plans-dir", type=click.Path(file_okay=False, path_type=Path),
              help=N_("List the plans in this folder only (default: ./testplans, then the stock plans)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def list_cmd(plans_dir: Path | None, as_json: bool) -> None:
    """List the checks, plans and simulated scenarios bench knows, and where plans are looked for."""
    from bench import checks, planfind
    from bench.i18n.yamltexts import catalogued, scenario_descriptions
    from bench.plan import load_plan

    specs = sorted(checks.registry().values(), key=lambda s: s.name)
    dirs = [plans_dir] if plans_dir is not None else planfind.plan_dirs()
    files = sorted(plans_dir.glob("*.yaml")) if plans_dir is not None else planfind.all_plans()
    scenarios = scenario_descriptions()
    plans: list[dict[str, Any]] = []
    for f in files:
        try:
            loaded = load_plan(f)
            plans.append({"file": str(f), "name": loaded.name, "version": loaded.version,
                          "steps": len(loaded.steps), "description": catalogued(loaded.description)})
        except BenchError as exc:
            plans.append({"file": str(f), "error": str(exc)})
    if as_json:
        safe.echo_json(json.dumps({
            "checks": [{"name": s.name, "summary": s.summary, "devices": list(s.devices),
                        "params": sorted(s.params), "measurements": sorted(s.measurements)} for s in specs],
            "plans": plans,
            "plan_dirs": [str(d) for d in dirs],
            "scenarios": [name for name, _description in scenarios],
            "scenario_descriptions": dict(scenarios),
        }, indent=2))
        return
    from bench.i18n.layout import display_width, pad

    safe.echo(_("Checks:"))
    for s in specs:
        safe.echo("  ", pad(s.name, 24), " ", tr(s.summary))
    safe.echo("\n", _("Plans (run one by name, e.g. `bench run pos-quick --sim`; looked for in: {dirs}):").format(
        dirs=planfind.describe_dirs(dirs)))
    if not plans:
        safe.echo("  ", _("none found"))
    width = max([28, *(display_width(row["file"]) for row in plans if "error" not in row)])  # the paths line up
    for row in plans:
        if "error" in row:
            safe.echo("  ", _("{file}: INVALID: {error}").format(file=row["file"], error=tr(row["error"])))
        else:
            safe.echo("  ", pad(row["file"], width), " ", _("{name} {version}: {steps} steps. {description}").format(
                name=row["name"], version=row["version"], steps=row["steps"], description=tr(row["description"])))
    safe.echo("\n", _("Scenarios (bench run --sim --scenario NAME):"))
    for name, description in scenarios:
        safe.echo("  ", pad(name, 28), " ", description)


# ---------------------------------------------------------------------------- commands from other modules
# (each module imports only click at module level, so `bench --help` stays fast)
from bench.cli.store import history, report, stats, trend  # noqa: E402

for _command in (history, trend, stats, report):
    cli.add_command(_command)
from bench.cli.inspect import inspect  # noqa: E402

cli.add_command(inspect)
from bench.cli.runs import runs  # noqa: E402

cli.add_command(runs)
from bench.cli.station import station  # noqa: E402

cli.add_command(station)
from bench.cli.sim import sim  # noqa: E402

cli.add_command(sim)
from bench.cli.host import host  # noqa: E402

cli.add_command(host)
from bench.cli.soak import soak  # noqa: E402

cli.add_command(soak)
from bench.cli.case import case  # noqa: E402

cli.add_command(case)
from bench.cli.firmware import firmware  # noqa: E402

cli.add_command(firmware)
from bench.cli.sync import sync  # noqa: E402

cli.add_command(sync)

from bench.cli.serve import serve  # noqa: E402

cli.add_command(serve)


# ---------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the CLI and maps errors to one line and an exit code.

    Every way a command ends is one of the documented exit codes (0, 1, 2, 3, 130), whatever
    signal comes when (:mod:`bench.interrupts`). Called with ``argv`` (inside another program,
    a test), it gives the signals back their handlers on the way out; as the process itself
    (``argv`` None) it ignores them once its exit code is decided, through Python's shutdown.
    """
    from bench import interrupts

    previous = interrupts.install()
    code = EXIT_INTERRUPTED
    try:
        try:
            code = _run_guarded(lambda: _speak_and_run(argv))
        except KeyboardInterrupt:  # a signal while the outcome was being reported
            interrupts.done()
    except KeyboardInterrupt:
        interrupts.done()
    if previous is not None:
        if argv is None:
            interrupts.settle()
        else:
            interrupts.restore(previous)
    _flush_or_drop()
    sys.exit(code)


def _speak_and_run(argv: list[str] | None) -> Any:
    """Choose the language (``--lang``, ``BENCH_LANG``, the locale; ``docs/languages.md``), then run the command."""
    from bench.cli.language import speak

    speak(sys.argv[1:] if argv is None else argv)
    return cli.main(args=argv, prog_name="bench", standalone_mode=False)


def _say(text: str) -> None:
    """One line to stderr; a terminal or pipe that is gone does not change how the command ends."""
    with contextlib.suppress(OSError):
        safe.echo(text, err=True)


def _flush_or_drop() -> None:
    """Flush stdout and stderr; where that fails (a closed pipe, a hung-up terminal), point them at /dev/null.

    Otherwise Python's own flush at exit would fail too, and turn the exit code into 120.
    """
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


def _run_guarded(fn: Callable[[], Any]) -> int:
    """Run the command; its exit code. Nothing it raises escapes (errors become one line on stderr)."""
    from bench import interrupts

    debug = "--debug" in (sys.argv[1:])
    try:
        rv = fn()
    except BaseException as exc:  # every way out becomes an exit code
        interrupts.done()
        return _exit_code_of(exc, debug or _State.debug)
    interrupts.done()
    return rv if isinstance(rv, int) else 0


def _exit_code_of(exc: BaseException, debug: bool) -> int:
    if isinstance(exc, SystemExit):
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        _say(str(exc.code))
        return EXIT_BENCH
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.UsageError):
        from bench.cli.usage import usage_line

        _say(safe.error_line(usage_line(exc)))
        return EXIT_USAGE
    if isinstance(exc, click.ClickException):
        with contextlib.suppress(OSError):
            exc.show(file=safe.stream(err=True))
        return exc.exit_code
    from bench import interrupts

    by = f" ({interrupts.received()[0]})" if interrupts.received() else ""  # which signal, when one did
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        _say(safe.bench_line(_("interrupted") + by))
        return EXIT_INTERRUPTED
    if isinstance(exc, BenchError):
        if debug:
            _say(traceback.format_exc().rstrip("\n"))
            if exc.detail:
                _say(safe.bench_line(_("detail: {detail}").format(detail=tr(exc.detail))))
        first = interrupts.received()[:1]
        named = bool(first) and first[0] in str(exc)  # the message says which signal already
        _say(safe.error_line(tr(exc)) + (by if isinstance(exc, Interrupted) and not named else ""))
        return exit_code(exc)
    if not isinstance(exc, Exception):  # GeneratorExit and the like: not ours to hide
        raise exc
    if isinstance(exc, OSError):  # the bench PC's disk or files (full, gone, not allowed): the bench's problem
        if debug:
            _say(traceback.format_exc().rstrip("\n"))
        where = f": {exc.filename}" if exc.filename else ""
        _say(safe.error_line(f"{exc.strerror or type(exc).__name__}{where}"))
        return EXIT_BENCH
    if debug:
        _say(traceback.format_exc().rstrip("\n"))
    _say(safe.bench_line(_("internal error: {error} (run with --debug for the traceback)").format(
        error=f"{type(exc).__name__}: {exc}")))
    return EXIT_BENCH
