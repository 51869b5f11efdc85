"""Repair figures over a store's cases: what ``bench stats`` shows under its run figures.

* cases opened and closed, closed ones by result;
* cases by complaint (the complaint's words, case and spacing folded), the most common first;
* cases by root cause: the first finding of the case's first failing run (the fault the bench named
  before any repair), the most common first; a closed case with no failing run counts as "not
  reproduced", an open one as "no failure yet (open)" (it may not have been tested yet);
* repeat repairs: units with a case opened within 90 days of the close of an earlier one;
* mean time to repair: from opening to closing, over closed cases.

Everything is counted in SQL per case (no run record is loaded), so it stays quick on a large store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.store.rows import utc
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.base import StoreBase

REPEAT_WINDOW = timedelta(days=90)
NOT_REPRODUCED = N_("not reproduced")
NOT_YET = N_("no failure yet (open)")
TOP = 10

_CASES = "SELECT id, serial, complaint, opened_at, closed_at, result FROM cases{where} ORDER BY id"
# The first finding of each case's first FAIL run (by start time, then id for runs started together).
_ROOT_CAUSES = """
SELECT r.case_id, f.fault
FROM runs r JOIN findings f ON f.run_id = r.id
WHERE r.case_id IS NOT NULL AND r.verdict = 'FAIL'
ORDER BY r.case_id, r.started_at, r.id, f.seq
"""


@dataclass
class RepairFigures:
    """The repair figures of ``bench stats`` (``--json``: :meth:`to_dict`)."""

    opened: int = 0
    closed: int = 0
    by_result: dict[str, int] = field(default_factory=dict)
    by_complaint: list[tuple[str, int]] = field(default_factory=list)
    by_root_cause: list[tuple[str, int]] = field(default_factory=list)
    repeat_repairs: list[str] = field(default_factory=list)  # serials
    mean_time_to_repair_h: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        d = asdict(self)
        d["by_complaint"] = [{"complaint": c, "cases": n} for c, n in self.by_complaint]
        d["by_root_cause"] = [{"fault": c, "cases": n} for c, n in self.by_root_cause]
        return d


def repair_figures(store: StoreBase, since: datetime | None = None) -> RepairFigures:
    """The figures over the cases opened since ``since`` (all when None)."""
    db = store.db
    with db.read():
        rows = db.query(_CASES.format(where=" WHERE opened_at >= :since" if since else ""),
                        {"since": db.time(since)} if since else {})
        causes_rows = db.query(_ROOT_CAUSES, {})
    out = RepairFigures(opened=len(rows))
    first_cause: dict[int, str] = {}
    for case_id, fault in causes_rows:
        first_cause.setdefault(int(case_id), str(fault))
    complaints: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    results: Counter[str] = Counter()
    hours: list[float] = []
    closes: dict[str, list[datetime]] = {}
    repeats: set[str] = set()
    for case_id, serial, complaint, opened_at, closed_at, result in rows:
        complaints[" ".join(str(complaint).lower().split())] += 1
        causes[first_cause.get(int(case_id), NOT_REPRODUCED if closed_at is not None else NOT_YET)] += 1
        opened = utc(opened_at)
        if any(timedelta(0) <= opened - done <= REPEAT_WINDOW for done in closes.get(serial, [])):
            repeats.add(serial)
        if closed_at is not None:
            done = utc(closed_at)
            out.closed += 1
            results[str(result)] += 1
            hours.append((done - opened).total_seconds() / 3600)
            closes.setdefault(serial, []).append(done)
    out.by_result = dict(results.most_common())
    out.by_complaint = complaints.most_common(TOP)
    out.by_root_cause = causes.most_common(TOP)
    out.repeat_repairs = sorted(repeats)
    out.mean_time_to_repair_h = round(sum(hours) / len(hours), 2) if hours else None
    return out
