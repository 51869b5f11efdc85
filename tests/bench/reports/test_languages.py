"""Reports in the run's language or the one asked for: what a reader sees, from a record and from the store."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fontTools.ttLib import TTFont
from sqlalchemy.engine import make_url
from stored import store_run, to_version_7

from bench.cli.main import main
from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports import fonts
from bench.reports.render import render
from bench.store.engine import Store
from drivers.i18n import N_, set_language

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 12, 7, 8, 15, 2, tzinfo=UTC)
VOLT = Limit(min=7.0, max=8.6, unit="V", fault="PWR-BATT-LOW")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")  # main() made the process speak the test's language


def a_run(lang: str = "zh_CN", *, texts: bool = True) -> RunRecord:
    """A FAIL run whose step message, measurement message, finding and summary are translatable (``texts``)."""
    msg = N_("latest value {value} is outside the limits", value="3.41 V") if texts else "battery 3.41 V: flat"
    steps = [
        StepRecord(0, "identify", "unit.identify", Outcome.PASS, T0, 0.25),
        StepRecord(1, "battery", "power.battery", Outcome.FAIL, T0 + timedelta(seconds=1), 1234.5, fault="PWR-BATT-LOW",
                   message=msg, measurements=[Measurement("voltage", 3.41, "V", VOLT, False, "PWR-BATT-LOW", msg)],
                   log=["battery 3.41 V"]),
    ]
    finding = Finding("PWR-BATT-LOW", N_("hardware fault") if texts else "battery flat", "consumable",
                      N_("part") if texts else "battery", N_("replaced the {part}", part="battery") if texts else "charge",
                      True, ["battery"])
    return RunRecord(run_id="5eed0000-0000-4000-8000-000000000001", plan_name="pos-full", plan_version="1.0",
                     plan_hash="ab" * 32, station="bench-7", operator="ana", started_at=T0,
                     ended_at=T0 + timedelta(seconds=1240), verdict=Verdict.FAIL, unit=UnitInfo("PT-300", "SN-1", "C", "2.4.1"),
                     steps=steps, findings=[finding], summary=N_("No failed step recorded.") if texts else "battery flat",
                     bench_version="0.1.0", lang=lang)


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    got = capsys.readouterr()
    return int(ended.value.code or 0), got.out, got.err


def h2(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", page)


# --------------------------------------------------------------------------- rendering a record


def test_a_chinese_run_reads_in_chinese() -> None:
    page = render(a_run(), "html")
    assert '<html lang="zh-CN">' in page
    assert h2(page) == ["诊断", "失败项", "设备与测试", "全部步骤"]
    assert '<div class="verdict">失败</div>' in page
    assert page.count('<p class="message">最新值 3.41 V 超出限值</p>') == 2  # under "What failed" and in order
    assert "<strong>硬件故障</strong>" in page and "<dd>更换了battery</dd>" in page
    assert "<dt>开始</dt><dd>2026年12月7日 08:15:02 UTC</dd>" in page
    assert "<dt>用时</dt><dd>1,240.00 s</dd>" in page and "1,234.50 s" in page  # numbers in the language's format
    assert "<th>测量项</th><th>测量值</th><th>限值</th>" in page


def test_the_same_run_in_english_on_request_and_its_machine_formats_never_change() -> None:
    rec = a_run()
    page = render(rec, "html", lang="en")
    assert '<html lang="en">' in page and not CJK.search(page)
    assert h2(page) == ["Diagnosis", "What failed", "Unit and run", "All steps"]
    assert '<p class="message">latest value 3.41 V is outside the limits</p>' in page
    assert "<dt>Started</dt><dd>2026-12-07 08:15:02 UTC</dd>" in page and "@font-face" not in page
    for fmt in ("json", "junit", "rma-json"):
        assert render(rec, fmt, lang="zh_CN") == render(rec, fmt, lang="en") == render(rec, fmt), fmt
        assert not CJK.search(render(rec, fmt)), fmt
    assert json.loads(render(rec, "json"))["steps"][1]["message"] == "latest value 3.41 V is outside the limits"


def test_the_fault_report_in_chinese() -> None:
    md = render(a_run(), "rma")
    assert md.startswith("# 故障报告：PT-300 SN-1\n")
    assert "## 故障现象" in md and "## 诊断" in md and "## 已尝试的步骤及其结果" in md
    assert "- **battery**：失败 `PWR-BATT-LOW`：最新值 3.41 V 超出限值" in md
    assert "| 日期 | 2026年12月7日 08:15:02 UTC |" in md
    assert "| 最近一次在本测试台通过 | 未知（未查询结果库） |" in md
    assert "| 测试计划 | pos-full 1.0 （abababababab） |" in md  # the language's brackets
    assert "| Plan | pos-full 1.0 (abababababab) |" in render(a_run(), "rma", lang="en")


def test_the_chinese_is_drawn_with_an_embedded_subset_of_a_debian_font() -> None:
    page = render(a_run(), "html")
    assert "font-src data:" in page
    assert not re.findall(r"(?:url\(|src=\"|href=\")\s*(?:https?:)?//", page)  # nothing fetched from anywhere
    found = re.search(r'@font-face\{font-family:"bench-cjk";src:url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', page)
    assert found, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(found.group(1))))
    drawn = {chr(c) for c in font.getBestCmap()}
    used = set(fonts.wide_characters(page))
    assert {"诊", "断", "设", "备"} <= used <= drawn
    assert len(drawn) < len(used) + 10  # the glyphs of this page, not the font's 20,000
    assert len(page) < 120_000


def test_without_a_cjk_font_the_report_is_still_written_and_the_log_says_so_once(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setenv("BENCH_CJK_FONT", str(tmp_path / "no-such-font.ttc"))
    monkeypatch.setattr(fonts, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="bench.reports.fonts"):
        pages = [render(a_run(), "html"), render(a_run(), "html")]
    assert all("<h2>诊断</h2>" in p and "@font-face" not in p for p in pages)
    said = [r.getMessage() for r in caplog.records if r.name == "bench.reports.fonts"]
    assert len(said) == 1 and "no CJK font found" in said[0]


def test_an_unknown_language_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_db: str) -> None:
    code, out, err = bench(capsys, "report", "latest", "--lang", "fr", "--db", tmp_db)
    assert (code, out) == (2, "")
    assert err == "bench: error: --lang: unknown language 'fr' (the bench speaks: en, zh_CN)\n"


# --------------------------------------------------------------------------- from the store


def test_a_stored_chinese_run_renders_later_in_either_language(store_url: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(store_url) as store:
        store_run(store, a_run())
        assert store.get_run("5eed").lang == "zh_CN"
    code, zh, _ = bench(capsys, "report", "5eed", "--db", store_url)  # the run's language
    assert code == 0 and h2(zh)[:2] == ["诊断", "失败项"]
    assert '<p class="message">最新值 3.41 V 超出限值</p>' in zh and "<strong>硬件故障</strong>" in zh
    assert '<p class="summary">没有记录到失败的步骤。</p>' in zh
    code, en, _ = bench(capsys, "report", "5eed", "--lang", "en", "--db", store_url)
    assert code == 0 and not CJK.search(en)
    assert '<p class="message">latest value 3.41 V is outside the limits</p>' in en
    assert '<p class="summary">No failed step recorded.</p>' in en
    for fmt in ("json", "junit"):
        outs = {lang: bench(capsys, "report", "5eed", "--format", fmt, "--lang", lang, "--db", store_url)[1]
                for lang in ("en", "zh_CN")}
        assert outs["en"] == outs["zh_CN"] and not CJK.search(outs["en"]), fmt
    assert json.loads(outs := bench(capsys, "report", "5eed", "--format", "json", "--db", store_url)[1]) == \
        json.loads(render(a_run(), "json")), outs


def test_runs_stored_before_version_9_stay_readable_in_english_as_stored(store_url: str,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(store_url) as store:
        store_run(store, a_run("en", texts=False))
    to_version_7(make_url(store_url).render_as_string(hide_password=False))
    engine = sa.create_engine(make_url(store_url))
    with engine.connect() as conn:
        assert "lang" not in {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    engine.dispose()
    with Store.open(store_url) as store:  # migrates 7 -> 8 -> 9
        rec = store.get_run("5eed")
        with store._read() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    assert versions == list(range(1, 10))
    assert rec.lang == "en" and rec.steps[1].message == "battery 3.41 V: flat"
    code, zh, _ = bench(capsys, "report", "5eed", "--lang", "zh_CN", "--db", store_url)
    assert code == 0 and h2(zh)[0] == "诊断"  # the report's own words in Chinese...
    assert '<p class="message">battery 3.41 V: flat</p>' in zh  # ...the stored message as it was stored
    assert "<strong>battery flat</strong>" in zh


# --------------------------------------------------------------------------- the demo's way


@pytest.mark.slow
def test_a_simulated_run_in_chinese_writes_a_chinese_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    env = {"PATH": "/usr/bin:/bin", "LANG": "zh_CN.UTF-8", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "testplans/pos-full.yaml", "--sim", "--scenario",
                           "battery-low", "--db", db, "--report", str(tmp_path / "reports")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    (folder,) = (tmp_path / "reports").iterdir()
    page = (folder / "report.html").read_text("utf-8")
    assert '<html lang="zh-CN">' in page and "<h2>诊断</h2>" in page and "<h2>本机历史数据</h2>" in page
    assert "@font-face" in page and '<div class="verdict">失败</div>' in page
    assert (folder / "rma.md").read_text("utf-8").startswith("# 故障报告：PT-300 PT3-000123")
    english = subprocess.run([sys.executable, "-m", "bench", "report", "latest", "--lang", "en", "--db", db], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    assert english.returncode == 0 and "<h2>Diagnosis</h2>" in english.stdout and "@font-face" not in english.stdout
    again = subprocess.run([sys.executable, "-m", "bench", "report", "latest", "--format", "json", "--db", db],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout) == json.loads((folder / "run.json").read_text("utf-8"))
    assert json.loads(again.stdout)["lang"] == "zh_CN"


def test_junit_is_english_even_when_the_bench_speaks_chinese() -> None:
    from bench.reports.junit import render_junit_many
    from drivers.i18n import using_language

    rec = a_run()
    rec.steps[0].measurements.append(Measurement("adapter_present", False, None, Limit(equals=True), False))
    english = render_junit_many([rec])
    with using_language("zh_CN"):  # a multi-up station writes its JUnit in the bench's language
        assert render_junit_many([rec]) == english
    assert 'value="no"' in english and not CJK.search(english)
