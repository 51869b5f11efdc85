"""The command line: ``bench run``, ``bench plan check``, ``bench list``, ...

Conventions, everywhere: exit 0 pass, 1 unit failed, 2 usage or plan error, 3 bench or
equipment error, 130 interrupted; every command that prints results has ``--json``;
errors go to stderr as one line (``--debug`` for the traceback). Heavy modules are
imported inside the commands so ``bench --help`` starts fast.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bench import __version__
from bench.cli import safe
from bench.errors import EXIT_BENCH, EXIT_INTERRUPTED, EXIT_USAGE, BenchError, UsageError, exit_code

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks.")
def cli(debug: bool) -> None:
    """Self-test bench for point-of-sale payment terminals."""
    _State.debug = debug
    _setup_logging(debug)


# ---------------------------------------------------------------------------- run
@cli.command()
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--station", "station_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Station file (stations/NAME.toml) with the bench's device URLs.")
@click.option("--sim", is_flag=True, help="Start the simulated bench, run on it, and tear it down.")
@click.option("--scenario", help="With --sim: a fault scenario (name or file); default 'good'.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Directory for the run's report folder.")
@click.option("--db", help="Results store URL (default: the local SQLite store).")
@click.option("--operator", "operator_name", help="Operator name recorded with the run.")
@click.option("--operator-script", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML answers for a scripted operator (no person needed).")
@click.option("--lot", help="Incoming-inspection lot this unit belongs to.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a JUnit XML file here (for CI).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON on stdout.")
def run(
    plan_file: Path,
    station_file: Path | None,
    sim: bool,
    scenario: str | None,
    report_dir: Path,
    db: str | None,
    operator_name: str | None,
    operator_script: Path | None,
    lot: str | None,
    junit_file: Path | None,
    as_json: bool,
) -> None:
    """Run PLAN on the unit at a station (or on the simulated bench with --sim)."""
    from bench.cli.console import ConsoleListener, TerminalOperator, print_summary
    from bench.run import RunRequest, execute

    if sim == (station_file is not None):
        raise UsageError("give either --station FILE (real bench) or --sim (simulated bench)")
    if scenario and not sim:
        raise UsageError("--scenario needs --sim")
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
        junit=junit_file,
        listener=None if as_json else ConsoleListener(),
        terminal_operator=TerminalOperator,
    )
    try:
        rec, report_path = execute(request)
    except BenchError as exc:
        # A run that ended early still has its record: scripts asking for JSON get it.
        if as_json and getattr(exc, "record", None) is not None:
            _echo_record(exc.record, getattr(exc, "report", None))  # type: ignore[attr-defined]
        raise
    if as_json:
        _echo_record(rec, report_path)
    else:
        print_summary(rec, str(report_path) if report_path else None)
    sys.exit(rec.verdict.exit_code)


def _echo_record(rec: Any, report_path: Path | None) -> None:
    out = rec.to_dict()
    out["report"] = str(report_path) if report_path else None
    safe.echo_json(json.dumps(out, indent=2))


@cli.command()
@click.option("--scenario", default="good", show_default=True, help="Fault scenario (name or file).")
@click.option("--device", "roles", multiple=True, type=click.Choice(["unit", "card_reader", "printer"]),
              default=("unit",), show_default=True, help="Simulated devices to start (repeatable).")
@click.option("--station-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the station file (default: a temp file).")
@click.option("--json", "as_json", is_flag=True, help="Print the device URLs as JSON.")
def sim(scenario: str, roles: tuple[str, ...], station_out: Path | None, as_json: bool) -> None:
    """Keep a simulated bench up for manual work; Ctrl-C stops it."""
    import tempfile
    import time

    from drivers.sim.bench import SimBench
    from drivers.sim.scenario import load_scenario

    with SimBench(load_scenario(scenario), roles) as bench_:
        path = station_out or Path(tempfile.mkdtemp(prefix="bench-station-")) / "sim.toml"
        lines = ['name = "sim"', "[devices]"] + [f'{role} = "{url}"' for role, url in sorted(bench_.urls.items())]
        path.write_text("\n".join(lines) + "\n")
        if as_json:
            safe.echo_json(json.dumps({"station": str(path), "devices": bench_.urls}))
        else:
            safe.echo(f"Simulated bench up (scenario {scenario}).")
            for role, url in sorted(bench_.urls.items()):
                safe.echo(f"  {role:<12} {url}")
            safe.echo(f"Station file: {path}")
            safe.echo(f"Try: bench run testplans/pos-quick.yaml --station {path}")
            safe.echo("Ctrl-C stops the bench.")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            safe.echo("simulated bench stopped", err=True)


# ---------------------------------------------------------------------------- plans
@cli.group()
def plan() -> None:
    """Work with test plans."""


@plan.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def plan_check(files: tuple[Path, ...], as_json: bool) -> None:
    """Validate plan FILES; exit 2 on the first error."""
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
            safe.echo(f"{r['file']}: OK  plan {r['plan']} {r['version']}, {r['steps']} steps, "
                      f"devices: {', '.join(r['devices']) or 'none'}")


@cli.command("list")
@click.option("--plans-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("testplans"),
              show_default=True, help="Where to look for plans.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_cmd(plans_dir: Path, as_json: bool) -> None:
    """List the checks, plans and simulated scenarios bench knows."""
    from bench import checks
    from bench.plan import load_plan
    from drivers.sim.scenario import scenario_names

    specs = sorted(checks.registry().values(), key=lambda s: s.name)
    plans: list[dict[str, Any]] = []
    for f in sorted(plans_dir.glob("*.yaml")):
        try:
            loaded = load_plan(f)
            plans.append({"file": str(f), "name": loaded.name, "version": loaded.version,
                          "steps": len(loaded.steps), "description": loaded.description})
        except BenchError as exc:
            plans.append({"file": str(f), "error": str(exc)})
    if as_json:
        safe.echo_json(json.dumps({
            "checks": [{"name": s.name, "summary": s.summary, "devices": list(s.devices),
                        "params": sorted(s.params), "measurements": sorted(s.measurements)} for s in specs],
            "plans": plans,
            "scenarios": scenario_names(),
        }, indent=2))
        return
    safe.echo("Checks:")
    for s in specs:
        safe.echo(f"  {s.name:<24} {s.summary}")
    safe.echo(f"\nPlans ({plans_dir}):")
    for row in plans:
        if "error" in row:
            safe.echo(f"  {row['file']}: INVALID: {row['error']}")
        else:
            safe.echo(f"  {row['file']:<28} {row['name']} {row['version']}: {row['steps']} steps. {row['description']}")
    safe.echo(f"\nScenarios: {', '.join(scenario_names())}")


# ---------------------------------------------------------------------------- commands from other modules
# (each module imports only click at module level, so `bench --help` stays fast)
from bench.cli.store import history, report, stats, trend  # noqa: E402

for _command in (history, trend, stats, report):
    cli.add_command(_command)
from bench.cli.inspect import inspect  # noqa: E402

cli.add_command(inspect)


# ---------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the CLI and maps errors to one line and an exit code."""
    _run_guarded(lambda: cli.main(args=argv, prog_name="bench", standalone_mode=False))


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM (a service stop, ``timeout``, ``kill``) ends a command like Ctrl-C: runs are recorded ABORTED."""
    raise KeyboardInterrupt


def _run_guarded(fn: Callable[[], Any]) -> None:
    debug = "--debug" in (sys.argv[1:])
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        rv = fn()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show(file=safe.stream(err=True))
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        safe.echo("bench: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BenchError as exc:
        if debug or _State.debug:
            safe.echo(traceback.format_exc(), err=True, nl=False)
        safe.echo(f"bench: error: {exc}", err=True)
        sys.exit(exit_code(exc))
    except KeyboardInterrupt:
        safe.echo("bench: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug or _State.debug:
            safe.echo(traceback.format_exc(), err=True, nl=False)
        safe.echo(f"bench: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(EXIT_BENCH)
    if isinstance(rv, int):
        sys.exit(rv)
