"""What a technician reads of a run, in Chinese: step messages, the diagnosis, the fault table, the checks.

Runs the stock plans on the simulated bench through :func:`bench.run.execute` (what ``bench run`` calls) and
reads the record as the console and the reports show it (``tr``); machine output stays English.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import checks, i18n
from bench.faults import FAULTS, Category, lookup
from bench.record import RunRecord
from bench.run import RunRequest, execute
from drivers.i18n import set_catalogue_dir, tr, using_language

ROOT = Path(__file__).resolve().parents[3]
_HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _catalogue() -> None:
    i18n.load("zh_CN")  # compiled again when the .po is newer than its .mo
    # A subprocess may have compiled it since this process loaded the old one: read it afresh.
    set_catalogue_dir(i18n.CATALOGUE_DIR)


def _run(tmp_path: Path, plan: str, scenario: str) -> RunRecord:
    req = RunRequest(plan_file=ROOT / "testplans" / plan, sim=True, scenario=scenario,
                     report_dir=None, db=f"sqlite:///{tmp_path / 'bench.db'}")
    return execute(req).record


def _step(rec: RunRecord, name: str) -> object:
    return next(s for s in rec.steps if s.name == name)


def test_a_failing_step_and_its_diagnosis_read_in_chinese(tmp_path: Path) -> None:
    rec = _run(tmp_path, "pos-quick.yaml", "firmware-old")
    step = _step(rec, "firmware")
    english = "firmware 1.9.0 is older than the minimum 2.0.0: update required"
    assert step.message == english  # the record, --json, the store: English
    (finding,) = rec.findings
    assert finding.fault == "FW-OUTDATED"
    with using_language("zh_CN"):
        assert tr(step.message) == "固件 1.9.0 低于最低版本 2.0.0：需要升级"
        assert tr(finding.title) == "固件版本低于要求"
        assert tr(finding.part) == "固件"
        assert tr(finding.action) == "需要升级：安装当前版本固件后重新测试"
        assert tr(rec.summary) == "设备：固件版本低于要求 -> 需要升级：安装当前版本固件后重新测试"
        assert tr(Category(finding.category).label) == "软件问题"
    assert tr(step.message) == english and tr(finding.part) == "firmware"  # English readers see English


def test_a_measurement_out_of_its_limit_reads_in_chinese(tmp_path: Path) -> None:
    rec = _run(tmp_path, "pos-quick.yaml", "post-ram")
    step = _step(rec, "self-test")
    assert step.message.startswith("power-on self-test: RAM failed (post ram: fail 0x")
    (finding,) = rec.findings
    with using_language("zh_CN"):
        assert re.fullmatch(r"开机自检：内存（RAM）故障（post ram：fail 0x[0-9a-f]{4}）", tr(step.message)), tr(step.message)
        assert (tr(finding.part), tr(finding.action)) == ("主板（内存）", "更换主板")


def test_an_intake_question_is_asked_and_recorded_in_chinese(tmp_path: Path) -> None:
    rec = _run(tmp_path, "intake.yaml", "intake-damaged")  # its scripted operator answers by the English text
    step = _step(rec, "screen")
    assert step.message == "intake: screen cracked (the operator answered no to 'Is the screen free of cracks?')"
    with using_language("zh_CN"):
        assert tr(step.message) == "初步检查：屏幕破裂（操作员对“屏幕是否完好无破裂？”回答了“否”）"
        finding = next(f for f in rec.findings if f.fault == "DSP-CRACKED")
        assert tr(finding.action) == "更换屏幕总成"
    assert {f.fault for f in rec.findings} == {"DSP-CRACKED", "SEC-SEALS"}


def test_machine_output_stays_english_in_a_chinese_run(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "testplans/pos-quick.yaml", "--sim", "--scenario",
                           "firmware-old", "--json", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report",
                           str(tmp_path / "reports")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "BENCH_LANG": "zh_CN", "HOME": str(tmp_path)})
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    step = next(s for s in record["steps"] if s["name"] == "firmware")
    assert step["message"] == "firmware 1.9.0 is older than the minimum 2.0.0: update required"
    assert record["findings"][0]["part"] == "firmware"
    assert not _HAN.search(proc.stdout)


@pytest.mark.parametrize("code", sorted(FAULTS))
def test_every_fault_reads_in_the_repair_guides_words(code: str) -> None:
    fault = lookup(code)
    with using_language("zh_CN"):
        for text in (fault.title, fault.part, fault.action):
            assert _HAN.search(tr(text)), f"{code}: {text!r} has no Chinese"
    assert not _HAN.search(fault.title + fault.part + fault.action)  # the table itself is English


def test_the_trade_words_are_the_glossarys() -> None:
    with using_language("zh_CN"):
        shown = {code: tr(FAULTS[code].title) + tr(FAULTS[code].part) + tr(FAULTS[code].action) for code in FAULTS}
    assert "磁头" in shown["MSR-NO-READ"] and "刷卡" in shown["MSR-NO-READ"]
    assert "挥卡" in shown["CTLS-NO-CARD"] and "非接" in shown["CTLS-NO-CARD"]
    assert "打印头" in shown["PRN-HEAD-HOT"]
    assert "返厂" in shown["SEC-TAMPER"] and "激活" in shown["SEC-TAMPER"]
    assert "开机自检" in shown["UNIT-POST-RAM"] and "主板" in shown["UNIT-POST-RAM"]
    assert "按键" in shown["KEY-DEAD"] and "电池" in shown["PWR-BATT-DEAD"]


def test_every_check_summary_and_parameter_help_is_translated() -> None:
    missing: list[str] = []
    with using_language("zh_CN"):
        for spec in checks.registry().values():
            texts = [spec.summary, *(p.help for p in spec.params.values() if p.help)]
            missing += [f"{spec.name}: {t}" for t in texts if not _HAN.search(tr(t))]
    assert not missing, missing


def test_an_unknown_fault_code_still_reads_in_chinese() -> None:
    fault = lookup("XYZ-NEW")
    assert fault.title == "fault XYZ-NEW"
    with using_language("zh_CN"):
        assert (tr(fault.title), tr(fault.part)) == ("故障 XYZ-NEW", "未知")


def test_a_chinese_run_writes_the_step_and_the_repair_in_chinese_in_its_fault_report(tmp_path: Path) -> None:
    def run(lang: str) -> str:
        reports = tmp_path / lang
        proc = subprocess.run([sys.executable, "-m", "bench", "run", "testplans/pos-quick.yaml", "--sim", "--scenario",
                               "firmware-old", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(reports)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "BENCH_LANG": lang, "HOME": str(tmp_path)})
        assert proc.returncode == 1, proc.stderr
        (rma,) = reports.glob("*/rma.md")
        return rma.read_text(encoding="utf-8")

    chinese = run("zh_CN")
    assert "固件 1.9.0 低于最低版本 2.0.0：需要升级" in chinese  # the step's message
    assert "需要升级：安装当前版本固件后重新测试" in chinese  # the repair action
    assert "设备：固件版本低于要求 -> 需要升级：安装当前版本固件后重新测试" in chinese  # the summary
    english = run("en")
    assert "firmware 1.9.0 is older than the minimum 2.0.0: update required" in english
    assert "update required: install the current firmware, then test again" in english
    assert not _HAN.search(english)


def test_every_category_label_is_its_value_in_english() -> None:
    for category in Category:
        assert category.label == category.value  # a finding's category: the same key in the store and JSON
        with using_language("zh_CN"):
            assert _HAN.search(tr(category.label)), category


def test_the_console_of_a_chinese_run_shows_the_step_and_the_repair_in_chinese(tmp_path: Path) -> None:
    def run(*lang: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "bench", *lang, "run", "testplans/pos-quick.yaml", "--sim",
                               "--scenario", "firmware-old", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report",
                               str(tmp_path / "reports")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"})
        assert proc.returncode == 1, proc.stderr
        return proc.stdout

    chinese = run("--lang", "zh_CN")
    step = next(line for line in chinese.splitlines() if "firmware ...." in line)
    assert step.endswith("FW-OUTDATED  固件 1.9.0 低于最低版本 2.0.0：需要升级"), step
    assert "设备：固件版本低于要求 -> 需要升级：安装当前版本固件后重新测试" in chinese  # the verdict line's summary
    assert re.search(r"FW-OUTDATED\s+固件版本低于要求 （软件问题，", chinese)
    english = run()
    assert "FW-OUTDATED  firmware 1.9.0 is older than the minimum 2.0.0: update required" in english
    assert re.search(r"FW-OUTDATED\s+firmware older than required \[software, unit\]", english)
