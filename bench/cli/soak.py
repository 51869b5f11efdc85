"""``bench soak``: the busy-hour soak, run as a one-step plan through ``bench run``.

The soak is the check ``soak.sales`` (:mod:`bench.checks.soak`); this command writes the one-step
plan that runs it with the profile, then hands over to ``bench run`` so a soak gets everything a
run has: the stored record, the report (with its charts), ``--json``, ``--junit``, multi-up slots,
scenarios, Ctrl-C handling and the exit codes. Only click is imported at module level.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli.clicktr import command
from bench.errors import UsageError
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.soak.profile import SoakProfile

DEFAULT_PROFILE = "demo"
#: Seconds a soak step may run past its scaled duration (the last sales, a reset unit, the judging).
STEP_MARGIN = 120.0


class SoakProfileRef(click.ParamType):
    """A soak profile: a file, or a name (``demo``, ``busy-hour``) looked up in ``testplans/soak/``."""

    name = "profile"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        """The profile's file; a name found nowhere fails here, naming the folders searched."""
        from bench.soak.find import all_profiles, find_profile, profile_dirs

        found = find_profile(str(value))
        if found is None:
            names = ", ".join(sorted(p.stem for p in all_profiles())) or "none"
            self.fail(N_("no soak profile named {value!r} (looked in {dirs}; known: {names})", value=str(value),
                         dirs=", ".join(map(str, profile_dirs())), names=names), param, ctx)
        return found


def soak_plan_text(profile: SoakProfile, profile_file: Path, time_scale: float) -> str:
    """The one-step plan that runs the soak (validated like any plan by ``bench run``)."""
    import json

    from bench.plan import MAX_TIMEOUT

    timeout = min(MAX_TIMEOUT, profile.duration_s / time_scale * 1.2 + STEP_MARGIN)
    return (
        f"# soak profile {profile.name}, sha256 {profile.sha256} (the plan's hash covers the profile's content)\n"
        f"plan: soak-{profile.name}\n"
        'version: "1"\n'
        f"description: {json.dumps('busy-hour soak: ' + (profile.description or profile.name))}\n"
        "steps:\n"
        "  - name: soak\n"
        "    check: soak.sales\n"
        f"    timeout: {timeout:.0f}\n"
        f"    params: {{profile: {json.dumps(str(profile_file.resolve()))}, time_scale: {time_scale:g}}}\n"
    )


@command()
@click.argument("profile_file", metavar="[PROFILE]", required=False, type=SoakProfileRef())
@click.option("--station", "station_file", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Station file of the real bench (its host role is the bench host the unit reaches)."))
@click.option("--sim", is_flag=True, help=N_("Soak the simulated unit (the profile's time scale applies)."))
@click.option("--scenario", "scenarios", multiple=True, metavar="[SLOT=]NAME",
              help=N_("With --sim: a fault scenario (e.g. soak-host-timeouts); SLOT=NAME for one slot."))
@click.option("--units", type=click.IntRange(1, 16), help=N_("With --sim: soak N simulated units at once."))
@click.option("--slot", "slots", type=click.IntRange(1, 64), multiple=True, help=N_("Only this slot (repeatable)."))
@click.option("--time-scale", type=click.FloatRange(1, 3600),
              help=N_("Soak time runs this many times faster (default: the profile's with --sim, 1 on a real bench)."))
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=Path("reports"),
              show_default=True, help=N_("Folder for the HTML/JSON reports."))
@click.option("--db", help=N_("Results store URL (default: the local SQLite store)."))
@click.option("--operator", "operator_name", help=N_("Operator name recorded with the run."))
@click.option("--junit", "junit_file", type=click.Path(path_type=Path), help=N_("Also write a JUnit XML file here."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the run record as JSON on stdout."))
@click.pass_context
def soak(ctx: click.Context, profile_file: Path | None, station_file: Path | None, sim: bool,
         scenarios: tuple[str, ...], units: int | None, slots: tuple[int, ...], time_scale: float | None,
         report_dir: Path, db: str | None, operator_name: str | None, junit_file: Path | None, as_json: bool) -> None:
    """Run a busy-hour soak (PROFILE: a file or a name in testplans/soak/; default: demo).

    Seeded sales at the profile's rate go through the unit to the bench host; the result is a
    stored run whose report draws latency over time and the failure causes. `bench soak --sim`
    alone runs the demo: a busy hour compressed into about a minute on the simulated unit.
    Exit codes as `bench run`: 0 the unit met every limit, 1 it did not, 2 bad profile or options,
    3 bench error, 130 interrupted.
    """
    root = ctx.find_root().command
    run = root.get_command(ctx, "run") if isinstance(root, click.Group) else None
    if run is None:  # pragma: no cover - soak is registered on the bench group, next to run
        raise UsageError(N_("bench soak needs the bench run command"))
    if profile_file is None:
        from bench.soak.find import find_profile

        found = find_profile(DEFAULT_PROFILE)
        if found is None:
            raise UsageError(N_("no soak profile given and the default {name!r} is not installed", name=DEFAULT_PROFILE))
        profile_file = found
    if sim == (station_file is not None):
        raise UsageError(N_("give either --station FILE (real bench) or --sim (simulated bench)"))
    if time_scale is not None and time_scale != time_scale:  # NaN passes click's range check (comparisons are False)
        raise UsageError(N_("--time-scale must be a number from 1 to 3600, not nan"))
    from bench.soak.profile import load_profile

    profile = load_profile(profile_file)  # a bad profile is a plan error now, before any device starts
    if time_scale is None:
        time_scale = float(profile.time_scale) if sim else 1.0
    text = soak_plan_text(profile, profile_file, time_scale)
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
        plan_file = Path(folder) / f"soak-{profile_file.stem}.yaml"
        plan_file.write_text(text, encoding="utf-8")
        ctx.invoke(run, plan_file=plan_file, station_file=station_file, sim=sim, scenarios=scenarios, units=units,
                   slots=slots, report_dir=report_dir, db=db, operator_name=operator_name, operator_script=None,
                   lot=None, junit_file=junit_file, as_json=as_json)
