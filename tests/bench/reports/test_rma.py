"""The fault (RMA) report: identity, symptoms, diagnosis, steps tried, last pass, no PAN."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from stored import store_run

from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports.rma import NEVER, NO_STORE, build_rma, render_rma_json, render_rma_md
from bench.store.engine import Store

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
PAN = "4761739001010010"


def make_run(run_id: str, started: datetime, *, ok: bool) -> RunRecord:
    """A pos-full run that passes, or fails on the battery with the tamper step skipped."""
    limit = Limit(min=7.0, max=8.6, unit="V", fault="PWR-BATT-LOW")
    volt = Measurement("voltage", 7.9 if ok else 3.41, "V", limit, ok, None if ok else "PWR-BATT-LOW",
                       "" if ok else "voltage = 3.41 V: below min 7")
    steps = [
        StepRecord(0, "identify", "unit.identify", Outcome.PASS, started, 0.01),
        StepRecord(1, "battery", "power.battery", Outcome.PASS if ok else Outcome.FAIL,
                   started + timedelta(seconds=1), 0.2, fault=None if ok else "PWR-BATT-LOW",
                   message="" if ok else f"voltage low (card {PAN} was inserted)", measurements=[volt]),
        StepRecord(2, "tamper", "unit.tamper", Outcome.PASS if ok else Outcome.SKIP,
                   started + timedelta(seconds=2), 0.0, message="" if ok else "skipped: battery failed"),
    ]
    return RunRecord(
        run_id=run_id, plan_name="pos-full", plan_version="1.0", plan_hash="ef" * 32, station="bench-7",
        operator="ana", started_at=started, ended_at=started + timedelta(seconds=3),
        verdict=Verdict.PASS if ok else Verdict.FAIL, unit=UnitInfo("PT-300", "PT3-000123", "C", "2.4.1"),
        steps=steps,
        findings=[] if ok else [Finding("PWR-BATT-LOW", "battery charge or voltage too low", "consumable",
                                        "battery", "charge the battery; replace it if it does not hold charge",
                                        True, ["battery"], ["tamper"])],
        summary="all steps passed" if ok else "unit: battery charge or voltage too low",
    )


def test_markdown_has_what_a_repair_desk_asks_for() -> None:
    md = render_rma_md(build_rma(make_run("r1", T0, ok=False)))
    assert md.startswith("# Fault report: PT-300 PT3-000123\n")
    for row in ("| Model | PT-300 |", "| Serial number | PT3-000123 |", "| Firmware | 2.4.1 |",
                "| Hardware revision | C |", f"| Last passed on this bench | {NO_STORE} |",
                "| Operator | ana |", "| Station | bench-7 |", "| Date | 2024-05-01 08:00:00 UTC |"):
        assert row in md, row
    assert "- **battery**: FAIL `PWR-BATT-LOW`" in md
    assert "  - voltage: measured **3.41 V**, expected 7 ≤ x ≤ 8.6 V" in md
    assert "1. **`PWR-BATT-LOW`: battery charge or voltage too low** (consumable, unit)" in md
    assert "   - Suspected part: battery" in md
    assert "   - Not tested because of it: tamper" in md
    # every step tried, with its result
    assert "| 1 | identify | unit.identify | PASS |" in md
    assert "| 2 | battery | power.battery | FAIL | PWR-BATT-LOW |" in md
    assert "| 3 | tamper | unit.tamper | SKIP |" in md


def test_no_full_pan() -> None:
    data = build_rma(make_run("r1", T0, ok=False))
    md, js = render_rma_md(data), render_rma_json(data)
    assert PAN not in md and PAN not in js
    assert "476173******0010" in js and "476173\\*\\*\\*\\*\\*\\*0010" in md  # Markdown-escaped stars


def test_last_pass_from_the_store(tmp_db: str) -> None:
    with Store.open(tmp_db) as store:
        first_fail = make_run("r0", T0, ok=False)
        store_run(store, first_fail)
        assert build_rma(first_fail, store)["last_pass_text"] == NEVER
        store_run(store, make_run("r1", T0 + timedelta(days=1), ok=True))
        failing = make_run("r2", T0 + timedelta(days=2), ok=False)
        store_run(store, failing)
        store_run(store, make_run("r3", T0 + timedelta(days=3), ok=True))  # after: not "last passed"
        data = build_rma(failing, store)
        # re-rendering the first failure later still says what was true then
        assert build_rma(first_fail, store)["last_pass_text"] == NEVER
    assert data["last_pass"] == {"run_id": "r1", "date": "2024-05-02T08:00:00Z", "plan": "pos-full 1.0",
                                 "station": "bench-7"}
    assert "| Last passed on this bench | 2024-05-02 08:00:00 UTC (run r1, pos-full 1.0, station bench-7) |" \
        in render_rma_md(data)


def test_json_form() -> None:
    data = json.loads(render_rma_json(build_rma(make_run("r1", T0, ok=False))))
    assert data["schema"] == "bench.rma/1"
    assert data["unit"] == {"model": "PT-300", "serial": "PT3-000123", "firmware": "2.4.1", "hw_revision": "C"}
    assert data["symptoms"] == [{
        "step": "battery", "outcome": "FAIL", "fault": "PWR-BATT-LOW",
        "message": "voltage low (card 476173******0010 was inserted)",
        "measurements": [{"name": "voltage", "measured": 3.41, "unit": "V", "expected": "7 ≤ x ≤ 8.6 V",
                          "fault": "PWR-BATT-LOW"}],
    }]
    assert [s["outcome"] for s in data["steps"]] == ["PASS", "FAIL", "SKIP"]
    assert data["diagnosis"][0]["part"] == "battery" and data["last_pass"] is None


def test_device_text_cannot_inject_markdown() -> None:
    rec = make_run("r1", T0, ok=False)
    rec.steps[1].message = "<img src=x> | [link](javascript:x) `code`"
    md = render_rma_md(build_rma(rec))
    assert "\\<img src=x> \\| \\[link\\](javascript:x) \\`code\\`" in md
    assert md.count("<img") == md.count("\\<img")
