"""From failed steps to findings: what is broken, whose fault it is, and what to do.

Each failed step contributes the fault codes of its failed measurements (or the
step's own fault). Findings are grouped by fault code, unit faults before bench
faults, in the order the plan met them (the plan follows the repair workflow, so the
first fault is the most basic one). Steps skipped because a prerequisite failed are
listed as consequences of that finding, not as faults of their own. A step the operator
declined is SKIP with fault OP-SKIPPED: a finding of its own (the steps that needed it are
its consequences), and the run is INCOMPLETE unless a fault was found. A tampered unit
is a special case: everything else is moot until the factory reactivates it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bench.faults import Category, lookup
from bench.record import Finding, Outcome, StepRecord, Verdict
from drivers.i18n import N_, Text

RETURN_TO_FACTORY = N_("return to factory for reactivation")
#: The fault code of a step the operator declined (SKIP): the run cannot pass without it.
OPERATOR_SKIPPED = "OP-SKIPPED"


def step_faults(step: StepRecord) -> list[str]:
    """The fault codes a step shows, most specific first, without repeats."""
    codes: list[str] = []
    for m in step.measurements:
        if not m.passed and m.fault and m.fault not in codes:
            codes.append(m.fault)
    if step.fault and step.fault not in codes:
        codes.append(step.fault)
    return codes


def diagnose(
    steps: Iterable[StepRecord],
    skipped_because: Mapping[str, str] | None = None,
    actions: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Combine the failed steps of a run into findings, most likely first.

    Args:
        steps: the run's steps in order.
        skipped_because: skipped step name -> the step whose failure caused the skip.
        actions: repair actions the plan overrides, by fault code.
    """
    actions = actions or {}
    skipped_because = skipped_because or {}
    by_code: dict[str, Finding] = {}
    # Each finding's steps and consequences, as sets beside the ordered lists, so a fault that
    # many steps show costs one lookup per step rather than a scan of the list so far.
    listed: dict[str, set[str]] = {}
    origin_of_step: dict[str, str] = {}
    for step in steps:
        if step.outcome not in (Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT) and not not_run(step):
            continue
        for code in step_faults(step) or [_default_code(step)]:
            finding = by_code.get(code)
            if finding is None:
                finding = by_code[code] = finding_for(code, actions)
                listed[code] = set()
            if step.name not in listed[code]:
                listed[code].add(step.name)
                finding.steps.append(step.name)
            origin_of_step.setdefault(step.name, code)
    consequences: dict[str, set[str]] = {code: set() for code in by_code}
    roots: dict[str, str] = {}
    for skipped, cause in skipped_because.items():
        origin = origin_of_step.get(_root(cause, skipped_because, roots))
        if origin is not None and skipped not in consequences[origin]:
            consequences[origin].add(skipped)
            by_code[origin].consequences.append(skipped)
    findings = list(by_code.values())
    tamper = by_code.get("SEC-TAMPER")
    if tamper is not None:
        # A tampered unit has erased its keys: nothing else it does can be trusted or repaired
        # on the bench. Every other failure is a consequence, and the verdict is the factory.
        seen = consequences["SEC-TAMPER"]
        for f in findings:
            if f is not tamper:
                for s in f.steps + f.consequences:
                    if s not in seen:
                        seen.add(s)
                        tamper.consequences.append(s)
        return [tamper]
    findings.sort(key=lambda f: (not f.in_unit, f.category == Category.OPERATOR.value,
                                 f.category == Category.CONSUMABLE.value))
    return findings


#: How a step skipped for want of an instrument (``OPTIONAL_ROLES``) begins its message, and its fault: the
#: rest of the plan runs, but the unit was not tested for what the instrument measures (the run is INCOMPLETE).
NO_INSTRUMENT = "this station has no"
NO_INSTRUMENT_FAULT = "BENCH-NO-INSTRUMENT"


def finding_for(code: str, actions: Mapping[str, str] | None = None) -> Finding:
    """A finding for fault ``code`` from the fault table (the plan may override the action)."""
    f = lookup(code)
    action = (actions or {}).get(code, f.action)
    # The category's label is its value in English (the store's and JSON's key) and translates when shown.
    return Finding(fault=code, title=f.title, category=f.category.label, part=f.part, action=action, in_unit=f.in_unit)


