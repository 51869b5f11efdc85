"""``bench inspect``: incoming inspection of lots by ISO 2859-1 sampling.

``plan`` prints the sampling plan of a lot; ``start`` opens a lot (its severity from the
switching state of the supplier's part); the sampled units are tested with
``bench run PLAN --lot LOT``; ``status`` shows progress and decides the lot as soon as it
can; ``report`` writes ``lot.html`` and ``lot.json``; ``state`` shows the switching state;
``demo`` runs a whole lot on simulated units. Only click and the standard library are
imported at module level, so ``bench --help`` stays fast.
"""

from __future__ import annotations

import getpass
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import group
from bench.cli.params import PLAN
from bench.cli.tables import aside, word
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.lots.store import LotStatus, LotStore
    from bench.store.base import StoreBase as Store

_DB_HELP = N_("Results store URL (default: the local SQLite store).")
_LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
_SEVERITIES = ("normal", "tightened", "reduced")

#: Faults a defective simulated unit may have: scenarios in drivers/sim/scenarios/ (a good unit runs "good").
DEMO_FAULTS: tuple[str, ...] = ("battery-low", "firmware-old", "not-charging", "post-flash", "tampered")


def _open(db: str | None) -> Store:
    from bench.store.connect import open_store

    return open_store(db)


