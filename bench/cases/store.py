"""Repair cases in the store: open a case, attach runs, record repairs, close it.

The rules (``docs/store.md``, "Repair cases", says them for people):

* A serial has at most one open case: opening a second one is a usage error naming the first.
* A run joins a case (``runs.case_id``) only while the case is open, and not when the unit that
  was tested reported another serial: that run is stored on its own (:class:`RunNotAttached`
  says why). A unit that never reports a serial (it does not answer) is taken on the
  technician's word: the run joins the case.
* Repairs are recorded on open cases only; ``replace`` needs the part number.
* Closing (:meth:`CaseStore.close`), in this order:

  1. the unit is at the factory (a ``return-to-factory`` repair with no ``reactivated`` after it):
     result ``returned``; the reason is the one given, else the return's note;
  2. ``unrepaired`` reason given: result ``unrepaired`` with that reason;
  3. the case's last judged run (PASS, FAIL or INCOMPLETE: an ERROR run is the bench's failure, an
     ABORTED one judged nothing) is a PASS, and no fault of the unit is left unretested (the caller's
     ``untested``: the judgement's open findings, e.g. a card-reader fault that a later plan
     without the card reader never tested again), and that run is not the intake checklist alone
     (``checklist_only``: its steps are all ``intake.*`` checks): result ``repaired``;
  4. anything else cannot close: :class:`CaseNotRepaired` (exit 1, the unit is not repaired).

Every write is one transaction, so a killed process leaves a whole repair record or none. Free
texts go through :func:`drivers.codecs.pan.redact` before they are stored. The SQL is plain and
runs on the store's own connection (like :mod:`bench.lots.store`), on SQLite or PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.cases.model import (
    ACTIONS,
    CLOSED,
    OPEN,
    REACTIVATED,
    REPAIRED,
    RETURN_TO_FACTORY,
    RETURNED,
    UNREPAIRED,
    Case,
    Repair,
    label,
)
from bench.errors import BenchError, UsageError
from bench.record import RunRecord, Verdict
from bench.store.rows import utc
from drivers.codecs.pan import redact
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)
_VERDICT_WORDS = {"PASS": N_("PASS"), "FAIL": N_("FAIL"), "ERROR": N_("ERROR"), "INCOMPLETE": N_("INCOMPLETE"),
                  "ABORTED": N_("ABORTED"), "RUNNING": N_("RUNNING")}

#: Verdicts that judged the unit (ERROR: the bench failed; ABORTED, RUNNING: nothing judged).
JUDGED = frozenset({Verdict.PASS.value, Verdict.FAIL.value, Verdict.INCOMPLETE.value})


class CaseNotRepaired(BenchError):
    """The case cannot close as repaired and no ``--unrepaired`` reason was given (exit 1)."""


class RunNotAttached(BenchError):
    """The run is stored but does not belong to the case (another unit, or one that did not identify)."""


class CaseStore:
    """The repair cases of a store (which stays the caller's to close)."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store
        self._db = store.db

    # ----------------------------------------------------------------- writes

    def open_case(self, serial: str, complaint: str, *, model: str | None = None, customer_ref: str | None = None,
                  last_worked: str | None = None, software_update: str | None = None, opened_by: str = "technician",
                  now: datetime | None = None) -> Case:
        """Open a case for the unit ``serial``; the model, when not given, from the unit's newest stored run.

        Raises:
            UsageError: empty serial or complaint, or the serial has an open case already.
        """
        _bounded(complaint=complaint, customer=customer_ref, last_worked=last_worked, software_update=software_update)
        serial, complaint = serial.strip(), redact(complaint.strip())
        if not serial:
            raise UsageError(N_("a case needs the unit's serial number"))
        if not complaint:
            raise UsageError(N_("a case needs the customer's complaint (--complaint TEXT)"))
        db = self._db
        with db.write():
            found = db.query(f"SELECT id FROM cases WHERE serial = :serial AND status = :open {db.row_lock}",
                             {"serial": serial, "open": OPEN})
            if found:
                raise UsageError(N_("unit {serial} already has an open case, {label}: close it before opening another", serial=serial, label=label(int(found[0][0]))))
            if model is None:
                known = db.query(_NEWEST_MODEL, {"serial": serial})
                model = known[0][0] if known else None
            case_id = db.insert(_INSERT_CASE, {
                "serial": serial, "model": _opt(model), "complaint": complaint, "customer_ref": _opt(customer_ref),
                "last_worked": _opt(last_worked), "software_update": _opt(software_update),
                "opened_at": db.time(now or datetime.now(UTC)), "opened_by": _opt(opened_by) or "technician",
                "status": OPEN,
            })
        _LOG.info("case %s opened for unit %s", label(case_id), serial)
        return self.get(case_id)

    def attach_run(self, case_id: int, run_id: str) -> Case:
        """Make the stored run one of the case's runs; the case (its model filled from the unit when unknown).

        A run whose unit has not identified itself (yet, or ever: a unit that does not answer) is
        attached on the technician's word; :meth:`detach_run` takes it back if the unit then
        reports another serial.

        Raises:
            UsageError: no such case, or it is closed.
            RunNotAttached: the run's unit is another unit (nothing written).
        """
        db = self._db
        with db.write():
            case = self._open_case(case_id, lock=True)
            found = db.query(_RUN_UNIT, {"run_id": run_id})
            if not found:
                raise RunNotAttached(N_("no run {run_id} in the store", run_id=run_id))
            serial, model = found[0]
            if serial is not None and serial != case.serial:
                raise RunNotAttached(mismatch(case, serial, run_id))
            db.execute("UPDATE runs SET case_id = :case_id WHERE id = :run_id", {"case_id": case_id, "run_id": run_id})
            if case.model is None and model:
                db.execute("UPDATE cases SET model = :model WHERE id = :id", {"model": model, "id": case_id})
        return self.get(case_id)

    def detach_run(self, run_id: str) -> None:
        """The run belongs to no case (its unit turned out to be another)."""
        with self._db.write():
            self._db.execute("UPDATE runs SET case_id = NULL WHERE id = :run_id", {"run_id": run_id})

    def add_repair(self, case_id: int, action: str, note: str, *, part_number: str | None = None,
                   technician: str = "technician", now: datetime | None = None) -> Repair:
        """Record one thing done to the unit, in one transaction.

        Raises:
            UsageError: unknown action, ``replace`` without a part, an empty note, no such case, a closed case.
        """
        if action not in ACTIONS:
            raise UsageError(N_("unknown repair action {action!r}: one of {known}", action=action, known=', '.join(ACTIONS)))
        _bounded(note=note, part=part_number, technician=technician)
        part_number = _opt(part_number)
        if action == "replace" and part_number is None:
            raise UsageError(N_("--action replace needs --part PN (the part number fitted)"))
        note = redact(note.strip())
        if not note:
            raise UsageError(N_("a repair needs a note saying what was done (--note TEXT)"))
        technician = _opt(technician) or "technician"
        db = self._db
        at = now or datetime.now(UTC)
        with db.write():
            self._open_case(case_id, lock=True)
            repair_id = db.insert(_INSERT_REPAIR, {"case_id": case_id, "at": db.time(at), "technician": technician,
                                                   "action": action, "part_number": part_number, "note": note})
        return Repair(repair_id, case_id, at, technician, action, part_number, note)

    def close(self, case_id: int, unrepaired: str | None = None, *, now: datetime | None = None,
              untested: Sequence[str] = (), checklist_only: bool = False) -> Case:
        """Close the case by the rules of this module's docstring; the closed case.

        Raises:
            UsageError: no such case, it is closed already, one of its runs is still going, or ``unrepaired``
                is empty.
            CaseNotRepaired: not repaired and no reason given (nothing is written).
        """
        _bounded(unrepaired=unrepaired)
        if unrepaired is not None and not unrepaired.strip():
            raise UsageError(N_("--unrepaired needs a reason (why the unit leaves without a repair)"))
        db = self._db
        with db.write():
            case = self._open_case(case_id, lock=True)
            every = db.query(_CASE_VERDICTS, {"case_id": case_id})
            going = [rid for rid, v in every if v == Verdict.RUNNING.value]
            if going:  # its verdict may undo the one the case would close on
                raise UsageError(N_("case {label} has a run still going ({going}): close it once the run has ended (`bench runs open` lists runs left open by a dead process)", label=label(case_id), going=str(going[-1])[:8]))
            verdicts = [(rid, v) for rid, v in every if v in JUDGED]
            repairs = db.query("SELECT action, note FROM case_repairs WHERE case_id = :case_id ORDER BY at, id",
                               {"case_id": case_id})
            result, reason = _closing(case, verdicts, [(a, n) for a, n in repairs], unrepaired, untested,
                                      checklist_only)
            db.execute("UPDATE cases SET status = :closed, closed_at = :at, result = :result, close_reason = :reason "
                       "WHERE id = :id AND status = :open",
                       {"closed": CLOSED, "at": db.time(now or datetime.now(UTC)), "result": result,
                        "reason": redact(reason) if reason else None, "id": case_id, "open": OPEN})
        _LOG.info("case %s closed: %s", label(case_id), result)
        return self.get(case_id)

    # ----------------------------------------------------------------- reads

    def get(self, case_id: int) -> Case:
        """The stored case.

        Raises:
            UsageError: no such case (exit 2).
        """
        with self._db.read():
            found = self._db.query(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = :id", {"id": case_id})
        if not found:
            raise UsageError(N_("no case {label} in the store (bench case list shows the cases)", label=label(case_id)))
        return _case(found[0])

    def list_cases(self, status: str | None = None, serial: str | None = None) -> list[Case]:
        """The cases, oldest first; only open or closed ones (``status``), only one unit's (``serial``)."""
        where, params = [], {}
        if status is not None:
            where.append("status = :status")
            params["status"] = status
        if serial is not None:
            where.append("serial = :serial")
            params["serial"] = serial
        sql = f"SELECT {_CASE_COLUMNS} FROM cases {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id"
        with self._db.read():
            return [_case(r) for r in self._db.query(sql, params)]

    def run_counts(self) -> dict[int, int]:
        """How many runs each case has (cases without runs are absent)."""
        with self._db.read():
            found = self._db.query("SELECT case_id, count(*) FROM runs WHERE case_id IS NOT NULL GROUP BY case_id", {})
        return {int(c): int(n) for c, n in found}

    def run_ids(self, case_id: int) -> list[str]:
        """The ids of the case's runs, oldest first."""
        with self._db.read():
            return [rid for rid, _ in self._db.query(_CASE_VERDICTS, {"case_id": case_id})]

    def runs(self, case_id: int) -> list[RunRecord]:
        """The case's runs as stored (whole records), oldest first."""
        return [self.store.get_run(rid) for rid in self.run_ids(case_id)]

    def repairs(self, case_id: int) -> list[Repair]:
        """What was done to the case's unit, in order."""
        with self._db.read():
            found = self._db.query("SELECT id, case_id, at, technician, action, part_number, note FROM case_repairs "
                                   "WHERE case_id = :case_id ORDER BY at, id", {"case_id": case_id})
        return [Repair(int(i), int(c), utc(at), tech, action, part, note) for i, c, at, tech, action, part, note in found]

    # ----------------------------------------------------------------- internals

    def _open_case(self, case_id: int, *, lock: bool) -> Case:
        """The case, inside the caller's transaction; refused unless it exists and is open."""
        db = self._db
        found = db.query(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = :id {db.row_lock if lock else ''}",
                         {"id": case_id})
        if not found:
            raise UsageError(N_("no case {label} in the store (bench case list shows the cases)", label=label(case_id)))
        case = _case(found[0])
        if not case.is_open:
            raise UsageError(N_("case {label} is closed ({result}); open a new case for unit {serial}", label=case.label, result=case.result, serial=case.serial))
        return case


#: The longest free text a case takes (a complaint, a note, a reason): a paragraph, not a document.
MAX_TEXT = 2000


def _bounded(**texts: str | None) -> None:
    """UsageError naming the first text over :data:`MAX_TEXT` characters."""
    for name, text in texts.items():
        if text is not None and len(text) > MAX_TEXT:
            raise UsageError(N_("--{name} is {count} characters; at most {most}", name=name.replace('_', '-'), count=len(text), most=MAX_TEXT))


def mismatch(case: Case, serial: str, run_id: str) -> str:
    """The one line saying a run's unit is not the case's."""
    return N_("the unit tested is {serial}, not {case_serial}: run {run} is stored but not attached to case {case}",
              serial=serial, case_serial=case.serial, run=run_id[:8], case=case.label)


def check_case_open(store: StoreBase, case_id: int) -> Case:
    """Refuse a run for a case that is unknown or closed (``bench run --case``), before anything runs.

    Raises:
        UsageError: exit 2.
    """
    case = CaseStore(store).get(case_id)
    if not case.is_open:
        raise UsageError(N_("case {label} is closed ({result}); open a new case for unit {serial}", label=case.label, result=case.result, serial=case.serial))
    return case


def _closing(case: Case, verdicts: Sequence[tuple[str, str]], repairs: Sequence[tuple[str, str]],
             unrepaired: str | None, untested: Sequence[str] = (),
             checklist_only: bool = False) -> tuple[str, str | None]:
    """The result and reason a case closes with (the module docstring's rules), or :class:`CaseNotRepaired`."""
    at_factory: str | None = None
    for action, note in repairs:
        if action == RETURN_TO_FACTORY:
            at_factory = note
        elif action == REACTIVATED:
            at_factory = None
    if at_factory is not None:
        return RETURNED, unrepaired.strip() if unrepaired else N_("returned to the factory: {note}", note=at_factory)
    if unrepaired is not None:
        return UNREPAIRED, unrepaired.strip()
    if verdicts and verdicts[-1][1] == Verdict.PASS.value and not untested and not checklist_only:
        return REPAIRED, None
    if not verdicts:
        why = N_("it has no judged run")
    else:
        rid, code = verdicts[-1]
        verdict = _VERDICT_WORDS.get(code, code)  # the English code in the store, the reader's word when shown
        if code == Verdict.PASS.value and checklist_only:
            why = N_("its last run {run} is {verdict} but it was the intake checklist only (nothing tested the unit's "
                     "functions)", run=rid[:8], verdict=verdict)
        elif code == Verdict.PASS.value:
            why = N_("its last run {run} is {verdict} but no run since the failure tested {steps} again", run=rid[:8],
                     verdict=verdict, steps=", ".join(untested))
        else:
            why = N_("its last run {run} is {verdict}", run=rid[:8], verdict=verdict)
    raise CaseNotRepaired(N_("case {case} cannot close as repaired: {why}; test the unit until a run passes (bench run "
                             "PLAN --case {case}), or close it with --unrepaired REASON", case=case.label, why=why))


def _opt(text: str | None) -> str | None:
    """A free text as stored: stripped, masked, ``None`` when empty."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


_CASE_COLUMNS = ("id, serial, model, complaint, customer_ref, last_worked, software_update, opened_at, opened_by, "
                 "status, closed_at, result, close_reason")
_INSERT_CASE = (
    "INSERT INTO cases (serial, model, complaint, customer_ref, last_worked, software_update, opened_at, opened_by, "
    "status) VALUES (:serial, :model, :complaint, :customer_ref, :last_worked, :software_update, :opened_at, "
    ":opened_by, :status)"
)
_INSERT_REPAIR = (
    "INSERT INTO case_repairs (case_id, at, technician, action, part_number, note) "
    "VALUES (:case_id, :at, :technician, :action, :part_number, :note)"
)
_NEWEST_MODEL = (
    "SELECT u.model FROM runs r JOIN units u ON u.id = r.unit_id WHERE u.serial = :serial "
    "ORDER BY r.started_at DESC, r.id DESC LIMIT 1"
)
_RUN_UNIT = "SELECT u.serial, u.model FROM runs r LEFT OUTER JOIN units u ON u.id = r.unit_id WHERE r.id = :run_id"
_CASE_VERDICTS = "SELECT id, verdict FROM runs WHERE case_id = :case_id ORDER BY started_at, id"


def _case(row: Sequence[Any]) -> Case:
    (cid, serial, model, complaint, customer, last_worked, update, opened_at, opened_by, status, closed_at, result,
     reason) = row
    return Case(int(cid), serial, model, complaint, customer, last_worked, update, utc(opened_at), opened_by, status,
                utc(closed_at) if closed_at is not None else None, result, reason)


__all__ = ["JUDGED", "CaseNotRepaired", "CaseStore", "RunNotAttached", "check_case_open", "mismatch"]