def not_run(step: StepRecord) -> bool:
    """A step skipped for a reason of its own (it carries a fault code, e.g. OP-SKIPPED).

    Not a step skipped because a prerequisite failed (that failure is the finding) or because
    it is not for the unit's model (it does not apply): those carry no fault code.
    """
    return step.outcome == Outcome.SKIP and step.fault is not None


def verdict_of(steps: Iterable[StepRecord]) -> Verdict:
    """FAIL (a unit fault was found), ERROR (the bench failed), INCOMPLETE (steps not run), else PASS.

    PASS only when every step ran and passed, or does not apply to the unit's model.
    """
    outcomes: set[Outcome] = set()
    skipped = False
    for s in steps:
        outcomes.add(s.outcome)
        skipped = skipped or not_run(s)
    if Outcome.FAIL in outcomes or Outcome.TIMEOUT in outcomes:
        return Verdict.FAIL
    if Outcome.ERROR in outcomes:
        return Verdict.ERROR
    if skipped:
        return Verdict.INCOMPLETE
    return Verdict.PASS


def summarize(verdict: Verdict, findings: list[Finding], steps: Iterable[StepRecord] = ()) -> Text:
    """One line for the top of every report (``steps``: the run's, to name the ones that did not apply).

    A :class:`~drivers.i18n.Text`: English as a ``str`` (JSON, the store), translated when shown.
    """
    if verdict == Verdict.PASS:
        # In a PASS run a skipped step is one that does not apply to the unit's model (or needs one that does not).
        na = sum(s.outcome == Outcome.SKIP for s in steps)
        return N_("all steps passed ({na} not for this model)", na=na) if na else N_("all steps passed")
    if findings and findings[0].fault == "SEC-TAMPER":
        return N_("tamper detected: {action}", action=RETURN_TO_FACTORY)
    skipped = next((f for f in findings if f.fault == OPERATOR_SKIPPED), None)
    if verdict == Verdict.INCOMPLETE and skipped is not None:
        if skipped.consequences:
            return N_("not signed off: the operator skipped {steps} (so {consequences} did not run) -> test again "
                      "with every step", steps=", ".join(skipped.steps), consequences=", ".join(skipped.consequences))
        return N_("not signed off: the operator skipped {steps} -> test again with every step",
                  steps=", ".join(skipped.steps))
    if not findings:
        return _VERDICT_WORDS[verdict]
    first = findings[0]
    title, action = first.title, first.action
    if len(findings) > 1:
        more = len(findings) - 1
        if first.in_unit:
            return N_("unit: {title} -> {action} (+{more} more)", title=title, action=action, more=more)
        return N_("bench: {title} -> {action} (+{more} more)", title=title, action=action, more=more)
    if first.in_unit:
        return N_("unit: {title} -> {action}", title=title, action=action)
    return N_("bench: {title} -> {action}", title=title, action=action)


#: The one-word summary of a run that ended without a finding.
_VERDICT_WORDS: dict[Verdict, Text] = {
    Verdict.FAIL: N_("fail"),
    Verdict.ERROR: N_("error"),
    Verdict.INCOMPLETE: N_("incomplete"),
    Verdict.ABORTED: N_("aborted"),
    Verdict.RUNNING: N_("running"),
}


def _default_code(step: StepRecord) -> str:
    if step.outcome == Outcome.TIMEOUT:
        return "STEP-TIMEOUT"
    if step.outcome == Outcome.ERROR:
        return "BENCH-ERROR"
    return "UNIT-FAULT"


def _root(name: str, skipped_because: Mapping[str, str], roots: dict[str, str]) -> str:
    """The failed step at the end of ``name``'s chain of skips; ``roots`` remembers every chain walked."""
    path: list[str] = []
    on_path: set[str] = set()
    while name in skipped_because and name not in on_path and name not in roots:
        path.append(name)
        on_path.add(name)
        name = skipped_because[name]
    if name in on_path:  # a cycle (a plan cannot make one): where it closes, as without memory
        return name
    root = roots.get(name, name)
    for walked in path:
        roots[walked] = root
    return root