def _aql(value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise click.BadParameter(_("{value!r} is not a number").format(value=value), param_hint="--aql") from exc


@group()
def inspect() -> None:
    """Incoming inspection of lots (ISO 2859-1 / ANSI Z1.4 single sampling)."""


# ---------------------------------------------------------------------------- plan
@inspect.command("plan")
@click.option("--lot-size", type=click.IntRange(min=2), required=True, help=N_("Units in the lot."))
@click.option("--aql", required=True, help=N_("Acceptance quality limit in percent (0.010 .. 1000)."))
@click.option("--level", type=click.Choice(_LEVELS, case_sensitive=False), default="II", show_default=True)
@click.option("--severity", type=click.Choice(_SEVERITIES), default="normal", show_default=True)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def plan_cmd(lot_size: int, aql: str, level: str, severity: str, as_json: bool) -> None:
    """Print the sampling plan of a lot: code letter, sample size, Ac and Re."""
    from bench.lots import sampling

    p = sampling.plan(lot_size, _aql(aql), level, severity)
    if as_json:
        safe.echo_json(json.dumps(p.to_dict(), indent=2))
        return
    safe.echo(_plan_text(p))


def _plan_text(p: Any) -> str:
    arrow = _(" (Table I gives {table}; the table's arrow leads to {letter})").format(
        table=p.table_letter, letter=p.letter) if p.letter != p.table_letter else ""
    text = _("lot {size}, level {level}, AQL {aql}, {severity} inspection: code letter {letter}{arrow}, "
             "sample size {sample}, Ac {ac}, Re {re}").format(
        size=p.lot_size, level=p.level, aql=f"{p.aql:g}", severity=_severity(p.severity.value), letter=p.letter,
        arrow=arrow, sample=p.sample_size, ac=p.ac, re=p.re)
    if p.hundred_percent:
        text += "\n" + _("full (100%) inspection: the sample size reaches the lot size, test every unit")
    if p.re > p.ac + 1:
        text += "\n" + _("{ac} < defectives < {re}: lot accepted, but normal inspection is reinstated").format(
            ac=p.ac, re=p.re)
    return text


def _severity(value: str) -> str:
    """``normal``, ``tightened``, ``reduced`` or ``discontinued`` as the reader says it."""
    words = {"normal": N_("normal"), "tightened": N_("tightened"), "reduced": N_("reduced"),
             "discontinued": N_("discontinued")}
    return tr(words.get(value, value))


# ---------------------------------------------------------------------------- start
@inspect.command()
@click.option("--supplier", required=True)
@click.option("--part", required=True, help=N_("Part number."))
@click.option("--lot", "lot_id", required=True, help=N_("Lot number (the --lot of `bench run`)."))
@click.option("--lot-size", type=click.IntRange(min=2), required=True)
@click.option("--aql", required=True, help=N_("Acceptance quality limit in percent."))
@click.option("--plan", "plan_file", type=PLAN, required=True,
              help=N_("The test plan each sampled unit is tested with."))
@click.option("--level", type=click.Choice(_LEVELS, case_sensitive=False), default="II", show_default=True)
@click.option("--severity", type=click.Choice(_SEVERITIES),
              help=N_("Override the severity the switching rules give (recorded with the lot)."))
@click.option("--approve-reduced", is_flag=True,
              help=N_("The responsible authority approves reduced inspection (used only when the switching score "
                      "allows)."))
@click.option("--resume", is_flag=True, help=N_("Resume a discontinued supplier's part at tightened inspection."))
@click.option("--inspector", help=N_("Inspector's name (default: the login name)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the lot as JSON."))
def start(supplier: str, part: str, lot_id: str, lot_size: int, aql: str, plan_file: Path, level: str,
          severity: str | None, approve_reduced: bool, resume: bool, inspector: str | None, db: str | None,
          as_json: bool) -> None:
    """Open a lot for inspection; then test each sampled unit with `bench run PLAN --lot LOT`."""
    if severity is not None and approve_reduced:
        from bench.errors import UsageError

        raise UsageError(N_("--approve-reduced has no effect with --severity {severity}: give one or the other",
                            severity=severity))
    with _open(db) as store:
        lot, state = open_lot(store, supplier=supplier, part=part, lot_id=lot_id, lot_size=lot_size, aql=_aql(aql),
                              plan_file=plan_file, level=level, severity=severity, approve_reduced=approve_reduced,
                              resume=resume, inspector=inspector or getpass.getuser())
    if as_json:
        safe.echo_json(json.dumps({**lot.to_dict(), "switching": state.to_dict()}, indent=2))
        return
    safe.echo(_("lot {lot} opened: {part} from {supplier}, inspector {inspector}").format(
        lot=lot.lot_id, part=lot.part, supplier=lot.supplier, inspector=lot.inspector))
    safe.echo(_plan_text(lot.plan))
    if state.reduced_eligible and lot.plan.severity.value == "normal":
        safe.echo(_("switching score {score}: reduced inspection may be approved (--approve-reduced)").format(
            score=state.score))
    safe.echo(_("test {n} unit(s) drawn at random: bench run {plan} --station FILE --lot {lot}").format(
        n=lot.plan.sample_size, plan=plan_file, lot=lot.lot_id))


def open_lot(store: Store, *, supplier: str, part: str, lot_id: str, lot_size: int, aql: float, plan_file: Path,
             level: str = "II", severity: str | None = None, approve_reduced: bool = False, resume: bool = False,
             inspector: str = "inspector", now: datetime | None = None) -> tuple[Any, Any]:
    """Validate the test plan, take the severity from the switching rules, and open the lot."""
    from bench.lots import sampling
    from bench.lots.store import LotStore
    from bench.plan import load_plan

    load_plan(plan_file)  # a plan error is a usage error now, not at the first unit
    lots = LotStore(store)
    results = lots.results(supplier, part)
    sev = sampling.Severity(severity) if severity else sampling.severity_for(
        results, approve_reduced=approve_reduced, resume=resume)
    state = sampling.switching_state(results, resume=resume)
    p = sampling.plan(lot_size, aql, level, sev)
    return lots.open_lot(lot_id, supplier, part, p, str(plan_file), inspector, now=now), state


# ---------------------------------------------------------------------------- status
@inspect.command()
@click.argument("lot_id", metavar="LOT")
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def status(lot_id: str, db: str | None, as_json: bool) -> None:
    """Progress of LOT (tested, defectives, remaining) and its decision once reached."""
    from bench.lots.store import LotStore

    with _open(db) as store:
        st = LotStore(store).status(lot_id)
    if as_json:
        safe.echo_json(json.dumps(st.to_dict(), indent=2))
        return
    safe.echo(_status_text(st))


def _status_text(st: LotStatus) -> str:
    p = st.lot.plan
    lines = [_("lot {lot}: {part} from {supplier}, {severity} inspection, letter {letter}, sample {sample}{all}, "
               "Ac {ac}, Re {re}").format(lot=st.lot.lot_id, part=st.lot.part, supplier=st.lot.supplier,
                                          severity=_severity(p.severity.value), letter=p.letter, sample=p.sample_size,
                                          all=" (100%)" if p.hundred_percent else "", ac=p.ac, re=p.re),
             _("tested {tested}, defectives {defectives}, ").format(tested=st.tested, defectives=st.defectives)
             + (_("remaining {n}").format(n=st.remaining) if not st.lot.decision or st.tested >= p.sample_size
                else _("the other {n} need no test (decided early)").format(n=p.sample_size - st.tested))]
    if st.not_counted:
        lines.append(_("{n} run(s) ended ERROR/INCOMPLETE/ABORTED: retest those units").format(n=st.not_counted))
    by_fault = st.defectives_by_fault()
    if by_fault:
        lines.append(_("defectives by fault: {counts}").format(counts=", ".join(f"{k} {v}" for k, v in by_fault.items())))
    if st.lot.decision:
        lines.append(_("decision: {decision}").format(decision=word(st.lot.decision)))
        if st.lot.decision == "ACCEPT" and p.ac < st.defectives < p.re:
            lines.append(_("accepted between Ac and Re: normal inspection is reinstated for the next lot"))
    else:
        lines.append(_("decision: open (REJECT at {re} defectives; ACCEPT after {sample} units with at most {most})")
                     .format(re=p.re, sample=p.sample_size, most=min(p.re - 1, p.sample_size)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- report
@inspect.command()
@click.argument("lot_id", metavar="LOT")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help=N_("Directory for lot.html and lot.json (default: reports/lot-LOT)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the lot report as JSON (files still written)."))
def report(lot_id: str, out_dir: Path | None, db: str | None, as_json: bool) -> None:
    """Write the report of LOT: plan, units and verdicts, defectives by fault, decision."""
    from bench.reports.files import check_writable_dir

    out = out_dir or Path("reports") / f"lot-{_safe(lot_id)}"
    check_writable_dir(out, "--out")
    with _open(db) as store:
        st, written, sw = write_report(store, lot_id, out)
    _echo_written(st, sw, written, as_json)


def write_report(store: Store, lot_id: str, out_dir: Path) -> tuple[Any, dict[str, Path], Any]:
    """Decide (if due) and write ``lot.html``/``lot.json``; returns the status, files and switching state."""
    from bench.lots.store import LotStore
    from bench.reports.lot import write_lot_reports

    lots: LotStore = LotStore(store)
    st = lots.status(lot_id)
    sw = lots.switching(st.lot.supplier, st.lot.part) if st.lot.decision else None
    return st, write_lot_reports(st, out_dir, sw), sw


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "lot"


# ---------------------------------------------------------------------------- state
@inspect.command()
@click.option("--supplier", required=True)
@click.option("--part", required=True)
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def state(supplier: str, part: str, db: str | None, as_json: bool) -> None:
    """The switching state (normal, tightened, reduced, discontinued) of a supplier's part."""
    from bench.lots.store import LotStore

    with _open(db) as store:
        sw = LotStore(store).switching(supplier, part)
    if as_json:
        safe.echo_json(json.dumps({"supplier": supplier, "part": part, **sw.to_dict()}, indent=2))
        return
    safe.echo(_("{part} from {supplier}: next lot {state}, switching score {score}").format(
        part=part, supplier=supplier, state=_severity(sw.state.value), score=sw.score)
              + (_(" (reduced inspection may be approved)") if sw.reduced_eligible else ""))
    for line in sw.history:
        safe.echo("  ", tr(line))


# ---------------------------------------------------------------------------- demo
@inspect.command()
@click.option("--lot-size", type=click.IntRange(min=2), default=500, show_default=True)
@click.option("--aql", default="1.0", show_default=True)
@click.option("--level", type=click.Choice(_LEVELS, case_sensitive=False), default="II", show_default=True)
@click.option("--defect-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True,
              help=N_("Share of defective units in the simulated lot."))
@click.option("--seed", type=int, help=N_("Random seed (default: random)."))
@click.option("--plan", "plan_file", type=PLAN, default="pos-quick", show_default=True)
@click.option("--lot", "lot_id", help=N_("Lot number (default: DEMO-<time>)."))
@click.option("--db", help=_DB_HELP)
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help=N_("Directory for the lot report (default: reports/lot-LOT)."))
@click.option("--units", type=click.IntRange(1, 16), default=1, show_default=True,
              help=N_("Test the sample on a multi-up simulated station of N slots, N units at a time."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the lot report as JSON."))
def demo(lot_size: int, aql: str, level: str, defect_rate: float, seed: int | None, plan_file: Path,
         lot_id: str | None, db: str | None, out_dir: Path | None, units: int, as_json: bool) -> None:
    """Inspect a whole simulated lot: open it, test its sample on simulated units, report."""
    lot_id = lot_id or datetime.now(UTC).strftime("DEMO-%Y%m%d-%H%M%S")
    out = out_dir or Path("reports") / f"lot-{_safe(lot_id)}"
    from bench.reports.files import check_writable_dir

    check_writable_dir(out, "--out")  # before the sample is tested, not after
    progress = None if as_json else safe.echo
    st, written, sw = run_demo(lot_id=lot_id, lot_size=lot_size, aql=_aql(aql), level=level,
                               defect_rate=defect_rate, seed=seed, plan_file=plan_file, db=db, out_dir=out,
                               echo=progress, units=units)
    _echo_written(st, sw, written, as_json)


def run_demo(*, lot_id: str, lot_size: int, aql: float, level: str = "II", defect_rate: float = 0.02,
             seed: int | None = None, plan_file: Path | None = None, db: str | None = None,
             out_dir: Path, echo: Any = None, units: int = 1) -> tuple[Any, dict[str, Path], Any]:
    """Open a lot of simulated units and test its sample through ``bench.run.execute`` (the
    code path of ``bench run --sim --lot``), one simulated unit per sampled serial, defective
    ones with a fault scenario drawn from :data:`DEMO_FAULTS`; stop as soon as the lot is decided.
    With ``units`` > 1 the sample is tested that many at a time on a multi-up simulated station.
    """
    from bench import interrupts, planfind
    from bench.lots.store import LotStore, check_lot_open
    from bench.run import RunRequest, execute

    plan_file = plan_file or planfind.find_plan("pos-quick") or Path("testplans/pos-quick.yaml")

    rng = random.Random(seed)
    # The lot: which units are defective (the inspector does not know; the sample finds out).
    defective = set(rng.sample(range(lot_size), round(lot_size * defect_rate)))
    with _open(db) as store:
        lot, _state = open_lot(store, supplier="demo-supplier", part="PT-300 (simulated)", lot_id=lot_id,
                          lot_size=lot_size, aql=aql, plan_file=plan_file, level=level, inspector="demo")
    p = lot.plan
    if echo:
        echo(_("lot {lot}: {size} simulated units, {defective} defective (unknown to the inspector)").format(
            lot=lot_id, size=lot_size, defective=len(defective)))
        echo(_plan_text(p))
    drawn = rng.sample(range(lot_size), p.sample_size)
    if units > 1:
        sample = [(f"{_safe(lot_id)}-{idx + 1:05d}", rng.choice(DEMO_FAULTS) if idx in defective else None)
                  for idx in drawn]
        _demo_in_batches(lot_id, plan_file, db, sample, units, echo)
        with _open(db) as store:
            return write_report(store, lot_id, out_dir)
    for k, idx in enumerate(drawn, 1):
        with _open(db) as store:
            if LotStore(store).status(lot_id).lot.decision is not None:
                break
            check_lot_open(store, lot_id)
        serial = f"{_safe(lot_id)}-{idx + 1:05d}"
        fault = rng.choice(DEMO_FAULTS) if idx in defective else None
        t0 = time.monotonic()
        rec, _report = execute(RunRequest(plan_file=plan_file, sim=True, scenario=fault or "good", unit_serial=serial,
                                    report_dir=None, db=db, operator_name="demo", lot=lot_id))
        if interrupts.release():  # a signal came as that run ended: the demo stops here
            raise KeyboardInterrupt
        if echo:
            echo("  " + _("unit {k}/{n} {serial}: {verdict}").format(k=f"{k:>3}", n=p.sample_size, serial=serial,
                                                                      verdict=word(rec.verdict))
                 + (" " + aside(fault) if fault else "") + f"  {time.monotonic() - t0:.1f} s")
    with _open(db) as store:
        return write_report(store, lot_id, out_dir)


def _demo_in_batches(lot_id: str, plan_file: Path, db: str | None, sample: list[tuple[str, str | None]],
                     units: int, echo: Any) -> None:
    """The demo's sample on a multi-up simulated station: ``units`` at a time, the lot's status after each unit."""
    from bench.lots.batches import Batch, test_in_batches
    from bench.multirun import MultiRequest
    from bench.run import RunRequest

    faults = dict(sample)
    done = 0

    def batches() -> Any:
        for start in range(0, len(sample), units):
            chunk = sample[start:start + units]
            yield Batch({n: serial for n, (serial, _fault) in enumerate(chunk, 1)},
                        {n: fault for n, (_serial, fault) in enumerate(chunk, 1) if fault})

    def unit_done(run: Any, st: Any) -> None:
        nonlocal done
        done += 1
        if echo is None:
            return
        rec = run.record
        serial = rec.unit.serial if rec is not None and rec.unit else "?"
        verdict = word(rec.verdict) if rec is not None else _("no run ({error})").format(error=tr(run.error))
        fault = faults.get(serial)
        decided = "  -> " + _("lot {decision}").format(decision=word(st.lot.decision)) if st.lot.decision else ""
        echo("  " + _("unit {k}/{n} slot {slot} {serial}: {verdict}").format(
            k=f"{done:>3}", n=len(sample), slot=run.slot, serial=serial, verdict=verdict)
             + (" " + aside(fault) if fault else "") + "  "
             + _("tested {tested}, defectives {defectives}").format(tested=st.tested, defectives=st.defectives)
             + decided)

    base = RunRequest(plan_file=plan_file, sim=True, report_dir=None, db=db, operator_name="demo")
    test_in_batches(MultiRequest(base=base, units=units), lot_id, batches(), unit_done)


from bench.cli.inspecttest import inspect_test  # noqa: E402

inspect.add_command(inspect_test)

COMMANDS = (inspect,)

__all__ = ["COMMANDS", "DEMO_FAULTS", "inspect", "open_lot", "run_demo", "write_report"]


def _echo_written(st: Any, sw: Any, written: dict[str, Path], as_json: bool) -> None:
    """The lot's status and the report files written, or all of it as JSON."""
    from bench.reports.lot import lot_document

    if as_json:
        safe.echo_json(json.dumps({**lot_document(st, sw), "files": {k: str(v) for k, v in written.items()}}, indent=2))
        return
    safe.echo(_status_text(st))
    for path in written.values():
        safe.echo(_("wrote {path}").format(path=path))
