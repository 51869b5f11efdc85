"""``bench case replay FILE --sim``: a case scenario driven through the real CLI, then checked.

Each step is the command a technician types, run as its own ``bench`` process: ``case open``,
``run PLAN --sim --scenario S --case C<id>`` per run, ``case repair`` per repair, ``case close``.
Then the case's runs are read back from the store, judged after the failing runs and planned
(:mod:`bench.cases.replay`), and compared with the file's ``expect``. Exit 0 when everything
matches, 1 with one line per mismatch, 2 for a bad file, and the step's own code (2, 3, 130)
when a step could not be done at all (its error line is printed). Without ``--db`` the case is
replayed in a throwaway SQLite store (a replay is a test: it leaves no case in the station's
store), and without ``--report`` the run reports go there too (the case report in ``cases/C<id>``
under that folder).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.cli.tables import aside, word
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.cases.scenario import CaseScenario


class _StepFailed(Exception):
    """A step's command could not do its job (exit 2 or more): the replay stops with its code."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.code, self.line = code, line


@command("replay")
@click.argument("file")
@click.option("--sim", is_flag=True, help=N_("Replay on the simulated bench (the only bench a replay runs on)."))
@click.option("--db", help=N_("Results store URL (default: a throwaway SQLite store)."))
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help=N_("Folder for the runs' reports."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the outcome as JSON."))
def replay(file: str, sim: bool, db: str | None, report_dir: str | None, as_json: bool) -> None:
    """Replay the case scenario FILE (a path, or a name in testplans/cases) and check its expect."""
    from bench.cases.scenario import load_case_scenario
    from bench.errors import UsageError

    if not sim:
        raise UsageError(N_("a case replay runs on the simulated bench: give --sim"))
    scenario = load_case_scenario(file)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'replay.db'}"
        reports = report_dir or str(Path(tmp) / "reports")
        try:
            out = _replay(scenario, url, reports, quiet=as_json)
        except _StepFailed as exc:
            safe.echo(safe.bench_line(f"{scenario.name}: {exc.line}"), err=True)
            raise click.exceptions.Exit(exc.code) from None
    if as_json:
        safe.echo_json(json.dumps(out, indent=2))
    else:
        for line in out["mismatches"]:
            safe.echo(f"{scenario.name}: {tr(line)}")
        if not out["mismatches"]:
            safe.echo(_("{name}: as expected (verdict {verdict}, first action {action}, result {result})").format(
                name=scenario.name, verdict=word(out["verdict"]), action=out["first_action"], result=out["result"]))
    if out["mismatches"]:
        raise click.exceptions.Exit(1)


def _replay(scenario: CaseScenario, url: str, reports: str, *, quiet: bool) -> dict[str, Any]:
    """Drive the case's steps; the outcome as plain data."""
    from bench.cases.catalogue import load_catalogue
    from bench.cases.replay import compare
    from bench.cases.scenario import RunEvent
    from bench.cases.store import CaseStore
    from bench.store.connect import open_store

    def say(text: str) -> None:
        if not quiet:
            safe.echo(text)

    opened = _bench(["case", "open", scenario.serial, "--complaint", scenario.complaint, "--operator", "replay",
                     *(["--model", scenario.model] if scenario.model else []), "--db", url, "--json"])
    label, case_id = opened["case"], int(opened["id"])
    say(_("case {case} opened for unit {serial}: {complaint}").format(
        case=label, serial=scenario.serial, complaint=safe.one_line(scenario.complaint)))
    steps: list[dict[str, Any]] = []
    for event in scenario.events:
        if isinstance(event, RunEvent):
            record = _bench(["run", event.plan, "--sim", "--scenario", event.scenario, "--case", label, "--db", url,
                             "--report", reports, "--json"], ok=(0, 1))
            faults = [f["fault"] for f in record.get("findings", [])]
            steps.append({"run": event.plan, "scenario": event.scenario, "run_id": record["run_id"],
                          "verdict": record["verdict"], "faults": faults})
            say("  " + _("run {plan} --scenario {scenario}: {verdict}").format(
                plan=event.plan, scenario=event.scenario, verdict=word(record["verdict"]))
                + f" {' '.join(faults)}".rstrip())
        else:
            _bench(["case", "repair", label, "--action", event.action, "--note", event.note, "--technician", "replay",
                    *(["--part", event.part] if event.part else []), "--db", url, "--json"])
            steps.append({"repair": event.action, "part": event.part, "note": event.note})
            say("  " + _("repair {action}: {note}").format(action=f"{event.action}{' ' + event.part if event.part else ''}",
                                                         note=safe.one_line(event.note)))
    close_error = _close(label, url, scenario.unrepaired, Path(reports) / "cases" / label)
    with open_store(url) as store:
        cases = CaseStore(store)
        case, runs = cases.get(case_id), cases.runs(case_id)
    outcome = compare(case, runs, scenario.expect, load_catalogue(), close_error)
    say("  " + _("close: {result}").format(result=outcome.result) + (" " + aside(str(close_error)) if close_error else ""))
    say(_("judgement after the failing runs: {summary}").format(summary=tr(outcome.judgement.summary)))
    say(_("plan: first action {action}").format(action=outcome.first_action)
        + (" " + aside(tr(outcome.plan.first.what)) if outcome.plan.first else ""))
    return {"scenario": scenario.name, "file": scenario.path, "case": label, "serial": scenario.serial,
            "steps": steps, "expect": {"verdict": scenario.expect.verdict,
                                       "first_action": scenario.expect.first_action,
                                       "result": scenario.expect.result},
            **outcome.to_dict(), "ok": not outcome.mismatches}


def _close(label: str, url: str, unrepaired: str | None, out: Path) -> str | None:
    """Close the case (its report into ``out``); why it could not (the unit is not repaired), or None."""
    args = ["case", "close", label, *(["--unrepaired", unrepaired] if unrepaired else []), "--out", str(out),
            "--db", url, "--json"]
    proc = _call(args)
    if proc.returncode == 1:
        return _last_line(proc.stderr).removeprefix("bench: ")
    _parsed(args, proc, (0,))
    return None


def _bench(args: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run one ``bench`` command with ``--json``; its output, or :class:`_StepFailed`."""
    return _parsed(args, _call(args), ok)


def _call(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, check=False)


def _parsed(args: list[str], proc: subprocess.CompletedProcess[str], ok: tuple[int, ...]) -> dict[str, Any]:
    command = "bench " + " ".join(args[:2])
    if proc.returncode not in ok:
        code = proc.returncode if proc.returncode >= 2 else 3
        raise _StepFailed(code, _("{command} exited {code}: {message}").format(
            command=command, code=proc.returncode, message=_last_line(proc.stderr) or _("no message")))
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise _StepFailed(3, _("{command} printed no JSON: {output}").format(
            command=command, output=_last_line(proc.stdout + proc.stderr))) from None
    if not isinstance(data, dict):
        raise _StepFailed(3, _("{command} printed {kind}, not an object").format(command=command,
                                                                                  kind=type(data).__name__))
    return data


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return safe.one_line(lines[-1]) if lines else ""
