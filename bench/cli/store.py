"""The store's side of the command line: ``bench history``, ``trend``, ``stats`` and ``report``.

Only click and the standard library are imported here at module level (the store may pull in
SQLAlchemy), so ``bench --help`` stays fast. Every command takes ``--db URL`` (default:
the local SQLite store) and ``--json``. Having no history is not an error: an unknown
serial or measurement prints a note and exits 0. An unknown run id is a usage error
(exit 2, one line).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.cli.tables import aside, listing, word
from bench.i18n import format_number
from bench.i18n.layout import display_width, pad
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_DB_HELP = N_("Results store URL (default: the local SQLite store).")
_SPARK = "▁▂▃▄▅▆▇█"


def _open(db: str | None) -> StoreBase:
    """The store: through ``sqlite3`` alone when it is a current SQLite file (no SQLAlchemy)."""
    from bench.store.connect import open_store

    return open_store(db)


def _when(t: datetime | None) -> str:
    from bench.cli.tables import when

    return when(t)


# ---------------------------------------------------------------------------- history
@command()
@click.argument("serial")
@click.option("--limit", type=click.IntRange(min=1), help=N_("Show at most N runs (the newest)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def history(serial: str, limit: int | None, db: str | None, as_json: bool) -> None:
    """Every run of the unit SERIAL, newest first, and when it last passed."""
    with _open(db) as store:
        runs = store.history(serial, limit=limit)
        last = store.last_pass(serial)
    if as_json:
        safe.echo_json(json.dumps({
            "serial": serial,
            "runs": [r.to_dict() for r in runs],
            "last_pass": last.to_dict() if last else None,
        }, indent=2))
        return
    if not runs:
        safe.echo(_("no runs on record for serial {serial}").format(serial=serial))
        return
    models = sorted({r.model for r in runs if r.model})
    safe.echo(_("{serial} ({models}): {n} run(s), newest first (UTC)").format(
        serial=serial, models=", ".join(models) or _("unknown model"), n=len(runs)))
    width = max(display_width(_when(r.started_at)) for r in runs)
    for r in runs:
        faults = ", ".join(r.faults) or "-"
        safe.echo(f"  {pad(_when(r.started_at), width)}  {pad(word(r.verdict), 10)} {r.plan_name} "
                  f"{pad(r.plan_version, 6)} {pad(r.station, 10)} {r.run_id[:8]}  {faults}")
    if last is not None:
        safe.echo(_("last passed on {when} UTC (run {run}, {plan} {version}, station {station})").format(
            when=_when(last.started_at), run=last.run_id[:8], plan=last.plan_name, version=last.plan_version,
            station=last.station))
    else:
        safe.echo(_("never passed on record"))


# ---------------------------------------------------------------------------- trend
@command()
@click.argument("measurement")
@click.option("--model", help=N_("Only units of this model."))
@click.option("--serial", help=N_("Only this unit."))
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help=N_("The last N values."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def trend(measurement: str, model: str | None, serial: str | None, limit: int, db: str | None,
          as_json: bool) -> None:
    """Values of MEASUREMENT over time, with limits and a drift warning (see docs/reports.md)."""
    from bench.reports.format import drift, outside

    with _open(db) as store:
        points = store.trend(measurement, model=model, serial=serial, limit=limit)
    lo = points[-1].limit_min if points else None
    hi = points[-1].limit_max if points else None
    judged = drift([p.value for p in points], lo, hi, [p.passed for p in points])
    if as_json:
        safe.echo_json(json.dumps({
            "measurement": measurement,
            "model": model,
            "serial": serial,
            "points": [p.to_dict() for p in points],
            "limit_min": lo,
            "limit_max": hi,
            "drift": judged.to_dict(),
        }, indent=2))
        return
    scope = " ".join(x for x in (
        _("model {model}").format(model=model) if model else "",
        _("serial {serial}").format(serial=serial) if serial else "",
    ) if x)
    if not points:
        if scope:
            safe.echo(_("no numeric values of {measurement!r} on record for {scope}").format(
                measurement=measurement, scope=scope))
        else:
            safe.echo(_("no numeric values of {measurement!r} on record").format(measurement=measurement))
        return
    unit = points[-1].unit or ""
    limits = _limits(lo, hi, unit)
    where = " " + aside(scope) if scope else ""
    safe.echo(_("{measurement}{where}: last {n} value(s), limits {limits}").format(
        measurement=measurement, where=where, n=len(points), limits=limits))
    width = max(display_width(_when(p.at)) for p in points)
    for p in points:
        mark = "  " + _("<< out of limits") if outside(p.value, lo, hi, p.passed) else ""
        safe.echo(f"  {pad(_when(p.at), width)}  {pad(p.serial or '-', 14)} {p.value:>10g} {unit:<4} "
                  f"{p.run_id[:8]}{mark}")
    safe.echo(f"  {_sparkline([p.value for p in points])}")
    if judged.warning:
        safe.echo(_("DRIFT WARNING ({kind}): {message}").format(kind=judged.kind, message=tr(judged.message)))
    else:
        safe.echo(_("no drift: {message}").format(message=tr(judged.message)))


def _limits(lo: float | None, hi: float | None, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{lo:g} ≤ x ≤ {hi:g}{u}"
    if lo is not None:
        return f"≥ {lo:g}{u}"
    if hi is not None:
        return f"≤ {hi:g}{u}"
    return _("none")


def _sparkline(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    if hi == lo:
        return _SPARK[3] * len(values)
    return "".join(_SPARK[round((v - lo) / (hi - lo) * (len(_SPARK) - 1))] for v in values)


# ---------------------------------------------------------------------------- stats
@command()
@click.option("--since", help=N_("Only runs started at or after: YYYY-MM-DD, an ISO time, or 7d / 12h ago."))
@click.option("--model", help=N_("Only units of this model."))
@click.option("--station", help=N_("Only runs at this station."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def stats(since: str | None, model: str | None, station: str | None, db: str | None, as_json: bool) -> None:
    """Runs, first-pass yield, failures by fault code (pareto) and mean time per run; with repair cases in the
    store (and no --model/--station), the repair figures: cases by root cause and by complaint, repeat repairs
    within 90 days, mean time to repair."""
    start = parse_since(since) if since else None
    from bench.cases.figures import repair_figures

    with _open(db) as store:
        result = store.stats(since=start, model=model, station=station)
        repairs = repair_figures(store, since=start) if not (model or station) else None
    if as_json:
        out = result.to_dict()
        if repairs is not None:
            out["repairs"] = repairs.to_dict()
        safe.echo_json(json.dumps(out, indent=2))
        return
    scope = ", ".join(x for x in (
        _("since {when} UTC").format(when=_when(start)) if start else "",
        _("model {model}").format(model=model) if model else "",
        _("station {station}").format(station=station) if station else "") if x)
    safe.echo(_("runs: {n}").format(n=format_number(result.runs)) + (f"  ({scope})" if scope else ""))
    if not result.runs:
        return
    if result.first_pass_yield is not None:
        passed = round(result.first_pass_yield * result.units)
        safe.echo(_("first-pass yield: {share} ({passed} of {units} units passed their first run)").format(
            share=f"{result.first_pass_yield:.1%}", passed=passed, units=result.units))
    safe.echo(_("verdicts: {counts}").format(counts=listing(f"{word(v)} {n}" for v, n in result.verdicts.items())))
    if result.mean_duration_s is not None:
        safe.echo(_("mean time per run: {seconds} s").format(seconds=f"{result.mean_duration_s:.1f}"))
    if result.failures_by_fault:
        total = sum(n for _code, n in result.failures_by_fault)
        width = max(len(code) for code, _n in result.failures_by_fault)
        top = result.failures_by_fault[0][1]
        safe.echo(_("failures by fault code (pareto; FAIL runs showing each code):"))
        cumulative = 0
        for code, n in result.failures_by_fault:
            cumulative += n
            bar = "█" * max(1, round(20 * n / top))
            safe.echo(f"  {code:<{width}}  {n:>4}  {n / total:>4.0%}  ", _("cum {share}").format(
                share=f"{cumulative / total:>4.0%}"), f"  {bar}")
    if repairs is not None and repairs.opened:
        _print_repairs(repairs)


def _print_repairs(r: Any) -> None:
    """The repair figures (bench.cases.figures.RepairFigures) under the run figures."""
    results = ", ".join(f"{n} {word(k)}" for k, n in r.by_result.items())
    safe.echo(_("repair cases: {opened} opened, {closed} closed").format(opened=r.opened, closed=r.closed)
              + (f" ({results})" if results else ""))
    if r.mean_time_to_repair_h is not None:
        safe.echo(_("mean time to repair: {hours} h (opening to closing)").format(
            hours=f"{r.mean_time_to_repair_h:.1f}"))
    if r.by_root_cause:
        safe.echo(_("cases by root cause (the first fault of the case's first failing run):"))
        for fault, n in r.by_root_cause:
            safe.echo(f"  {pad(safe.one_line(fault), 20)} {n:>4}")
    if r.by_complaint:
        safe.echo(_("cases by complaint:"))
        for complaint, n in r.by_complaint:
            safe.echo(f"  {n:>4}  {safe.one_line(complaint)}")
    if r.repeat_repairs:
        safe.echo(_("repeat repairs (a new case within 90 days of a closed one): {cases}").format(
            cases=", ".join(safe.one_line(x) for x in r.repeat_repairs)))


def parse_since(text: str) -> datetime:
    """``2026-11-01``, ``2026-11-01T08:00``, ``7d``, ``12h`` or ``30m`` (ago) as an aware UTC time.

    Raises:
        click.BadParameter: anything else.
    """
    m = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]
        return datetime.now(UTC) - delta
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(_("{text!r}: expected YYYY-MM-DD, an ISO time, or 7d/12h/30m").format(text=text),
                                 param_hint="--since") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- report
_FORMATS = ("html", "json", "junit", "rma", "rma-json")


@command()
@click.argument("run_ref", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="html", show_default=True,
              help=N_("Report to render (rma = the fault report in Markdown; with --out DIR also rma.json)."))
@click.option("--out", type=click.Path(path_type=Path),
              help=N_("Write to this file, or into this directory under the standard name; default stdout."))
@click.option("--lang", "report_lang", metavar="LANG",
              help=N_("Language of the report for people (en, zh_CN); default: the run's. JSON and JUnit are the "
                      "same in every language."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True,
              help=N_("Print what was rendered as JSON (files written, or the content) instead of plain text."))
def report(run_ref: str, fmt: str, out: Path | None, report_lang: str | None, db: str | None, as_json: bool) -> None:
    """Render the reports of a stored RUN again (run id, unique prefix, or 'latest')."""
    from bench.errors import UsageError
    from bench.reports.render import FILES, render, write_reports

    lang = report_language(report_lang, "--lang")

    with _open(db) as store:
        if run_ref == "latest":
            rec = store.latest_run()
            if rec is None:
                raise UsageError(N_("the store has no runs yet"))
        else:
            rec = store.get_run(run_ref)
        written: dict[str, Path] = {}
        content: str | None = None
        if out is None:
            content = render(rec, fmt, store, lang=lang)
        elif out.is_dir():
            written = write_reports(rec, out, [fmt], store, lang=lang)
        else:
            from bench.reports.files import check_writable_file, write_atomic

            check_writable_file(out, "--out")
            write_atomic(out, render(rec, fmt, store, lang=lang))
            written = {fmt: out}
    if as_json:
        doc: dict[str, Any] = {"run_id": rec.run_id, "verdict": rec.verdict.value, "format": fmt}
        if content is not None:
            doc["content"] = json.loads(content) if fmt in ("json", "rma-json") else content
        else:
            doc["files"] = {FILES[k]: str(p) for k, p in written.items()}
        safe.echo_json(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    if content is not None:
        if fmt in ("json", "rma-json"):
            safe.echo_json(content, nl=False)
        else:
            safe.echo(content, nl=False)
        return
    for path in written.values():
        safe.echo(_("wrote {path}").format(path=path))


def report_language(given: str | None, option: str) -> str | None:
    """The language code of ``--lang``/``--customer-lang`` (``zh``, ``zh-CN`` ... as ``zh_CN``), ``None`` when not given.

    Raises:
        UsageError: a language the bench does not speak.
    """
    if given is None:
        return None
    from bench.errors import UsageError
    from bench.i18n import LANGUAGES, normalise

    lang = normalise(given)
    if lang is None:
        raise UsageError(N_("{source}: unknown language {given!r} (the bench speaks: {known})", source=option,
                            given=given, known=", ".join(LANGUAGES)))
    return lang


COMMANDS = (history, trend, stats, report)

__all__ = ["COMMANDS", "history", "parse_since", "report", "report_language", "stats", "trend"]
