"""What each dashboard page shows, read from the store: one function per page, run on a pool worker.

Every function takes an open store (and the page's arguments) and returns the page's data as a
dict of the read API's dataclasses (:mod:`bench.store.dashboard`), or raises :class:`NotFound`.
The same dict fills the page's template and, through :func:`to_json`, its JSON twin
(``?format=json``), so the two never say different things. Text goes out PAN-masked either way.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.record import RunRecord
from bench.store import dashboard
from bench.store.history import RunNotFoundError, RunSummary
from drivers.codecs.pan import redact
from drivers.i18n import N_

if TYPE_CHECKING:
    from bench.store.base import StoreBase

#: Days of the yield chart, and of the pareto, on the bench and model pages.
CHART_DAYS = 14
PARETO_DAYS = 7
#: Values in each sparkline of the unit page.
TREND_POINTS = 20


class NotFound(LookupError):
    """The page's subject is not in the store (404); ``args[0]`` says so (a :class:`~drivers.i18n.Text`)."""


def _window(now: datetime, days: int) -> tuple[date, date]:
    today = now.astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


def overview(store: StoreBase, now: datetime) -> dict[str, Any]:
    """The front page: yield today and this week, the week's pareto, benches, runs in progress."""
    db = store.db
    with db.read():
        ov = dashboard.overview(db, now)
        names = dashboard.models(db)
    up = sum(1 for b in ov.benches if is_up(b))
    return {"overview": ov, "models": names, "benches_up": up, "benches_down": len(ov.benches) - up}


def is_up(bench: dashboard.BenchStatus) -> bool:
    """Up: a recent heartbeat that did not say goodbye (a bench whose last beat was ``stopped`` is down)."""
    return bench.up and bench.state != "stopped"


def bench_page(store: StoreBase, name: str, now: datetime) -> dict[str, Any]:
    """One bench (station): its heartbeat, what it runs, its yield and pareto, its newest runs."""
    db = store.db
    since, until = _window(now, CHART_DAYS)
    with db.read():
        status = next((b for b in dashboard.benches(db, now) if b.name == name), None)
        runs = dashboard.station_runs(db, name)
        if status is None and not runs:
            raise NotFound(N_("no bench named {name!r} in the store", name=name))
        return {
            "name": name,
            "status": status,
            "running": dashboard.running(db, station=name),
            "days": dashboard.yield_by_day(db, since, until, by="station", station=name),
            "pareto": dashboard.pareto(db, until - timedelta(days=PARETO_DAYS - 1), until, station=name),
            "runs": runs,
        }


def model_page(store: StoreBase, name: str, now: datetime) -> dict[str, Any]:
    """One model: its yield per day, its pareto of the week, its newest runs."""
    db = store.db
    since, until = _window(now, CHART_DAYS)
    with db.read():
        runs = dashboard.model_runs(db, name)
        if not runs:
            raise NotFound(N_("no runs of model {name!r} in the store", name=name))
        return {
            "name": name,
            "days": dashboard.yield_by_day(db, since, until, by="model", model=name),
            "pareto": dashboard.pareto(db, until - timedelta(days=PARETO_DAYS - 1), until, model=name),
            "runs": runs,
        }


def unit_page(store: StoreBase, serial: str) -> dict[str, Any]:
    """One unit: every run wherever it was tested, when it last passed, its measurements' trends."""
    db = store.db
    with db.read():
        runs = dashboard.unit_runs(db, serial)
    if not runs:
        raise NotFound(N_("no runs of a unit with serial {serial!r} in the store", serial=serial))
    last_pass = next((r for r in runs if r.verdict.value == "PASS"), None)
    trends = []
    latest = store.get_run(runs[0].run_id)
    for name, unit in _numeric_measurements(latest):
        points = store.trend(name, serial=serial, limit=TREND_POINTS)
        if points:
            trends.append({"name": name, "unit": unit or points[-1].unit, "points": points})
    models = sorted({r.model for r in runs if r.model})
    return {"serial": serial, "models": models, "runs": runs, "last_pass": last_pass, "trends": trends}


def _numeric_measurements(rec: RunRecord) -> list[tuple[str, str | None]]:
    seen: dict[str, str | None] = {}
    for step in rec.steps:
        for m in step.measurements:
            if isinstance(m.value, int | float) and not isinstance(m.value, bool) and m.name not in seen:
                seen[m.name] = m.unit
    return list(seen.items())


def run_page(store: StoreBase, run_id: str) -> dict[str, Any]:
    """One run: its facts (the report itself is :func:`run_report`)."""
    try:
        rec = store.get_run(run_id)
    except RunNotFoundError as exc:
        raise NotFound(exc.message) from exc
    return {"run": rec}


def run_report(store: StoreBase, run_id: str) -> str:
    """The run's HTML report, exactly as ``bench report RUN`` renders it (PANs masked there)."""
    from bench.reports.render import render

    try:
        rec = store.get_run(run_id)
    except RunNotFoundError as exc:
        raise NotFound(exc.message) from exc
    return render(rec, "html", store)


def lots_page(store: StoreBase) -> dict[str, Any]:
    """Inspection lots: open first, with sample progress and verdict."""
    db = store.db
    with db.read():
        return {"lots": dashboard.lots(db)}


#: Units a search lists at most (``more`` says when others match too).
SEARCH_LIMIT = 20


def search_page(store: StoreBase, text: str) -> dict[str, Any]:
    """Units whose serial starts with ``text`` (the first :data:`SEARCH_LIMIT`; ``more``: others match too)."""
    text = text.strip()
    if not text:
        return {"q": "", "units": [], "more": False}
    db = store.db
    with db.read():
        found = dashboard.search_serial(db, text, limit=SEARCH_LIMIT + 1)
    units = [{"model": m, "serial": s} for m, s in found[:SEARCH_LIMIT]]
    return {"q": text, "units": units, "more": len(found) > SEARCH_LIMIT}


def signature(store: StoreBase, now: datetime) -> tuple[Any, ...]:
    """What changes when any page may have: runs started, steps done, runs ended, benches up or down.

    The heartbeat's own tick (``last_seen``) is left out: a bench saying "still here" changes no page.
    """
    db = store.db
    with db.read():
        ov = dashboard.overview(db, now)
        open_lots = dashboard.lots(db, open_only=True)
    return (
        ov.today, ov.week, tuple(ov.pareto_week),
        tuple((b.name, b.up, b.state, b.run_id, b.doing) for b in ov.benches),
        tuple((r.run_id, r.steps_done, r.serial) for r in ov.running),
        tuple((lot.lot, lot.inspected, lot.defectives, lot.state) for lot in open_lots),
    )


# ---------------------------------------------------------------------------- JSON


def to_json(value: Any) -> Any:
    """A page's data as plain JSON-able data, every text PAN-masked."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, RunSummary):
        return to_json(value.to_dict())
    if isinstance(value, RunRecord):
        from bench.reports.format import redacted

        return redacted(value).to_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for prop in ("first_pass_yield",):
            if hasattr(type(value), prop):
                out[prop] = getattr(value, prop)
        return out
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value

