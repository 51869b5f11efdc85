"""The HTML report: self-contained, escaped, redacted, charts drawn, trends from the store, stable bytes."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stored import store_run

from bench.measure import Limit, Measurement
from bench.record import AttachmentRecord, Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports.html import render_html
from bench.reports.render import write_reports
from bench.store.engine import Store

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
PAN = "4761739001010010"
SCRIPT = "<script>alert(1)</script>"
VOLT = Limit(min=7.0, max=8.6, unit="V", fault="PWR-BATT-LOW")


def png_bytes() -> bytes:
    """A small real PNG (a fake printed receipt)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (96, 40), 255)
    ImageDraw.Draw(img).text((4, 4), "RECEIPT", fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_run(run_id: str = "a1b2c3d4-0000-0000-0000-000000000001", *, started: datetime = T0,
             voltage: float = 3.41, model: str = "PT-300", serial: str = "PT3-000123") -> RunRecord:
    """A battery-low run: identify, a failed battery step with a log, a printer step with a receipt."""
    ok = voltage >= 7.0
    batt = Measurement("voltage", voltage, "V", VOLT, ok, None if ok else "PWR-BATT-LOW",
                       "" if ok else f"voltage = {voltage} V: below min 7")
    steps = [
        StepRecord(0, "identify", "unit.identify", Outcome.PASS, started, 0.01,
                   measurements=[Measurement("model", model), Measurement("serial", serial)],
                   log=[f"{model} serial {serial}"]),
        StepRecord(1, "battery", "power.battery", Outcome.PASS if ok else Outcome.FAIL,
                   started + timedelta(seconds=1), 0.2, fault=None if ok else "PWR-BATT-LOW",
                   message="" if ok else f"battery low; last card {PAN}", measurements=[batt],
                   log=[f"battery {voltage} V", SCRIPT, f"track ;{PAN}=25121010000000000000?"]),
        StepRecord(2, "receipt", "printer.receipt", Outcome.PASS, started + timedelta(seconds=2), 1.0,
                   measurements=[Measurement("dots_missing", 0, None, Limit(max=0), True)],
                   attachments=[AttachmentRecord("receipt.png", "image/png", png_bytes()),
                                AttachmentRecord("receipt.txt", "text/plain", f"CARD {PAN}\n".encode())]),
    ]
    return RunRecord(
        run_id=run_id, plan_name="pos-full", plan_version="1.0", plan_hash="cd" * 32, station="bench-7",
        operator="ana", started_at=started, ended_at=started + timedelta(seconds=4),
        verdict=Verdict.PASS if ok else Verdict.FAIL, unit=UnitInfo(model, serial, "C", "2.4.1"), steps=steps,
        findings=[] if ok else [Finding("PWR-BATT-LOW", "battery charge or voltage too low", "consumable",
                                        "battery", "charge the battery", True, ["battery"])],
        summary="all steps passed" if ok else "unit: battery charge or voltage too low -> charge the battery",
        bench_version="0.1.0",
    )


def test_device_text_is_escaped_and_nothing_external() -> None:
    page = render_html(make_run(model=SCRIPT))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the model name and the log line, as text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # title/header, facts, log
    assert not re.search(r"https?://", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", page)
    for m in re.finditer(r"""(?:src|href)\s*=\s*"([^"]*)\"""", page):
        assert m.group(1).startswith(("#", "data:image/")), m.group(1)
    assert "Content-Security-Policy" in page


def test_receipt_inline_as_data_uri() -> None:
    import base64

    page = render_html(make_run())
    m = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="receipt.png">', page)
    assert m is not None
    assert base64.b64decode(m.group(1)) == png_bytes()


def test_limit_chart_drawn_for_the_failed_value() -> None:
    page = render_html(make_run())
    gauges = re.findall(r'<svg class="gauge".*?</svg>', page, re.S)
    # voltage (7..8.6) under "What failed" and again in "All steps", and dots_missing (max 0)
    assert len(gauges) == 3
    volt = next(g for g in gauges if "voltage" in g)
    assert ">7</text>" in volt and ">8.6</text>" in volt
    # the marker is red (out of limits) and left of the band
    band = re.search(r'<rect x="([\d.]+)" y="11" width="[\d.]+" height="8" fill="#aceebb"/>', volt)
    marker = re.search(r'<rect x="([\d.]+)" y="3" width="4" height="24" rx="1" fill="(#[0-9a-f]+)"/>', volt)
    assert band and marker and marker.group(2) == "#cf222e"
    assert float(marker.group(1)) + 2 < float(band.group(1))
    assert "PWR-BATT-LOW" in page and "charge the battery" in page  # diagnosis on top
    assert page.index("Diagnosis") < page.index("All steps")


def test_no_full_pan_anywhere(tmp_path: Path) -> None:
    rec = make_run()
    page = render_html(rec)
    assert PAN not in page and "476173******0010" in page
    written = write_reports(rec, tmp_path, ["all"])
    assert set(written) == {"json", "html", "junit", "rma", "rma-json"}
    for path in written.values():
        assert PAN not in path.read_text("utf-8"), path.name


def test_rendered_twice_is_byte_identical(tmp_db: str) -> None:
    rec = make_run()
    with Store.open(tmp_db) as store:
        store_run(store, rec)
        a = render_html(rec, store)
        b = render_html(store.get_run(rec.run_id), store)
    assert a == b
    assert render_html(rec) == render_html(rec)


def test_trend_sparkline_from_the_store(tmp_db: str) -> None:
    values = [8.2, 8.0, 7.8, 7.5, 7.3]
    with Store.open(tmp_db) as store:
        for i, v in enumerate(values):
            store_run(store, make_run(f"run-{i:04d}", started=T0 + timedelta(days=i), voltage=v))
        last = make_run("run-0005", started=T0 + timedelta(days=5), voltage=3.41)
        store_run(store, last)
        # a later run must not show up when the earlier one is re-rendered
        store_run(store, make_run("run-0006", started=T0 + timedelta(days=6), voltage=8.4))
        page = render_html(last, store)
        plain = render_html(last)
    assert "History of this unit" in page and "History of this unit" not in plain
    spark = re.search(r'<svg class="spark".*?</svg>', page, re.S)
    assert spark is not None
    svg = spark.group(0)
    assert svg.count("<circle") == 6  # five earlier runs and this one, not the later one
    assert ">7</text>" in svg and ">8.6</text>" in svg  # both limits drawn
    assert 'r="4.0" fill="#cf222e"' in svg  # this run's point, out of limits
    assert "outside the limits" in page


@pytest.mark.parametrize("older_limit", [False, True], ids=["failed", "outside-newer-limits"])
def test_a_trend_card_never_says_within_limits_above_a_point_outside_the_band(tmp_db: str, older_limit: bool) -> None:
    low = make_run("run-0001", started=T0 + timedelta(days=1), voltage=3.41)
    if older_limit:  # it passed the plan of its day (min 3 V); the band drawn is today's (min 7 V)
        low.steps[1].measurements[0] = Measurement("voltage", 3.41, "V", Limit(min=3.0, unit="V"), True)
    runs = [make_run("run-0000", started=T0, voltage=7.9), low,
            *(make_run(f"run-000{i}", started=T0 + timedelta(days=i), voltage=v)
              for i, v in enumerate([7.9, 7.95, 7.9, 7.9, 7.9], start=2))]
    with Store.open(tmp_db) as store:
        for rec in runs:
            store_run(store, rec)
        page = render_html(runs[-1], store)
    card = re.search(r'<div class="trend"><div class="thead"><strong>voltage</strong>.*?</p></div>', page, re.S)
    assert card is not None
    assert "stable within limits" not in card.group(0)
    assert "1 of the 7 values shown is not (3.41)" in card.group(0)
    below = re.search(r'<circle [^>]*fill="([^"]+)"><title>[^<]*: 3.41</title>', card.group(0))
    assert below is not None and below.group(1) == "#cf222e"  # drawn below the band, in red


@pytest.mark.parametrize("outcome", [Outcome.ERROR, Outcome.TIMEOUT])
def test_log_excerpt_for_failed_steps(outcome: Outcome) -> None:
    rec = make_run()
    rec.steps[1].outcome = outcome
    rec.steps[1].log = [f"line {i}" for i in range(100)]
    page = render_html(rec)
    assert "line 99" in page and "line 59" not in page and "last 40 of 100 lines" in page
