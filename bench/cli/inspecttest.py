"""``bench inspect test LOT --station FILE``: a lot's sample on a (multi-up) station, a slotful at a time.

For each round the operator loads units into the slots and scans (or types) each serial; the
units are tested in parallel, each recorded against the lot, and the lot's status is shown as
each unit finishes. Rounds go on until the lot is decided, or the operator loads no new unit.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.cli.params import PLAN
from bench.cli.tables import word
from drivers.i18n import N_, _, tr

if TYPE_CHECKING:
    from bench.lots.batches import Batch
    from bench.lots.store import LotStatus
    from bench.multirun import SlotRun
    from bench.operator import Operator

#: Seconds the operator has to scan one serial.
SCAN_TIMEOUT = 600.0


def _scan_question(slot: int, lot: str) -> str:
    return _("slot {slot}: load the next unit of lot {lot} and scan its serial (empty: leave the slot empty):").format(
        slot=slot, lot=lot)


@command("test")
@click.argument("lot_id", metavar="LOT")
@click.option("--station", "station_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("The station file (one slot or a multi-up fixture with [slots.N])."))
@click.option("--slot", "slots", type=click.IntRange(1, 64), multiple=True, help=N_("Use only this slot (repeatable)."))
@click.option("--plan", "plan_file", type=PLAN, help=N_("Plan to run (default: the lot's own plan)."))
@click.option("--operator", "operator_name", help=N_("Operator name recorded with the runs."))
@click.option("--operator-script", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("YAML answers (per slot: slots: {N: {answers: {serial: ...}}}) instead of a person."))
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--db", help=N_("Results store URL (default: the station's, else the local SQLite store)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the lot's status and every run as JSON."))
def inspect_test(lot_id: str, station_file: Path, slots: tuple[int, ...], plan_file: Path | None,
                 operator_name: str | None, operator_script: Path | None, report_dir: Path, db: str | None,
                 as_json: bool) -> None:
    """Test LOT's sample on a station: load units a slotful at a time, test them in parallel, until the lot is decided."""
    from bench.cli.console import TerminalOperator
    from bench.cli.language import speak_station
    from bench.lots.batches import test_in_batches
    from bench.lots.store import LotStore
    from bench.multirun import MultiRequest
    from bench.run import RunRequest
    from bench.station import load_station
    from bench.store.connect import open_store

    station = load_station(station_file)
    speak_station(station)
    db = db or station.db
    numbers = station.select_slots(slots)
    with open_store(db) as store:
        lot = LotStore(store).get(lot_id)
    plan = plan_file or Path(lot.plan_file)
    scanners = _scanners(numbers, operator_script, operator_name or station.operator)
    runs: list[dict[str, Any]] = []
    scanned: dict[int, str] = {}

    def next_batch(status: LotStatus) -> Batch | None:
        from bench.lots.batches import Batch

        tested = {u.serial for u in status.units}
        serials: dict[int, str] = {}
        for n in numbers:
            serial = scanners[n].ask_text(_scan_question(n, lot_id), timeout=SCAN_TIMEOUT).strip()
            if not serial:
                continue
            if serial in tested or serial in serials.values():
                _say(as_json, _("slot {n}: {serial} is tested already in lot {lot}; slot left out").format(
                    n=n, serial=safe.one_line(serial), lot=lot_id))
                continue
            serials[n] = serial
        if not serials:
            _say(as_json, _("no new unit loaded: stopping (the lot stays as it is)"))
            return None
        scanned.clear()
        scanned.update(serials)
        return Batch(serials, {})

    def unit_done(run: SlotRun, status: LotStatus) -> None:
        rec = run.record
        if rec is not None:
            runs.append({"slot": run.slot, "run_id": rec.run_id, "serial": rec.unit.serial if rec.unit else None,
                         "verdict": rec.verdict.value, "report": str(run.report) if run.report else None})
        verdict = word(rec.verdict) if rec is not None else _("no run ({error})").format(error=tr(run.error))
        serial = rec.unit.serial if rec is not None and rec.unit else "?"
        if rec is not None and rec.unit and scanned.get(run.slot) not in (None, rec.unit.serial):
            _say(as_json, _("slot {n}: scanned {scanned} but the unit says {serial}: recorded as the unit says "
                            "(check the label)").format(n=run.slot, scanned=safe.one_line(scanned[run.slot]),
                                                        serial=safe.one_line(rec.unit.serial)))
        decided = "; " + _("lot {decision}").format(decision=word(status.lot.decision)) if status.lot.decision else ""
        _say(as_json, _("slot {n} {serial}: {verdict}  (lot {lot}: tested {tested} of {sample}, defectives "
                        "{defectives}{decided})").format(
            n=run.slot, serial=safe.one_line(serial), verdict=verdict, lot=lot_id, tested=status.tested,
            sample=status.lot.plan.sample_size, defectives=status.defectives, decided=decided))

    base = RunRequest(plan_file=plan, station_file=station_file, report_dir=report_dir, db=db,
                      operator_name=operator_name, operator_script=operator_script, terminal_operator=TerminalOperator)
    status, results = test_in_batches(
        MultiRequest(base=base, slots=tuple(numbers)), lot_id, next_batch, unit_done,
        idle=lambda: _say(as_json, _("that round added no tested unit to the lot (units tested already, or runs "
                                     "that did not end PASS or FAIL): stopping; load other units and run again")))
    if as_json:
        safe.echo_json(json.dumps({"lot": status.to_dict(), "runs": runs}, indent=2))
    else:
        safe.echo(_("lot {lot}: tested {tested} of {sample}, defectives {defectives}, decision: {decision}").format(
            lot=lot_id, tested=status.tested, sample=status.lot.plan.sample_size, defectives=status.defectives,
            decision=word(status.lot.decision) if status.lot.decision else _("open")))
    # A failed unit is what inspection is for: the exit code says the lot's decision (1: REJECT),
    # or that the bench failed in a round (3).
    if any(r.exit_code not in (0, 1) for r in results):
        raise SystemExit(max(r.exit_code for r in results))
    raise SystemExit(1 if status.lot.decision == "REJECT" else 0)


def _say(as_json: bool, text: str) -> None:
    safe.echo(text, err=as_json)


def _scanners(numbers: list[int], script: Path | None, name: str | None) -> dict[int, Operator]:
    """Who gives each slot's serial: the script's answers (key ``serial`` or the question), or the person."""
    from bench.operator import ScriptedOperator

    if script is not None:
        from bench.scenario import load_slot_operator_script

        common, per_slot = load_slot_operator_script(script)
        out: dict[int, Operator] = {}
        for n in numbers:
            answers = per_slot.get(n, common)
            out[n] = ScriptedOperator({"*": answers["serial"]} if "serial" in answers else answers,
                                      name=name or "scripted")
        return out
    from bench.cli.console import TerminalOperator

    person = TerminalOperator(name or getpass.getuser())
    return dict.fromkeys(numbers, person)
