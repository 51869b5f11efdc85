"""The combined judgement of a case: every run's evidence weighed together.

From the case's runs (intake included) come findings: one per fault code, with the runs
it was seen in, where (steps, decoded event-log entries) and whose fault it is. Each finding
has a kind (its fault's category: hardware, software, consumable, configuration; bench and
operator faults are told apart from the unit's, as :mod:`bench.diagnosis` does) and a
severity from 1 (most severe) to 4:

1. security: tamper, broken seals, secure element, firmware signature;
2. hardware fault;
3. software fault;
4. consumable or configuration, and every fault not in the unit (bench, operator).

Findings rank by severity, then kind (consumable before configuration), then by how many
runs showed them (a fault seen again ranks higher), then by when they were first seen. A
finding seen in a failing run is *resolved* when a later run ran the same step (same name
and check) and it passed, or, for a fault of the run itself, when a later run passed.
The case's verdict is made of the unresolved findings in the unit: ``hardware``,
``software``, ``both``, ``consumable``, ``configuration``; ``bench`` when only the bench
failed; ``none`` when nothing is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bench.cases.evidence import CaseEvidence, Observation, observations
from bench.faults import Category, lookup
from bench.record import Outcome, RunRecord, Verdict
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

VERDICTS = ("hardware", "software", "both", "consumable", "configuration", "none", "bench")
SEVERITY_LABELS = {1: N_("security"), 2: N_("hardware fault"), 3: N_("software fault"), 4: N_("minor")}
#: A case's verdict as a person reads it at the head of the judgement line (the verdict itself stays a code).
VERDICT_LABELS = {"hardware": N_("hardware"), "software": N_("software"), "both": N_("both"),
                  "consumable": N_("consumable"), "configuration": N_("configuration"), "bench": N_("bench"),
                  "none": N_("none")}
#: Faults that put the unit's security in doubt, whatever their category.
SECURITY_FAULTS = frozenset({"SEC-TAMPER", "SEC-SEALS", "UNIT-POST-SE", "FW-SIGNATURE"})
#: Faults that send the unit back to the factory: nothing on the bench can repair them.
FACTORY_FAULTS = frozenset({"SEC-TAMPER", "UNIT-POST-SE"})
_KIND_ORDER = {c.value: i for i, c in enumerate((Category.HARDWARE, Category.SOFTWARE, Category.CONSUMABLE,
                                                  Category.CONFIGURATION, Category.BENCH, Category.OPERATOR))}


@dataclass
class JudgedFinding:
    """One fault over the whole case."""

    fault: str
    title: str
    kind: str
    part: str
    action: str
    severity: int
    in_unit: bool
    runs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    log_codes: list[str] = field(default_factory=list)
    resolved: bool = False
    resolved_by: str | None = None
    #: (step name, check) pairs where the fault was seen; empty for a fault of a run itself.
    where: list[tuple[str, str]] = field(default_factory=list)

    @property
    def security(self) -> bool:
        """True when the fault puts the unit's security in doubt."""
        return self.fault in SECURITY_FAULTS

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and reports."""
        d = dict(self.__dict__)
        d["where"] = [list(w) for w in self.where]
        d["severity_label"] = SEVERITY_LABELS[self.severity]
        return d


@dataclass
class Judgement:
    """The case's judgement: ranked findings and a verdict."""

    verdict: str
    findings: list[JudgedFinding]
    serial: str = ""
    model: str = ""
    runs: list[str] = field(default_factory=list)
    summary: str = ""
    complaint: str = ""

    @property
    def open(self) -> list[JudgedFinding]:
        """Unresolved findings in the unit, ranked: what the repair plan is for."""
        return [f for f in self.findings if f.in_unit and not f.resolved]

    @property
    def factory(self) -> list[JudgedFinding]:
        """Open findings that send the unit back to the factory (tamper, secure element)."""
        return [f for f in self.open if f.fault in FACTORY_FAULTS]

    def finding(self, fault: str) -> JudgedFinding | None:
        """The finding of ``fault``, or None."""
        return next((f for f in self.findings if f.fault == fault), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and reports."""
        return {"verdict": self.verdict, "summary": self.summary, "serial": self.serial, "model": self.model,
                "complaint": self.complaint, "runs": list(self.runs),
                "findings": [f.to_dict() for f in self.findings]}


def judge(evidence: CaseEvidence) -> Judgement:
    """Weigh every run of a case together into ranked findings and a verdict."""
    runs = evidence.ordered()
    by_fault: dict[str, JudgedFinding] = {}
    first_seen: dict[str, int] = {}
    last_seen: dict[str, int] = {}
    for i, run in enumerate(runs):
        for obs in observations(run):
            f = by_fault.get(obs.fault)
            if f is None:
                f = by_fault[obs.fault] = new_finding(obs.fault)
                first_seen[obs.fault] = len(first_seen)
            _add(f, obs)
            last_seen[obs.fault] = i
    for code, f in by_fault.items():
        later = runs[last_seen[code] + 1:]
        resolver = next((r for r in later if _passes_for(r, f)), None)
        if resolver is not None:
            f.resolved, f.resolved_by = True, resolver.run_id
    findings = sorted(by_fault.values(), key=lambda f: (
        f.resolved, not f.in_unit, f.severity, _KIND_ORDER.get(f.kind, 9), -len(f.runs), first_seen[f.fault]))
    serial, model = evidence.unit()
    verdict = _verdict(findings)
    summary = _summary(verdict, findings, runs)
    if verdict == "none" and runs and evidence.complaint and not any(f.in_unit for f in findings):
        # A fault found and since repaired did reproduce it.
        summary = N_("{summary}; the complaint was not reproduced: {complaint}", summary=summary,
                     complaint=evidence.complaint)
    return Judgement(verdict, findings, serial, model, [r.run_id for r in runs], summary, evidence.complaint)


def severity_of(fault: str) -> int:
    """1 security, 2 hardware, 3 software, 4 consumable, configuration or not the unit's fault."""
    f = lookup(fault)
    if not f.in_unit:
        return 4
    if fault in SECURITY_FAULTS:
        return 1
    return {Category.HARDWARE: 2, Category.SOFTWARE: 3}.get(f.category, 4)


def new_finding(code: str) -> JudgedFinding:
    """A finding of ``code`` from the fault table, seen nowhere yet."""
    f = lookup(code)
    return JudgedFinding(code, f.title, f.category.value, f.part, f.action, severity_of(code), f.in_unit)


def _add(f: JudgedFinding, obs: Observation) -> None:
    if obs.run_id not in f.runs:
        f.runs.append(obs.run_id)
    if obs.source and obs.source not in f.sources:
        f.sources.append(obs.source)
    if obs.log_code is not None:
        code = f"E{obs.log_code:04X}"
        if code not in f.log_codes:
            f.log_codes.append(code)
    if obs.step is not None and obs.check is not None and (obs.step, obs.check) not in f.where:
        f.where.append((obs.step, obs.check))


def _passes_for(run: RunRecord, f: JudgedFinding) -> bool:
    """True when ``run`` (later than every run that showed ``f``) tested what showed it, and it passed."""
    if not f.where:
        return run.verdict == Verdict.PASS
    retested = [s for s in run.steps if (s.name, s.check) in f.where]
    return bool(retested) and all(s.outcome == Outcome.PASS for s in retested)


def _verdict(findings: list[JudgedFinding]) -> str:
    open_kinds = {f.kind for f in findings if f.in_unit and not f.resolved}
    hardware, software = Category.HARDWARE.value in open_kinds, Category.SOFTWARE.value in open_kinds
    if hardware and software:
        return "both"
    for kind in (Category.HARDWARE, Category.SOFTWARE, Category.CONSUMABLE, Category.CONFIGURATION):
        if kind.value in open_kinds:
            return kind.value
    if any(f.kind == Category.BENCH.value and not f.resolved for f in findings):
        return "bench"
    return "none"


def _summary(verdict: str, findings: list[JudgedFinding], runs: list[RunRecord]) -> str:
    """One line for the top of a case: the verdict and its first finding."""
    label = VERDICT_LABELS.get(verdict, verdict)
    if not runs:
        return N_("{verdict}: no runs yet", verdict=label)
    open_unit = [f for f in findings if f.in_unit and not f.resolved]
    if verdict == "none":
        untested = [f for f in findings if f.kind == Category.OPERATOR.value and not f.resolved]
        fixed = sum(f.resolved and f.in_unit for f in findings)
        words = N_("no fault left in the unit over {runs} run(s)", runs=len(runs))
        if fixed:
            words = N_("{words} ({fixed} resolved)", words=words, fixed=fixed)
        if untested:
            words = N_("{words}; not all tested: {title}", words=words, title=untested[0].title)
        return N_("{verdict}: {words}", verdict=label, words=words)
    if verdict == "bench":
        first = next(f for f in findings if f.kind == Category.BENCH.value and not f.resolved)
        return N_("{verdict}: {title} ({part}); the unit is not at fault so far", verdict=label, title=first.title,
                  part=first.part)
    first = open_unit[0]
    line = N_("{verdict}: {title} -> {part}", verdict=label, title=first.title, part=first.part)
    return N_("{line} (+{more} more)", line=line, more=len(open_unit) - 1) if len(open_unit) > 1 else line
