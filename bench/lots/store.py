"""Incoming inspection lots in the store: open a lot, count its sampled units, decide it.

A lot is opened with its sampling plan (:mod:`bench.lots.sampling`); each sampled unit is then
tested with ``bench run PLAN --lot LOT``, so the lot's units are the runs carrying that lot.
Counting, per unit (serial): a unit is *tested* once it has a PASS or FAIL run in the lot,
and *defective* if any of them FAILed (a later passing retest does not hide a defective);
ERROR, INCOMPLETE and ABORTED runs do not count (the unit must be retested). The lot is decided
REJECT as soon as the defectives reach Re, ACCEPT once the whole sample is tested
with fewer; the decision is written the first time it is seen (:meth:`LotStore.evaluate`).

The switching state of a supplier's part is replayed from its decided lots
(:func:`bench.lots.sampling.switching_state`).

The SQL is plain (``:name`` parameters) and runs on the store's own connection
(:attr:`bench.store.base.StoreBase.db`), so a lot works on either store, SQLAlchemy's or the
``sqlite3`` one ``bench run --lot`` gets on a current SQLite file, and SQLite writes take the
write lock like every other write of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.errors import UsageError
from bench.lots import sampling
from bench.record import Verdict
from bench.store.lotplaces import lock_lot
from bench.store.rows import utc
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.base import StoreBase

OPEN, DECIDED = "OPEN", "DECIDED"


@dataclass
class Lot:
    """One lot and its plan, as stored."""

    lot_id: str
    supplier: str
    part: str
    plan: sampling.SamplingPlan
    plan_file: str
    state: str
    decision: str | None
    inspector: str
    opened_at: datetime
    decided_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "lot": self.lot_id,
            "supplier": self.supplier,
            "part": self.part,
            "plan_file": self.plan_file,
            "sampling": self.plan.to_dict(),
            "state": self.state,
            "decision": self.decision,
            "inspector": self.inspector,
            "opened_at": _iso(self.opened_at),
            "decided_at": _iso(self.decided_at),
        }


@dataclass
class UnitResult:
    """One sampled unit's counted result in a lot."""

    serial: str
    model: str | None
    verdict: str  # PASS or FAIL (the counted verdict)
    runs: list[str] = field(default_factory=list)  # run ids, oldest first (counted and not)
    faults: list[str] = field(default_factory=list)
    tested_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"serial": self.serial, "model": self.model, "verdict": self.verdict, "runs": self.runs,
                "faults": self.faults, "tested_at": _iso(self.tested_at)}


