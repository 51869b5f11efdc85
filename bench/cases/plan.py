"""The repair plan of a case: which actions, in which order, with which parts, for how long and how much.

:func:`plan_repair` takes the judgement's open findings (unresolved, in the unit) and the
parts catalogue, and orders the work the way the repair guides do:

1. consumables first (load paper, charge or replace the battery): cheap, and they hide other faults;
2. reseat before anything else, then clean (a card reader is cleaned before it is replaced),
   then adjust the configuration;
3. software (update, then reflash) before hardware, where the evidence allows: a finding whose
   catalogue entries include a software action gets it before any part is replaced; but a unit
   the bench cannot talk to (no answer, garbage on the link) cannot be updated, so the link's
   repair comes first, replacements included;
4. diagnosis of a part the evidence does not name yet, then the replacements.

Each finding gets every labour action the catalogue lists for it and the one part that fits
the model (the part naming the fault first, then the cheapest); an action that follows a
cheaper one for the same finding is *conditional*: done only when the fault persists. A unit
with a tamper or secure-element fault is not opened on the bench: its plan is the return to
the factory, with the form's data (no card data: only fault codes, titles, steps and run ids).
Pure functions: nothing here reads a file or a clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bench.cases.catalogue import Catalogue, LabourAction, Part
from bench.cases.judgement import FACTORY_FAULTS, JudgedFinding, Judgement
from bench.faults import Category
from drivers.i18n import N_, join_texts

_LOG = logging.getLogger(__name__)

#: Faults that keep the bench from talking to the unit (and so from updating its software).
LINK_FAULTS = frozenset({"LINK-NO-RESPONSE", "LINK-GARBAGE", "LINK-NAK-STORM"})
#: Order of the kinds of work within a stage (consumables, the link, then everything else).
KIND_ORDER = ("reseat", "clean", "adjust", "update", "reflash", "other", "replace", "return-to-factory")


@dataclass(frozen=True)
class PlannedAction:
    """One step of the repair: what to do, with which part, for which faults, and at what cost."""

    order: int
    kind: str
    what: str
    faults: tuple[str, ...]
    minutes: int
    part_number: str | None = None
    price: float = 0.0
    conditional: bool = False
    action_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        d = dict(self.__dict__)
        d["faults"] = list(self.faults)
        return d


@dataclass(frozen=True)
class PartLine:
    """A part the plan may use."""

    number: str
    name: str
    price: float
    conditional: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReturnForm:
    """The return-to-factory form: unit, reason, and the evidence behind it (no card data)."""

    model: str
    serial: str
    reason: str
    faults: tuple[str, ...]
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"model": self.model, "serial": self.serial, "reason": self.reason, "faults": list(self.faults),
                "evidence": list(self.evidence)}


@dataclass(frozen=True)
class RepairPlan:
    """The plan: ordered actions, parts, labour and cost (upper bound, and the first pass alone)."""

    model: str
    currency: str
    actions: tuple[PlannedAction, ...]
    parts: tuple[PartLine, ...]
    labour_minutes: int
    parts_cost: float
    labour_cost: float
    total_cost: float
    first_pass_minutes: int
    first_pass_cost: float
    return_to_factory: ReturnForm | None = None
    #: Open faults the catalogue has nothing for on this model (a technician decides).
    unplanned: tuple[str, ...] = ()
    #: Open faults left for after the factory (the unit is not opened on the bench meanwhile).
    deferred: tuple[str, ...] = field(default=())

    @property
    def first(self) -> PlannedAction | None:
        """The first action, or None when there is nothing to do."""
        return self.actions[0] if self.actions else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and reports."""
        return {
            "model": self.model, "currency": self.currency,
            "actions": [a.to_dict() for a in self.actions], "parts": [p.to_dict() for p in self.parts],
            "labour_minutes": self.labour_minutes, "parts_cost": self.parts_cost, "labour_cost": self.labour_cost,
            "total_cost": self.total_cost, "first_pass_minutes": self.first_pass_minutes,
            "first_pass_cost": self.first_pass_cost,
            "return_to_factory": self.return_to_factory.to_dict() if self.return_to_factory else None,
            "unplanned": list(self.unplanned), "deferred": list(self.deferred),
        }


@dataclass
class _Draft:
    kind: str
    what: str
    minutes: int
    faults: list[str]
    stage: int
    rank: int
    part: Part | None = None
    action_id: str | None = None


