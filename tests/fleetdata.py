"""A fleet's store for the dashboard's tests (and its screenshots): runs of several models on several benches.

:func:`fill` writes a few hundred finished runs over the last ten days through the store's own API
(as the runner does), one unit whose model, serial and messages are markup (``XSS``), a RUNNING run,
heartbeats of benches up and down, and an inspection lot; it returns what the pages must show,
computed here from what was written (the pareto of the week, the serials).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.store.base import StoreBase

MODELS = ("PT-300", "PT-310", "PT-500")
STATIONS = ("bench-1", "bench-2", "bench-3", "bench-4")
FAULTS = ("PWR-BATT-LOW", "ICC-NO-ATR", "PRN-HEAD-HOT", "LINK-SLOW", "KEY-STUCK", "DSP-PIXEL")
#: Markup in every text a device or an operator gives: it must show as text, never run.
XSS = "<script>alert(1)</script>"
#: A card number a step's message carries: the dashboard shows it masked only.
PAN = "4111111111111111"


@dataclass
class Written:
    """What :func:`fill` wrote that the pages must show."""

    pareto_week: dict[str, int] = field(default_factory=dict)
    serials: list[str] = field(default_factory=list)
    runs: int = 0
    running_id: str = ""
    failed_id: str = ""  # the newest FAIL run
    xss_serial: str = XSS
    lot: str = "LOT-1"


def _steps(at: datetime, fault: str | None, message: str = "", battery: float = 7.9) -> list[StepRecord]:
    battery = battery if fault != "PWR-BATT-LOW" else 6.8
    return [
        StepRecord(0, "identify", "unit.identify", Outcome.PASS, at, 0.4, message=message or "identified"),
        StepRecord(1, "battery", "power.battery", Outcome.FAIL if fault else Outcome.PASS, at + timedelta(seconds=1),
                   0.5, fault=fault, message=message or f"battery {battery} V",
                   measurements=[Measurement("battery_voltage", battery, "V", Limit(min=7.0, max=8.6, unit="V"),
                                             fault != "PWR-BATT-LOW")]),
    ]


def make_run(*, station: str, model: str, serial: str, started: datetime, fault: str | None,
             verdict: Verdict | None = None, message: str = "", lot: str | None = None,
             battery: float = 7.9) -> RunRecord:
    """One finished run (FAIL with ``fault``, else PASS unless ``verdict`` says otherwise)."""
    v = verdict or (Verdict.FAIL if fault else Verdict.PASS)
    findings = [Finding(fault, f"{fault} seen", "unit", "battery", "replace", True, ["battery"])] if fault else []
    return RunRecord(
        run_id=str(uuid.uuid4()), plan_name="pos-quick", plan_version="1.0", plan_hash="h", station=station,
        operator="op", started_at=started, ended_at=started + timedelta(seconds=30), verdict=v,
        unit=UnitInfo(model, serial), steps=_steps(started, fault, message, battery), findings=findings,
        summary=message or (f"failed: {fault}" if fault else "all steps passed"), lot=lot, bench_version="test",
    )


def store_run(store: StoreBase, rec: RunRecord) -> None:
    """Write ``rec`` as the runner does: start, each step, finish (unless still RUNNING)."""
    store.start_run(rec)
    if rec.unit is not None:
        store.set_unit(rec.run_id, rec.unit)
    for step in rec.steps:
        store.add_step(rec.run_id, step)
    if rec.verdict is not Verdict.RUNNING:
        assert rec.ended_at is not None
        store.finish_run(rec.run_id, rec.verdict, rec.ended_at, rec.summary, rec.findings)


def fill(store: StoreBase, runs: int = 300, *, now: datetime | None = None, seed: int = 20, xss: bool = True) -> Written:
    """Write ``runs`` finished runs over the last ten days, the XSS unit (unless not ``xss``: the README's
    screenshots), a RUNNING run, heartbeats and a lot."""
    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    today = now.date()
    week_start = today - timedelta(days=6)
    out = Written()
    pareto: Counter[str] = Counter()
    failed_at = now
    for i in range(runs):
        serial = f"SN{i % 120:05d}"
        day = rnd.randrange(10)
        started = datetime.combine(today - timedelta(days=day), datetime.min.time(), UTC) + timedelta(
            minutes=rnd.randrange(0, 60 * max(1, min(22, now.hour if day == 0 else 22))))
        started = min(started, now - timedelta(minutes=5))
        fault = FAULTS[min(len(FAULTS) - 1, int(rnd.expovariate(0.7)))] if rnd.random() < 0.25 else None
        verdict = Verdict.ABORTED if not fault and rnd.random() < 0.03 else None
        rec = make_run(station=STATIONS[i % len(STATIONS)], model=MODELS[i % len(MODELS)], serial=serial,
                       started=started, fault=fault, verdict=verdict, battery=round(min(8.5, max(7.1, rnd.gauss(7.9, 0.2))), 2))
        store_run(store, rec)
        if fault and started.date() >= week_start:
            pareto[fault] += 1
        if fault and (not out.failed_id or started > failed_at):
            out.failed_id, failed_at = rec.run_id, started
        if serial not in out.serials:
            out.serials.append(serial)
    if xss:  # the unit whose every text is markup
        store_run(store, make_run(station="bench-1", model=XSS, serial=XSS, started=now - timedelta(hours=1),
                                  fault="KEY-STUCK", message=f"{XSS} card {PAN}"))
        pareto["KEY-STUCK"] += 1
    running = make_run(station="bench-2", model="PT-300", serial="SN-RUNNING", started=now - timedelta(minutes=1),
                       fault=None, verdict=Verdict.RUNNING)
    store.start_run(running)
    store.set_unit(running.run_id, UnitInfo("PT-300", "SN-RUNNING"))
    store.add_step(running.run_id, running.steps[0])
    out.running_id = running.run_id
    out.pareto_week = dict(pareto)
    out.runs = runs + int(xss)
    heartbeat(store, "bench-1", now, state="idle")
    heartbeat(store, "bench-2", now, state="running", run_id=running.run_id, doing="pos-quick: SN-RUNNING")
    heartbeat(store, "bench-9", now - timedelta(hours=3), state="running",
              doing=f"pos-full: {XSS if xss else 'SN00042'}")
    _lot(store, now)
    return out


def heartbeat(store: StoreBase, station: str, at: datetime, *, state: str, run_id: str | None = None,
              doing: str = "") -> None:
    """A bench's heartbeat row as the heartbeat writer leaves it (state, what it does, when last seen)."""
    db = store.db
    with db.write():
        db.execute("DELETE FROM heartbeats WHERE station = :s AND host = :h", {"s": station, "h": "host-" + station})
        db.execute(
            "INSERT INTO heartbeats (station, host, pid, bench_version, started_at, last_seen, state, run_id, doing, "
            "slots) VALUES (:s, :h, 1, 'test', :t, :t, :state, :run, :doing, 1)",
            {"s": station, "h": "host-" + station, "t": db.time(at), "state": state, "run": run_id, "doing": doing})


def _lot(store: StoreBase, now: datetime) -> None:
    from bench.lots import sampling
    from bench.lots.store import LotStore

    lots = LotStore(store)
    lots.open_lot("LOT-1", "Acme", "PT-300", sampling.plan(500, 1.0), "pos-quick.yaml", "inspector", now=now)
    for i in range(3):
        store_run(store, make_run(station="bench-3", model="PT-300", serial=f"LOT1-{i:03d}",
                                  started=now - timedelta(minutes=30 - i), fault=None, lot="LOT-1"))