@dataclass
class LotStatus:
    """A lot's progress and decision."""

    lot: Lot
    units: list[UnitResult]
    not_counted: int  # ERROR/INCOMPLETE/ABORTED/RUNNING runs of units without a counted result

    @property
    def tested(self) -> int:
        """Units with a counted (PASS/FAIL) result."""
        return len(self.units)

    @property
    def defectives(self) -> int:
        """Units that FAILed."""
        return sum(1 for u in self.units if u.verdict == Verdict.FAIL.value)

    @property
    def remaining(self) -> int:
        """Units still to test for the sample (0 once decided)."""
        if self.lot.decision is not None:
            return 0
        return max(0, self.lot.plan.sample_size - self.tested)

    def defectives_by_fault(self) -> dict[str, int]:
        """Defective units per fault code (a unit counts once per code), most frequent first."""
        counts: dict[str, int] = {}
        for u in self.units:
            if u.verdict == Verdict.FAIL.value:
                for code in u.faults or ["(no fault code)"]:
                    counts[code] = counts.get(code, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        p = self.lot.plan
        return {
            **self.lot.to_dict(),
            "tested": self.tested,
            "defectives": self.defectives,
            "remaining": self.remaining,
            "not_counted_runs": self.not_counted,
            "in_gap": self.lot.decision == "ACCEPT" and p.ac < self.defectives < p.re,
            "defectives_by_fault": self.defectives_by_fault(),
            "units": [u.to_dict() for u in self.units],
        }


class LotStore:
    """The lots of a store (which stays the caller's to close)."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store
        self._db = store.db

    def open_lot(
        self,
        lot_id: str,
        supplier: str,
        part: str,
        plan: sampling.SamplingPlan,
        plan_file: str,
        inspector: str,
        *,
        now: datetime | None = None,
    ) -> Lot:
        """Write a new OPEN lot.

        Raises:
            UsageError: a lot with this id exists, or runs already carry it.
        """
        if not lot_id.strip():
            raise UsageError(N_("a lot needs a non-empty lot number"))
        opened = now or datetime.now(UTC)
        db = self._db
        with db.write():
            if db.query("SELECT id FROM lots WHERE id = :id", {"id": lot_id}):
                raise UsageError(N_("lot {lot_id!r} already exists (bench inspect status {lot_id})", lot_id=lot_id))
            db.execute(_INSERT_LOT, dict(
                id=lot_id, supplier=supplier, part=part, lot_size=plan.lot_size, aql=plan.aql, level=plan.level,
                severity=plan.severity.value, plan_file=plan_file, code_letter=plan.letter,
                sample_size=plan.sample_size, ac=plan.ac, re=plan.re, state=OPEN, decision=None,
                inspector=inspector, opened_at=db.time(opened), decided_at=None,
            ))
        return self.get(lot_id)

    def get(self, lot_id: str) -> Lot:
        """The stored lot.

        Raises:
            UsageError: no such lot.
        """
        with self._db.read():
            return self._get(lot_id)

    def _get(self, lot_id: str) -> Lot:
        """:meth:`get` inside the caller's transaction."""
        found = self._db.query(f"SELECT {_LOT_COLUMNS} FROM lots WHERE id = :id", {"id": lot_id})
        if not found:
            raise UsageError(N_("no lot {lot_id!r} in the store; open it with: bench inspect start --lot {lot_id} ...", lot_id=lot_id))
        return _lot(found[0])

    def lots_of(self, supplier: str, part: str) -> list[Lot]:
        """A supplier's lots of a part, oldest first."""
        with self._db.read():
            found = self._db.query(f"SELECT {_LOT_COLUMNS} FROM lots WHERE supplier = :supplier AND part = :part "
                                   "ORDER BY opened_at, id", {"supplier": supplier, "part": part})
        return [_lot(r) for r in found]

    def results(self, supplier: str, part: str) -> list[sampling.LotResult]:
        """The decided lots of a supplier's part as the switching rules see them, oldest decision first."""
        out: list[tuple[datetime, sampling.LotResult]] = []
        for lot in self.lots_of(supplier, part):
            if lot.decision is None or lot.decided_at is None:
                continue
            d = self.status(lot.lot_id, decide=False).defectives
            out.append((lot.decided_at, sampling.LotResult(
                severity=lot.plan.severity, accepted=lot.decision == sampling.Decision.ACCEPT.value,
                defectives=d, ac=lot.plan.ac, letter=lot.plan.letter, aql=lot.plan.aql,
                in_gap=lot.plan.ac < d < lot.plan.re,
            )))
        out.sort(key=lambda t: t[0])
        return [r for _, r in out]

    def switching(self, supplier: str, part: str, *, resume: bool = False) -> sampling.SwitchingState:
        """The switching state of a supplier's part."""
        return sampling.switching_state(self.results(supplier, part), resume=resume)

    def status(self, lot_id: str, *, decide: bool = True, now: datetime | None = None) -> LotStatus:
        """The lot's units and progress; with ``decide``, write the decision once it is reached.

        The decision is taken under the lot's row lock (``FOR UPDATE``; SQLite's write lock), on
        the units counted in that transaction: benches finishing the last units at once write one
        decision, and every one of them reports that one.
        """
        db = self._db
        with db.read():
            status = self._count(self._get(lot_id))
        lot = status.lot
        if decide and lot.decision is None and sampling.decide(lot.plan, status.tested, status.defectives):
            with db.write():
                lock_lot(db, lot_id)
                status = self._count(self._get(lot_id))
                lot = status.lot
                verdict = sampling.decide(lot.plan, status.tested, status.defectives)
                if lot.decision is None and verdict is not None:
                    when = now or datetime.now(UTC)
                    db.execute("UPDATE lots SET state = :state, decision = :decision, decided_at = :at "
                               "WHERE id = :id AND decision IS NULL",
                               {"state": DECIDED, "decision": verdict.value, "at": db.time(when), "id": lot_id})
                    lot.state, lot.decision, lot.decided_at = DECIDED, verdict.value, when
        return status

    def _count(self, lot: Lot) -> LotStatus:
        """The lot's units as the runs carrying it say (inside the caller's transaction)."""
        db, lot_param = self._db, {"lot": lot.lot_id}
        rows = db.query(_LOT_RUNS, lot_param)
        fault_rows = db.query(_LOT_STEP_FAULTS, lot_param)
        finding_rows = db.query(_LOT_FINDING_FAULTS, lot_param)
        run_faults: dict[str, list[str]] = {}
        for rid, code in [*fault_rows, *finding_rows]:
            codes = run_faults.setdefault(rid, [])
            if code not in codes:
                codes.append(code)
        by_unit: dict[str, UnitResult] = {}
        pending: dict[str, int] = {}
        for rid, verdict, ended, started, serial, model in rows:
            key = serial if serial is not None else N_("(unidentified run {run})", run=rid[:8])
            counted = verdict in (Verdict.PASS.value, Verdict.FAIL.value)
            u = by_unit.get(key)
            if not counted:
                if u is None:
                    pending[key] = pending.get(key, 0) + 1
                else:
                    u.runs.append(rid)
                continue
            pending.pop(key, None)
            tested_at = utc(ended if ended is not None else started)
            if u is None:
                u = by_unit[key] = UnitResult(serial=key, model=model, verdict=verdict, tested_at=tested_at)
            u.runs.append(rid)
            if verdict == Verdict.FAIL.value:
                if u.verdict != Verdict.FAIL.value:
                    u.verdict, u.tested_at = Verdict.FAIL.value, tested_at
                for code in run_faults.get(rid, []):
                    if code not in u.faults:
                        u.faults.append(code)
        return LotStatus(lot, list(by_unit.values()), sum(pending.values()))


def check_lot_open(store: StoreBase, lot: str) -> None:
    """Refuse a run for a lot that is unknown or already decided (``bench run --lot``).

    Decides the lot first if its sample is complete, so a run after the last sampled unit
    is refused too.

    Raises:
        UsageError: no such lot, or it is decided (exit 2).
    """
    status = LotStore(store).status(lot)
    d = status.lot
    if d.decision is not None:
        raise UsageError(
            N_("lot {lot} is already decided: {decision} ({defectives} defective(s) in {tested} unit(s) tested, Ac {ac}, Re {re}); no more units are tested for it", lot=lot, decision=sampling.Decision(d.decision).text, defectives=status.defectives, tested=status.tested, ac=d.plan.ac, re=d.plan.re)
        )


_LOT_COLUMNS = ("id, supplier, part, lot_size, aql, level, severity, plan_file, code_letter, sample_size, ac, re, "
                "state, decision, inspector, opened_at, decided_at")
_INSERT_LOT = (
    f"INSERT INTO lots ({_LOT_COLUMNS}) VALUES (:id, :supplier, :part, :lot_size, :aql, :level, :severity, "
    ":plan_file, :code_letter, :sample_size, :ac, :re, :state, :decision, :inspector, :opened_at, :decided_at)"
)
_LOT_RUNS = (
    "SELECT r.id, r.verdict, r.ended_at, r.started_at, u.serial, u.model FROM runs r "
    "LEFT OUTER JOIN units u ON u.id = r.unit_id WHERE r.lot = :lot ORDER BY r.started_at, r.id"
)
_LOT_STEP_FAULTS = (
    "SELECT s.run_id, s.fault FROM steps s JOIN runs r ON r.id = s.run_id AND r.lot = :lot "
    "WHERE s.fault IS NOT NULL ORDER BY s.run_id, s.idx"
)
_LOT_FINDING_FAULTS = (
    "SELECT f.run_id, f.fault FROM findings f JOIN runs r ON r.id = f.run_id AND r.lot = :lot "
    "ORDER BY f.run_id, f.seq"
)


def _lot(row: Sequence[Any]) -> Lot:
    (lot_id, supplier, part, lot_size, aql, level, severity, plan_file, code_letter, n, ac, re, state, decision,
     inspector, opened_at, decided_at) = row
    table_letter = sampling.code_letter(lot_size, level)
    p = sampling.SamplingPlan(lot_size, aql, level, sampling.Severity(severity), table_letter, code_letter, n,
                              ac, re, n >= lot_size)
    return Lot(lot_id, supplier, part, p, plan_file, state, decision, inspector, utc(opened_at),
               utc(decided_at) if decided_at is not None else None)


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None


__all__ = ["DECIDED", "OPEN", "Lot", "LotStatus", "LotStore", "UnitResult", "check_lot_open"]
