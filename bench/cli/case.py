"""``bench case``: a repair case from intake to sign-off (open, list, show, repair, close, report).

A case id is shown and taken as ``C<id>`` (a bare number too). Runs join a case with
``bench run PLAN --case C<id>``. Exit codes as everywhere: 0 done, 2 usage (an unknown or closed
case, a bad option), 3 the store; ``close`` exits 1 when the unit is not repaired (its last run
did not pass) and no ``--unrepaired REASON`` was given: nothing is written then. Only click and
the standard library are imported at module level, so ``bench --help`` stays fast.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import group
from bench.cli.tables import aside, word
from bench.i18n import format_number
from bench.i18n.layout import pad
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.cases.judgement import Judgement
    from bench.cases.model import Case, Repair
    from bench.cases.plan import RepairPlan
    from bench.record import RunRecord
    from bench.store.base import StoreBase

_DB_HELP = N_("Results store URL (default: the local SQLite store).")
_JSON_HELP = N_("Print as JSON.")
_OUT_HELP = N_("Folder for the case report (default: reports/cases/C<id>).")
_ACTIONS = ("replace", "reseat", "clean", "reflash", "update", "return-to-factory", "reactivated", "adjust", "other")


def _open(db: str | None) -> StoreBase:
    from bench.store.connect import open_store

    return open_store(db)


def interactive() -> bool:
    """Whether a person can be asked: stdin is a terminal (never prompt a pipe, a script, CI)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def _case_id(text: str) -> int:
    from bench.cases.model import parse_case_id

    return parse_case_id(text)


@group()
def case() -> None:
    """Repair cases: open one when a unit arrives, attach its runs and repairs, close it when it leaves."""


# ---------------------------------------------------------------------------- open
@case.command("open")
@click.argument("serial")
@click.option("--complaint", required=True, help=N_("What the customer says is wrong."))
@click.option("--model", help=N_("The unit's model (default: from its newest stored run, else from its first run in "
                                 "the case)."))
