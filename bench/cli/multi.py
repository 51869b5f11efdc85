"""``bench run`` on a multi-up station: the options that pick slots and faults, the console, the exit code.

The work is :func:`bench.multirun.execute_many`; this module turns its per-slot results into what
a person or a script sees: the live table (or plain lines prefixed by slot), the summary table,
or with ``--json`` an array with one run record per unit.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from bench.cli import safe
from bench.errors import UsageError
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.multirun import MultiResult, SlotRun
    from bench.plan import Plan
    from bench.run import RunRequest
    from bench.station import Station

_SLOT_SCENARIO = re.compile(r"^(\d{1,2})=(.+)$")


def parse_scenarios(values: tuple[str, ...]) -> dict[int, str]:
    """``--scenario NAME`` (every slot) and ``--scenario SLOT=NAME`` (one slot) -> slot -> name (0: every slot).

    Raises:
        UsageError: two scenarios for one slot, or two for every slot.
    """
    out: dict[int, str] = {}
    for value in values:
        m = _SLOT_SCENARIO.match(value)
        slot, name = (int(m.group(1)), m.group(2)) if m else (0, value)
        if m and slot == 0:
            raise UsageError(N_("--scenario {value}: slots are numbered from 1", value=value))
        if slot in out:
            which = N_("slot {n}", n=slot) if slot else N_("every slot")
            raise UsageError(N_("--scenario given twice for {which}: {first!r} and {second!r}", which=which,
                                first=out[slot], second=name))
        out[slot] = name
    return out


def wants_many(station: Station | None, slots: tuple[int, ...], units: int | None) -> bool:
    """Whether this ``bench run`` is a multi-up one (else the one-unit run, unchanged); ``station``: its loaded file."""
    if units is not None or slots:
        return True
    return station is not None and len(station.slot_numbers) > 1


def run_many(request: RunRequest, *, slots: tuple[int, ...], units: int | None, scenarios: dict[int, str],
             as_json: bool) -> int:
    """Run the plan on every chosen slot; print the table (or JSON); the exit code."""
    from bench.cli.multiconsole import MultiConsole
    from bench.multirun import MultiRequest, execute_many

    consoles: list[MultiConsole] = []

    def started(numbers: list[int], plan: Plan) -> None:
        console = MultiConsole(slots=numbers, plan_name=plan.name, total_steps=len(plan.steps), err=as_json)
        console.__enter__()
        consoles.append(console)

    def slot_done(run: SlotRun) -> None:
        if not consoles:
            return
        if run.record is None:
            consoles[0].slot_failed(run.slot, tr(run.error) if run.error else _("did not start"))
        else:
            consoles[0].slot_done(run.slot, run.record, run.report)

    def listener_for(slot: int) -> Any:
        return consoles[0].listener(slot) if consoles else None

    def pause() -> Any:
        import contextlib

        return consoles[0].paused() if consoles else contextlib.nullcontext()

    req = MultiRequest(base=request, slots=slots, units=units, scenarios=scenarios, listener_for=listener_for,
                       slot_done=slot_done, pause=pause, started=started)
    try:
        result = execute_many(req)
    finally:
        for console in consoles:
            console.__exit__(None, None, None)
    if as_json:
        safe.echo_json(json.dumps(_json(result), indent=2))
    elif consoles:
        _print_soaks(result.runs)
        consoles[0].print_summary(result.runs)
    for run in result.runs:
        if run.report_error:
            safe.echo(safe.error_line(_("slot {n}: {error}").format(n=run.slot, error=tr(run.report_error))), err=True)
    if result.junit_error:
        safe.echo(safe.error_line(result.junit_error), err=True)
    if result.interrupted:
        from bench import interrupts

        aborted = sum(1 for r in result.runs if r.record is not None and r.record.verdict.value == "ABORTED")
        safe.echo(safe.bench_line(_("{why}: {aborted} of {total} slots stopped and stored ABORTED with the steps "
                                    "they finished").format(why=tr(interrupts.interrupted_by()), aborted=aborted,
                                                            total=len(result.runs))), err=True)
    return result.exit_code


def _json(result: MultiResult) -> list[dict[str, Any]]:
    """One element per slot: its run record (with ``slot`` and ``report``), or why it has none."""
    from bench.reports.format import redacted

    out: list[dict[str, Any]] = []
    for run in result.runs:
        if run.record is None:
            out.append({"slot": run.slot, "verdict": None, "error": run.error, "exit_code": run.code})
            continue
        item = redacted(run.record).to_dict()  # card numbers masked as in run.json
        item["report"] = str(run.report) if run.report else None
        if run.report_error:
            item["report_error"] = run.report_error
        if run.error:
            item["error"] = run.error
        out.append(item)
    return out


def _print_soaks(runs: Any) -> None:
    """Each slot's soak figures (a soak on several units), above the end table."""
    from bench.cli.soakview import soak_lines

    for run in sorted(runs, key=lambda r: r.slot):
        lines = soak_lines(run.record) if run.record is not None else []
        for line in lines:
            safe.echo(_("[slot {n}]").format(n=run.slot), " ", line)