def plan_repair(judgement: Judgement, model: str, catalogue: Catalogue) -> RepairPlan:
    """The repair plan for ``judgement``'s open findings on a unit of ``model``."""
    findings = judgement.open
    factory = [f for f in findings if f.fault in FACTORY_FAULTS]
    if factory:
        return _factory_plan(judgement, model, catalogue, factory)
    drafts: dict[str, _Draft] = {}
    unplanned: list[str] = []
    for rank, f in enumerate(findings):
        labour = catalogue.actions_for(f.fault, f.part, model)
        parts = catalogue.parts_for(f.fault, f.part, model)
        if not labour and not parts:
            unplanned.append(f.fault)
            continue
        stage = _stage(f)
        for a in labour:
            _merge(drafts, a.id, f, rank, lambda a=a, stage=stage, rank=rank: _labour(a, stage, rank))
        if parts:
            part = parts[0]
            _merge(drafts, part.number, f, rank, lambda part=part, stage=stage, rank=rank: _Draft(
                "replace", N_("replace the {part}", part=part.name), part.labour_minutes, [], stage, rank, part))
    ordered = sorted(drafts.values(), key=lambda d: (d.stage, KIND_ORDER.index(d.kind), d.rank))
    actions = _number(ordered)
    return _priced(model, catalogue, actions, unplanned=tuple(unplanned))


def _labour(a: LabourAction, stage: int, rank: int) -> _Draft:
    return _Draft(a.kind, a.name, a.minutes, [], stage, rank, action_id=a.id)


def _merge(drafts: dict[str, _Draft], key: str, f: JudgedFinding, rank: int, make: Any) -> None:
    """One action serves every finding it repairs; it keeps the earliest stage and best rank."""
    d = drafts.get(key)
    if d is None:
        d = drafts[key] = make()
    if f.fault not in d.faults:
        d.faults.append(f.fault)
    d.rank = min(d.rank, rank)
    d.stage = min(d.stage, _stage(f))


def _stage(f: JudgedFinding) -> int:
    """0 consumables, 1 the link to the unit, 2 everything else."""
    if f.kind == Category.CONSUMABLE.value:
        return 0
    return 1 if f.fault in LINK_FAULTS else 2


def _number(ordered: list[_Draft]) -> list[PlannedAction]:
    """Number the actions; an action is conditional when an earlier one already works on all its faults."""
    covered: set[str] = set()
    out: list[PlannedAction] = []
    for i, d in enumerate(ordered, 1):
        conditional = all(code in covered for code in d.faults)
        covered.update(d.faults)
        out.append(PlannedAction(
            order=i, kind=d.kind, what=d.what, faults=tuple(d.faults), minutes=d.minutes,
            part_number=d.part.number if d.part else None, price=d.part.price if d.part else 0.0,
            conditional=conditional, action_id=d.action_id))
    return out


def _priced(model: str, catalogue: Catalogue, actions: list[PlannedAction], *, unplanned: tuple[str, ...] = (),
            form: ReturnForm | None = None, deferred: tuple[str, ...] = ()) -> RepairPlan:
    parts: list[PartLine] = []
    for a in actions:
        if a.part_number is not None:
            part = catalogue.part(a.part_number)
            parts.append(PartLine(a.part_number, part.name if part else a.what, a.price, a.conditional))
    minutes = sum(a.minutes for a in actions)
    first_minutes = sum(a.minutes for a in actions if not a.conditional)
    parts_cost = round(sum(p.price for p in parts), 2)
    first_parts = sum(p.price for p in parts if not p.conditional)
    labour_cost = round(minutes * catalogue.labour_rate / 60.0, 2)
    return RepairPlan(
        model=model, currency=catalogue.currency, actions=tuple(actions), parts=tuple(parts),
        labour_minutes=minutes, parts_cost=parts_cost, labour_cost=labour_cost,
        total_cost=round(parts_cost + labour_cost, 2), first_pass_minutes=first_minutes,
        first_pass_cost=round(first_parts + first_minutes * catalogue.labour_rate / 60.0, 2),
        return_to_factory=form, unplanned=unplanned, deferred=deferred)


def _factory_plan(judgement: Judgement, model: str, catalogue: Catalogue,
                  factory: list[JudgedFinding]) -> RepairPlan:
    """Tamper or secure element: no work on the bench, the return to the factory and its form."""
    rtf = next((a for a in catalogue.actions if a.kind == "return-to-factory" and a.fits(model)), None)
    codes = tuple(f.fault for f in factory)
    action = PlannedAction(
        order=1, kind="return-to-factory", what=rtf.name if rtf else N_("return to factory for reactivation"),
        faults=codes, minutes=rtf.minutes if rtf else 0, action_id=rtf.id if rtf else None)
    reasons = [N_("{title} ({fault})", title=f.title, fault=f.fault) for f in factory]
    reason = join_texts(reasons, separator=";")
    evidence: list[str] = []
    for f in judgement.open:
        evidence.append(N_("{fault} {title} [{kind}, {where}] seen in {count} run(s): {runs}", fault=f.fault,
                           title=f.title, kind=f.kind, where=", ".join(f.sources) or "run", count=len(f.runs),
                           runs=", ".join(f.runs)))
    form = ReturnForm(model=model or judgement.model, serial=judgement.serial, reason=reason, faults=codes,
                      evidence=tuple(evidence))
    deferred = tuple(f.fault for f in judgement.open if f.fault not in FACTORY_FAULTS)
    return _priced(model, catalogue, [action], form=form, deferred=deferred)
