"""The plugin's command-line options, read and checked once when pytest starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.errors import UsageError
from drivers.i18n import N_, _, using_language

#: The most simulated units ``--bench-units`` starts (pcscd serves 16 readers).
MAX_SIM_UNITS = 16


def session_language() -> str:
    """The language ``BENCH_LANG`` or the locale asks for (docs/languages.md), its catalogue loaded; one the bench
    does not speak means English here (pytest has no place to refuse it before its own options are read)."""
    from bench.errors import UsageError
    from bench.i18n import choose_language

    try:
        return choose_language()
    except UsageError:
        return "en"


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--bench-*`` options and the ``bench_plans`` ini setting."""
    # Only the help texts here: the session speaks the language once a bench is asked for (pytest_configure),
    # so a test suite that loads the plugin but uses no bench is not switched to another language.
    with using_language(session_language()):
        _add_options(parser)


def _add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("bench", _("bench: POS units on a test bench (docs/pytest.md)"))
    group.addoption("--bench-sim", action="store_true", default=False,
                    help=_("start the simulated bench for the session and tear it down after"))
    group.addoption("--bench-scenario", metavar="NAME", default=None,
                    help=_("with --bench-sim: the scenario the simulated devices play (a shipped name or a file)"))
    group.addoption("--bench-units", metavar="N", type=int, default=None,
                    help=_("with --bench-sim: N simulated units (slots 1..N); tests run once per slot"))
    group.addoption("--bench-station", metavar="FILE", default=None,
                    help=_("test the real devices of this station file (several slots: tests run once per slot)"))
    group.addoption("--bench-db", metavar="URL", default=None,
                    help=_("the store for the session's run records (default: the station's, else bench's own)"))
    group.addoption("--bench-report", metavar="DIR", default=None,
                    help=_("write each run's report folder (run.json, report.html, junit.xml) under DIR"))
    group.addoption("--bench-operator-script", metavar="FILE", default=None,
                    help=_("answer operator prompts from this file instead of the terminal"))
    parser.addini("bench_plans", type="args", default=[],
                  help=_("glob patterns of YAML plans collected as tests (a plan named on the command line always is)"))


@dataclass(frozen=True)
class BenchOptions:
    """What the ``--bench-*`` options asked for."""

    sim: bool = False
    scenario: str | None = None
    units: int | None = None
    station_file: Path | None = None
    db: str | None = None
    report_dir: Path | None = None
    operator_script: Path | None = None

    @property
    def enabled(self) -> bool:
        """True when the session has a bench: the simulated one or a station."""
        return self.sim or self.station_file is not None


def read_options(config: pytest.Config) -> BenchOptions:
    """The options as given, checked against each other.

    Raises:
        UsageError: options that contradict each other or are out of range (one line).
    """
    opt: Any = config.option
    sim, station = bool(opt.bench_sim), opt.bench_station
    if sim and station:
        raise UsageError(N_("--bench-sim and --bench-station exclude each other: test the simulated bench or a station"))
    if opt.bench_scenario is not None and not sim:
        raise UsageError(N_("--bench-scenario needs --bench-sim (a scenario is what the simulated devices do)"))
    if opt.bench_units is not None:
        if not sim:
            raise UsageError(N_("--bench-units needs --bench-sim (a station file says its own slots)"))
        if not 1 <= opt.bench_units <= MAX_SIM_UNITS:
            raise UsageError(N_("--bench-units must be 1 to {most}, not {units}", most=MAX_SIM_UNITS, units=opt.bench_units))
    enabled = sim or station is not None
    if enabled:
        from bench.i18n import activate

        activate(session_language())
    if enabled and getattr(opt, "numprocesses", None) not in (None, 0):
        # A unit takes one test at a time, and a plan's steps depend on each other: one process.
        raise UsageError(N_("a bench session runs its tests one at a time on the units: drop -n (pytest-xdist)"))
    for name in ("bench_db", "bench_report", "bench_operator_script"):
        if getattr(opt, name) is not None and not enabled:
            flag = "--" + name.replace("_", "-")
            raise UsageError(N_("{flag} needs a bench: add --bench-sim or --bench-station FILE", flag=flag))
    return BenchOptions(
        sim=sim,
        scenario=opt.bench_scenario,
        units=opt.bench_units,
        station_file=Path(station) if station is not None else None,
        db=opt.bench_db,
        report_dir=Path(opt.bench_report) if opt.bench_report is not None else None,
        operator_script=Path(opt.bench_operator_script) if opt.bench_operator_script is not None else None,
    )