@click.option("--customer", "customer_ref", help=N_("The customer's reference (ticket, order, shop)."))
@click.option("--last-worked", help=N_("When it last worked, as the customer says it."))
@click.option("--software-update", help=N_("Recent software updates, as the customer says them."))
@click.option("--operator", "operator_name", help=N_("Who opens the case (default: the login name)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def open_cmd(serial: str, complaint: str, model: str | None, customer_ref: str | None, last_worked: str | None,
             software_update: str | None, operator_name: str | None, db: str | None, as_json: bool) -> None:
    """Open a case for the unit SERIAL; prints its id (C<n>). Options left out are asked for at a terminal."""
    from bench.cases.store import CaseStore

    if interactive():
        model = model if model is not None else _ask(_("Model (empty: from the unit)"))
        customer_ref = customer_ref if customer_ref is not None else _ask(_("Customer reference"))
        last_worked = last_worked if last_worked is not None else _ask(_("When did it last work"))
        software_update = software_update if software_update is not None else _ask(_("Recent software updates"))
    with _open(db) as store:
        opened = CaseStore(store).open_case(
            serial, complaint, model=model or None, customer_ref=customer_ref, last_worked=last_worked,
            software_update=software_update, opened_by=operator_name or getpass.getuser())
    if as_json:
        safe.echo_json(json.dumps(opened.to_dict(), indent=2))
        return
    safe.echo(_("case {case} opened for unit {serial}: {complaint}").format(
        case=opened.label, serial=_unit(opened.serial, opened.model), complaint=safe.one_line(opened.complaint)))
    safe.echo(_("test it: bench run PLAN --station FILE --case {case}").format(case=opened.label))


def _ask(question: str) -> str:
    """One question on stderr (stdout stays the result's, --json too); an empty answer is no answer."""
    return str(click.prompt(question, default="", show_default=False, err=True)).strip()


# ---------------------------------------------------------------------------- list
@case.command("list")
@click.option("--open", "only_open", is_flag=True, help=N_("Only open cases."))
@click.option("--closed", "only_closed", is_flag=True, help=N_("Only closed cases."))
@click.option("--serial", help=N_("Only this unit's cases."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def list_cmd(only_open: bool, only_closed: bool, serial: str | None, db: str | None, as_json: bool) -> None:
    """List the cases, oldest first."""
    from bench.cases.model import CLOSED, OPEN
    from bench.cases.store import CaseStore
    from bench.errors import UsageError

    if only_open and only_closed:
        raise UsageError(N_("give --open or --closed, not both"))
    status = OPEN if only_open else CLOSED if only_closed else None
    with _open(db) as store:
        cases = CaseStore(store)
        found, counts = cases.list_cases(status, serial), cases.run_counts()
    if as_json:
        safe.echo_json(json.dumps([{**c.to_dict(), "runs": counts.get(c.case_id, 0)} for c in found], indent=2))
        return
    if not found:
        safe.echo(_("no cases"))
        return
    for c in found:
        state = _status(c.status) if c.is_open else f"{_status(c.status)} {_status(c.result)}"
        safe.echo(f"{c.label:<6} {pad(state, 18)} {pad(c.serial, 16)} {pad(c.model or '?', 10)} ",
                  _("opened {when}  runs {n}").format(when=_when(c.opened_at), n=counts.get(c.case_id, 0)),
                  f"  {_short(c.complaint)}")


def _unit(serial: str, model: str | None) -> str:
    """``PT3-000123 (PT-300)``, or the serial alone."""
    return _("{serial} ({model})").format(serial=serial, model=model) if model else serial


def _action(code: str) -> str:
    """A repair's action (``replace``) as the reader says it (更换部件)."""
    from bench.cases.model import word as case_model_word

    return tr(case_model_word(code))


def _status(value: str | None) -> str:
    """A case's status or result (``open``, ``closed``, ``repaired``...) as the reader says it."""
    words = {"open": N_("open"), "closed": N_("closed"), "repaired": N_("repaired"), "unrepaired": N_("unrepaired"),
             "returned": N_("returned")}
    return tr(words.get(value or "", value or ""))


# ---------------------------------------------------------------------------- show
@case.command("show")
@click.argument("case_ref", metavar="ID")
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def show(case_ref: str, db: str | None, as_json: bool) -> None:
    """The case: unit, complaint, intake answers, its runs and repairs, how it closed."""
    from bench.cases.store import CaseStore

    case_id = _case_id(case_ref)
    with _open(db) as store:
        cases = CaseStore(store)
        c = cases.get(case_id)
        runs, repairs = cases.runs(case_id), cases.repairs(case_id)
    from bench.cases.assess import assess
    from drivers.codecs.pan import redact, redact_data

    judgement, plan = assess(c, runs)
    if as_json:
        safe.echo_json(json.dumps(redact_data({**c.to_dict(), "runs": [_run_dict(r) for r in runs],
                                               "repairs": [r.to_dict() for r in repairs],
                                               "judgement": judgement.to_dict(), "plan": plan.to_dict()}),
                                  indent=2))
        return
    for line in show_lines(c, runs, repairs) + assessment_lines(judgement, plan):
        safe.echo(redact(line))


def show_lines(c: Case, runs: list[RunRecord], repairs: list[Repair]) -> list[str]:
    """``bench case show`` as text lines."""
    lines = [_("case {case}: unit {serial}, {status}").format(
                 case=c.label, serial=_unit(c.serial, c.model),
                 status=_status(c.status) + (f" {_status(c.result)}" if c.result else "")),
             _("complaint: {text}").format(text=safe.one_line(c.complaint)),
             _("customer: {customer}; last worked: {last}; software update: {update}").format(
                 customer=c.customer_ref or "-", last=c.last_worked or "-", update=c.software_update or "-"),
             _("opened {when} by {who}").format(when=_when(c.opened_at), who=c.opened_by)]
    lines.append(_("runs ({n}):").format(n=len(runs)) if runs else _("runs: none yet"))
    for r in runs:
        d = _run_dict(r)
        lines.append(f"  {_when(r.started_at, True)}  {r.run_id[:8]}  {pad(word(r.verdict), 10)} {r.plan_name} "
                     f"{r.plan_version}" + (f"  {' '.join(d['faults'])}" if d["faults"] else ""))
    lines.append(_("repairs ({n}):").format(n=len(repairs)) if repairs else _("repairs: none yet"))
    for p in repairs:
        part = f" {p.part_number}" if p.part_number else ""
        lines.append(f"  {_when(p.at, True)}  {_action(p.action)}{part}  "
                     + _("by {who}: {note}").format(who=p.technician, note=safe.one_line(p.note)))
    if not c.is_open:
        lines.append(_("closed {when}: {result}").format(when=_when(c.closed_at), result=_status(c.result))
                     + (" " + aside(c.close_reason) if c.close_reason else ""))
    return lines


def assessment_lines(judgement: Judgement, plan: RepairPlan) -> list[str]:
    """The judgement (verdict, ranked findings) and the repair plan (ordered actions, costs) as text lines."""
    from bench.reports.words import case_word

    lines = [_("judgement: {summary}").format(summary=tr(judgement.summary))]
    for i, f in enumerate(judgement.findings, 1):
        state = _("resolved by {run}").format(run=f.resolved_by[:8]) if f.resolved and f.resolved_by else _("open")
        whose = "" if f.in_unit else _(", not the unit")
        lines.append(f"  {i}. {f.fault:<18} {pad(case_word(str(f.kind)), 13)} "
                     + _("severity {severity}").format(severity=tr(f.severity)) + "  "
                     + _("{part}{whose}; {state}: {title}").format(part=tr(f.part), whose=whose, state=state,
                                                                  title=tr(f.title)))
    cur = plan.currency
    if plan.return_to_factory is not None:
        lines.append(_("plan: return to factory: {reason}").format(reason=tr(plan.return_to_factory.reason)))
    elif not plan.actions:
        lines.append(_("plan: nothing to do (no open fault in the unit)"))
    else:
        lines.append(_("plan ({n} action(s)):").format(n=len(plan.actions)))
    for a in plan.actions:
        part = f" [{a.part_number} {format_number(a.price, decimals=2)} {cur}]" if a.part_number else ""
        cond = _(" (only if the fault persists)") if a.conditional else ""
        lines.append(f"  {a.order}. {tr(a.what)}{part}, " + _("{n} min").format(n=a.minutes)
                     + f"{cond}: {', '.join(a.faults)}")
    if plan.actions:
        lines.append("  " + _("labour up to {minutes} min, cost up to {cost} {cur} (parts {parts}); first pass "
                              "{first_minutes} min, {first_cost} {cur}").format(
            minutes=plan.labour_minutes, cost=format_number(plan.total_cost, decimals=2), cur=cur,
            parts=format_number(plan.parts_cost, decimals=2), first_minutes=plan.first_pass_minutes,
            first_cost=format_number(plan.first_pass_cost, decimals=2)))
    if plan.unplanned:
        lines.append("  " + _("not in the catalogue: {faults}").format(faults=", ".join(plan.unplanned)))
    if plan.deferred:
        lines.append("  " + _("deferred until back from the factory: {faults}").format(faults=", ".join(plan.deferred)))
    return lines


def _run_dict(r: RunRecord) -> dict[str, Any]:
    faults: list[str] = []
    for code in [s.fault for s in r.steps if s.fault] + [f.fault for f in r.findings]:
        if code and code not in faults:
            faults.append(code)
    return {"run_id": r.run_id, "started_at": r.started_at.astimezone(UTC).isoformat(),
            "ended_at": r.ended_at.astimezone(UTC).isoformat() if r.ended_at else None, "verdict": r.verdict.value,
            "plan": r.plan_name, "plan_version": r.plan_version, "station": r.station,
            "serial": r.unit.serial if r.unit else None, "faults": faults}


# ---------------------------------------------------------------------------- repair
@case.command("repair")
@click.argument("case_ref", metavar="ID")
@click.option("--action", required=True, type=click.Choice(_ACTIONS), help=N_("What was done."))
@click.option("--part", "part_number", help=N_("Part number fitted (required with --action replace)."))
@click.option("--note", required=True, help=N_("What was done, in words."))
@click.option("--technician", help=N_("Who did it (default: the login name)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def repair(case_ref: str, action: str, part_number: str | None, note: str, technician: str | None, db: str | None,
           as_json: bool) -> None:
    """Record a repair action on case ID (one whole record, or none)."""
    from bench.cases.store import CaseStore

    case_id = _case_id(case_ref)
    with _open(db) as store:
        done = CaseStore(store).add_repair(case_id, action, note, part_number=part_number,
                                           technician=technician or getpass.getuser())
    if as_json:
        safe.echo_json(json.dumps(done.to_dict(), indent=2))
        return
    part = f" {done.part_number}" if done.part_number else ""
    safe.echo(_("case {case}: recorded {action} by {who}").format(case=_label(case_id), action=f"{_action(done.action)}{part}",
                                                                   who=done.technician))


# ---------------------------------------------------------------------------- close
@case.command("close")
@click.argument("case_ref", metavar="ID")
@click.option("--unrepaired", metavar="REASON",
              help=N_("Close without a passing run: why the unit leaves unrepaired."))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help=_OUT_HELP)
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def close(case_ref: str, unrepaired: str | None, out_dir: Path | None, db: str | None, as_json: bool) -> None:
    """Close case ID: repaired when its last run passed and retested every fault, returned when the unit is at the factory, else --unrepaired.

    The case report (HTML, Markdown, JSON) is written on closing, as ``bench case report`` writes it.
    """
    from bench.cases.store import CaseNotRepaired, CaseStore

    case_id = _case_id(case_ref)
    with _open(db) as store:
        cases = CaseStore(store)
        untested: list[str] = []
        checklist_only = False
        c = cases.get(case_id)
        if unrepaired is None and c.is_open:  # a passing run that never retested the fault is no sign-off
            from bench.cases.evidence import CaseEvidence
            from bench.cases.judgement import judge
            from bench.cases.store import JUDGED

            runs = cases.runs(case_id)
            judgement = judge(CaseEvidence(runs, c.serial, c.model or "", c.complaint))
            untested = [f.fault for f in judgement.open]
            judged = [r for r in runs if r.verdict.value in JUDGED]
            checklist_only = bool(judged and judged[-1].steps
                                  and all(s.check.startswith("intake.") for s in judged[-1].steps))
        try:
            closed = cases.close(case_id, unrepaired, untested=untested, checklist_only=checklist_only)
        except CaseNotRepaired as exc:  # the unit is not repaired: exit 1, like a unit that failed
            safe.echo(safe.bench_line(exc), err=True)
            raise click.exceptions.Exit(1) from None
        folder, written = _write_report(closed, cases.runs(case_id), cases.repairs(case_id), out_dir, None)
    if as_json:
        safe.echo_json(json.dumps({**closed.to_dict(), "report": str(folder)}, indent=2))
        return
    safe.echo(_("case {case} closed: {result}").format(case=closed.label, result=_status(closed.result))
              + (" " + aside(safe.one_line(closed.close_reason)) if closed.close_reason else ""))
    safe.echo(_("case report: {path}").format(path=written.get("html", next(iter(written.values())))))


# ---------------------------------------------------------------------------- report
@case.command("report")
@click.argument("case_ref", metavar="ID")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help=_OUT_HELP)
@click.option("--format", "fmt", type=click.Choice(("html", "md", "json")),
              help=N_("Write only this format (default: all three: case.html, case.md, case.json)."))
@click.option("--customer-lang", metavar="LANG",
              help=N_("Language of the summary for the customer (en, zh_CN); default: the report's."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the files written as JSON."))
def report(case_ref: str, out_dir: Path | None, fmt: str | None, customer_lang: str | None, db: str | None,
           as_json: bool) -> None:
    """Write the case report of ID: unit, complaint, intake, timeline, judgement, plan, before/after, result."""
    from bench.cases.store import CaseStore
    from bench.cli.store import report_language

    case_id = _case_id(case_ref)
    customer = report_language(customer_lang, "--customer-lang")
    with _open(db) as store:
        cases = CaseStore(store)
        c = cases.get(case_id)
        _folder, written = _write_report(c, cases.runs(case_id), cases.repairs(case_id), out_dir, fmt, customer)
    if as_json:
        safe.echo_json(json.dumps({"case": c.label, "files": {k: str(v) for k, v in written.items()}}, indent=2))
        return
    for path in written.values():
        safe.echo(_("case report: {path}").format(path=path))


def _write_report(c: Case, runs: list[RunRecord], repairs: list[Repair], out_dir: Path | None,
                  fmt: str | None, customer_lang: str | None = None) -> tuple[Path, dict[str, Path]]:
    from bench.reports.case import build_case_report, default_folder
    from bench.reports.casefiles import CASE_FILES, write_case_reports

    folder = out_dir if out_dir is not None else default_folder(c)
    data = build_case_report(c, runs, repairs)
    return folder, write_case_reports(data, folder, (fmt,) if fmt else tuple(CASE_FILES), customer_lang=customer_lang)


def _label(case_id: int) -> str:
    return f"C{case_id}"


def _when(t: datetime | None, seconds: bool = False) -> str:
    from bench.cli.tables import when

    return f"{when(t, seconds=seconds)} UTC" if t else "-"


def _short(text: str, width: int = 48) -> str:
    from bench.i18n.layout import truncate

    return truncate(safe.one_line(text), width)


from bench.cli.casereplay import replay  # noqa: E402  (its own module: the replay drives the other commands)

case.add_command(replay)
