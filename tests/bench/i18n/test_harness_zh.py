"""The harness's own words in Simplified Chinese (``BENCH_LANG=zh_CN``), through the real CLI where a person reads
them: plan and station errors naming file, line and field, a lot's decision, a case's refusal, the operator's
prompts; English unchanged without it, ``--json`` and the stored record English either way."""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cases.evidence import CaseEvidence
from bench.cases.judgement import judge
from bench.checks.base import CheckSpec
from bench.cli.main import main
from bench.devices import DeviceSet
from bench.errors import DeviceError
from bench.i18n import activate
from bench.operator import Operator, ScriptedOperator
from bench.plan import Plan, Step
from bench.record import Outcome, RunRecord, StepRecord, UnitInfo, Verdict, utcnow
from bench.runner import DECLINED, Runner
from bench.slotoperator import PromptQueue, SlotOperator
from drivers.i18n import N_, Text, tr, using_language
from drivers.yamlsafe import show_value


@pytest.fixture(autouse=True)
def _english_after() -> Iterator[None]:
    """The CLI makes the language the process's: give the next test English back."""
    yield
    activate("en")


def bench(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lang: str | None,
          *args: str) -> tuple[int, str, str]:
    """The real CLI in this process, in ``lang`` (``BENCH_LANG``; None: the locale's, here English)."""
    if lang is None:
        monkeypatch.delenv("BENCH_LANG", raising=False)
    else:
        monkeypatch.setenv("BENCH_LANG", lang)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    got = capsys.readouterr()
    return int(ended.value.code or 0), got.out, got.err


BAD_PLAN = "plan: x\nsteps:\n  - check: unit.identify\n    timeoutt: 5\n"


def test_a_plan_error_names_file_line_and_field_in_chinese(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text(BAD_PLAN)
    code, out, err = bench(capsys, monkeypatch, "zh_CN", "run", str(plan), "--sim")
    assert (code, out) == (2, "")
    assert err == f"bench: error: {plan}:4：未知字段 'timeoutt'；您是否指 'timeout'？（位置：steps[0].'timeoutt'）\n"
    code, out, err = bench(capsys, monkeypatch, None, "run", str(plan), "--sim")
    assert (code, out) == (2, "")
    assert err == f"bench: error: {plan}:4: unknown field 'timeoutt'; did you mean 'timeout'? (at steps[0].'timeoutt')\n"


def test_a_plan_error_composed_of_texts_translates_each_part(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plan = tmp_path / "long.yaml"
    plan.write_text("plan: x\nsteps:\n  - check: unit.identify\n    name: " + "n" * 70 + "\n")
    code, _, err = bench(capsys, monkeypatch, "zh_CN", "run", str(plan), "--sim")
    assert code == 2
    assert err == f"bench: error: {plan}:4：步骤名称 {show_value('n' * 70)} 有 70 个字符；最多 64 个（位置：steps[0].name）\n"


def test_a_station_error_in_chinese(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    station = tmp_path / "bench1.toml"
    station.write_text('name = "bench1"\n[devices]\nunit = "serial:///dev/ttyX"\n')
    code, out, err = bench(capsys, monkeypatch, "zh_CN", "station", "check", str(station))
    assert (code, out) == (2, "")
    assert err == (f"bench: error: {station}:3：unit 的 URL 不能以 serial:// 开头（'serial:///dev/ttyX'）；"
                   "可用：设备路径、socket://, rfc2217://, loop://（位置：devices.unit）\n")
    code, out, err = bench(capsys, monkeypatch, None, "station", "check", str(station))
    assert err == (f"bench: error: {station}:3: a unit URL cannot start with serial:// ('serial:///dev/ttyX'); "
                   "known: a device path, socket://, rfc2217://, loop:// (at devices.unit)\n")
    station.write_text('name = "bench1"\n[slots.1]\nunit = "/dev/ttyS1"\n[slots.2]\nunit = "/dev/ttyS1"\n')
    code, _, err = bench(capsys, monkeypatch, "zh_CN", "station", "check", str(station))
    assert code == 2
    assert err == (f"bench: error: {station}:5：槽位 1 和 2 都指定了 unit '/dev/ttyS1'；所有槽位共用的设备应写在 [devices] "
                   "中（位置：slots.2.unit）\n")


def test_a_lot_decision_in_chinese_and_its_json_in_english(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_db: str,
                                                          tmp_path: Path) -> None:
    code, _, _ = bench(capsys, monkeypatch, "zh_CN", "inspect", "demo", "--lot-size", "10", "--defect-rate", "1.0",
                       "--seed", "1", "--lot", "L1", "--db", tmp_db, "--out", str(tmp_path / "lot"))
    assert code == 0
    code, out, err = bench(capsys, monkeypatch, "zh_CN", "run", "pos-quick", "--sim", "--lot", "L1", "--db", tmp_db)
    assert (code, out) == (2, "")
    assert err == "bench: error: 批次 L1 已判定：不合格（已测 1 台中有 1 台不合格，Ac 0，Re 1）；该批次不再测试更多设备\n"
    code, _, err = bench(capsys, monkeypatch, None, "run", "pos-quick", "--sim", "--lot", "L1", "--db", tmp_db)
    assert err == ("bench: error: lot L1 is already decided: REJECT (1 defective(s) in 1 unit(s) tested, Ac 0, Re 1); "
                   "no more units are tested for it\n")
    code, out, _ = bench(capsys, monkeypatch, "zh_CN", "inspect", "status", "L1", "--db", tmp_db, "--json")
    doc = json.loads(out)
    assert (code, doc["decision"]) == (0, "REJECT")


def test_a_case_refusal_in_chinese(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                   tmp_db: str) -> None:
    code, _, _ = bench(capsys, monkeypatch, None, "case", "open", "SN-1", "--complaint", "dead", "--db", tmp_db)
    assert code == 0
    code, out, err = bench(capsys, monkeypatch, "zh_CN", "case", "open", "SN-1", "--complaint", "again", "--db", tmp_db)
    assert (code, out) == (2, "")
    assert err == "bench: error: 设备 SN-1 已有未结的维修单 C1：请先关闭它再新开\n"


def _run(verdict: Verdict, *steps: StepRecord) -> RunRecord:
    rec = RunRecord(run_id="r" * 8 + "-1", plan_name="pos-quick", plan_version="1", plan_hash="", station="s",
                    operator="o", started_at=utcnow(), unit=UnitInfo("PT-300", "SN-1", "B", "2.4.1"))
    rec.steps.extend(steps)
    rec.verdict = verdict
    return rec


def test_a_case_judgement_line_in_chinese_its_english_unchanged() -> None:
    failed = StepRecord(0, "battery", "power.battery", Outcome.FAIL, utcnow(), 0.1, 1, "PWR-BATT-LOW", "low")
    judgement = judge(CaseEvidence([_run(Verdict.FAIL, failed)], serial="SN-1", model="PT-300", complaint="dead"))
    assert isinstance(judgement.summary, Text)
    english = str(judgement.summary)
    assert english.startswith("consumable: ") and " -> " in english
    assert json.loads(json.dumps(judgement.to_dict()))["summary"] == english  # --json and the store: English
    with using_language("zh_CN"):
        shown = tr(judgement.summary)
    assert shown.startswith("耗材：") and " -> " in shown
    with using_language("zh_CN"):
        none = tr(judge(CaseEvidence([_run(Verdict.PASS)], serial="SN-1", model="PT-300", complaint="dead")).summary)
    assert none == "无：经过 1 次测试，设备中已无故障；客户描述的故障未复现：dead"


class Asked(Operator):
    """A person who answers yes and remembers each question as shown to them."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def confirm(self, question: str, *, timeout: float) -> bool:
        self.shown.append(tr(question))
        return True

    def choose(self, question: str, options: object, *, timeout: float) -> str:
        raise AssertionError

    def ask_text(self, question: str, *, timeout: float) -> str:
        raise AssertionError

    def perform(self, action: str, instruction: str, **details: object) -> None:
        self.shown.append(tr(instruction))


def test_a_slot_prompt_is_shown_in_chinese_and_a_script_still_answers_it_by_its_english_key() -> None:
    person = Asked()
    slot = SlotOperator(person, 3, PromptQueue())
    activate("zh_CN")
    assert slot.confirm("Connect the diagnostic cable", timeout=1)
    slot.perform("insert_card", N_("operator skipped the step"))
    assert person.shown == ["槽位 3：Connect the diagnostic cable", "槽位 3：操作员跳过了此步骤"]
    scripted = SlotOperator(ScriptedOperator({"slot 3: Connect the diagnostic cable": False}), 3, PromptQueue())
    assert scripted.confirm("Connect the diagnostic cable", timeout=1) is False


PROMPTED = """plan: prompted
steps:
  - name: identify
    check: unit.identify
  - name: cable
    check: unit.identify
    prompt: Connect the diagnostic cable
"""


@pytest.mark.parametrize("lang", ["zh_CN", None])
def test_scripted_answers_match_by_prompt_in_any_language_and_json_stays_english(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_db: str,
        lang: str | None) -> None:
    plan = tmp_path / "prompted.yaml"
    plan.write_text(PROMPTED)
    script = tmp_path / "answers.yaml"
    script.write_text('answers:\n  "Connect the diagnostic cable": false\n  "*": true\n')
    code, out, _ = bench(capsys, monkeypatch, lang, "run", str(plan), "--sim", "--operator-script", str(script),
                         "--db", tmp_db, "--json")
    rec = json.loads(out)
    cable = next(s for s in rec["steps"] if s["name"] == "cable")
    assert (rec["verdict"], cable["outcome"], cable["fault"], cable["message"]) == (
        "INCOMPLETE", "SKIP", "OP-SKIPPED", "operator skipped the step")
    assert code == Verdict.INCOMPLETE.exit_code


def test_a_step_message_stays_a_text_from_the_exception_to_the_step_record() -> None:
    def dead(ctx: object) -> None:
        raise DeviceError(N_("no operator response to {question!r}", question="ready?"), fault_code="UNIT-FAULT")

    def step(name: str, func: object, prompt: str | None = None) -> Step:
        return Step(name=name, check=CheckSpec(f"x.{name}", func, name), params={}, limits={}, timeout=5.0,
                    retries=0, prompt=prompt)

    plan = Plan("t", "1", "", (step("a", dead), step("b", lambda ctx: None, prompt="go?")))
    rec = Runner(plan, DeviceSet({}), ScriptedOperator({"go?": False})).run()
    first, second = rec.steps
    assert isinstance(first.message, Text) and first.message == "no operator response to 'ready?'"
    assert second.message == DECLINED and isinstance(second.message, Text)
    with using_language("zh_CN"):
        assert (tr(first.message), tr(second.message)) == ("操作员没有回答 'ready?'", "操作员跳过了此步骤")
    assert rec.to_dict()["steps"][0]["message"] == "no operator response to 'ready?'"


def test_the_pytest_plugin_speaks_the_language_asked_for(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(unit):\n    pass\n")

    def pytest_run(lang: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("BENCH_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=tmp_path,
                              env={**env, **({"BENCH_LANG": lang} if lang else {})}, capture_output=True, text=True,
                              timeout=120)

    refused = pytest_run("zh_CN", "--bench-sim", "--bench-station", "x.toml", "test_x.py")
    assert refused.returncode == 4
    assert "ERROR: --bench-sim 与 --bench-station 不能同时使用：测试模拟测试台或一个工位，二选一" in refused.stderr
    english = pytest_run(None, "--bench-sim", "--bench-station", "x.toml", "test_x.py")
    assert "ERROR: --bench-sim and --bench-station exclude each other: test the simulated bench or a station" in (
        english.stderr)
    helped = pytest_run("zh_CN", "--help")
    assert "为本次会话启动模拟测试台，结束后将其关闭" in " ".join(helped.stdout.split())


def test_a_case_judgement_line_through_the_cli_in_chinese(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_db: str,
                                                          tmp_path: Path) -> None:
    bench(capsys, monkeypatch, None, "case", "open", "SN-1", "--complaint", "dead", "--db", tmp_db)
    code, _, _ = bench(capsys, monkeypatch, "zh_CN", "run", "pos-quick", "--sim", "--scenario", "battery-low",
                       "--case", "C1", "--db", tmp_db, "--report", str(tmp_path / "r"))
    assert code == 1
    _, out, _ = bench(capsys, monkeypatch, "zh_CN", "case", "show", "C1", "--db", tmp_db)
    line = next(ln for ln in out.splitlines() if "PWR-BATT-LOW" not in ln and " -> " in ln)
    assert line.endswith("耗材：电池电量或电压过低 -> 电池"), line  # the verdict's word, the finding, the part
    finding = next(ln for ln in out.splitlines() if ln.startswith("  1. PWR-BATT-LOW"))
    assert re.fullmatch(r"  1\. PWR-BATT-LOW +耗材 +严重程度 \d  电池；未结：电池电量或电压过低", finding), finding
    _, out, _ = bench(capsys, monkeypatch, "zh_CN", "case", "repair", "C1", "--action", "replace", "--part", "BAT-300",
                      "--note", "换电池", "--db", tmp_db)
    assert out == "维修单 C1：已记录 更换部件 BAT-300，操作人 " + getpass.getuser() + "\n"
    _, out, _ = bench(capsys, monkeypatch, None, "case", "show", "C1", "--db", tmp_db)
    assert "judgement: consumable: battery charge or voltage too low -> battery" in out.splitlines()
    _, out, _ = bench(capsys, monkeypatch, "zh_CN", "case", "show", "C1", "--db", tmp_db, "--json")
    assert json.loads(out)["judgement"]["summary"] == "consumable: battery charge or voltage too low -> battery"
    code, _, err = bench(capsys, monkeypatch, "zh_CN", "case", "close", "C1", "--db", tmp_db)
    assert code == 1
    assert "维修单 C1 不能以“已修复”关闭：它最近一次测试 " in err and "的结果为失败；请测试设备直到有一次测试通过" in err


def test_an_operator_prompt_at_the_terminal_in_chinese(tmp_path: Path) -> None:
    station = tmp_path / "desk.toml"
    station.write_text('name = "desk"\n[devices]\nunit = "loop://"\n')  # intake needs no device: a person looks

    def intake(lang: str | None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("BENCH_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
        return subprocess.run([sys.executable, "-m", "bench", "run", "intake", "--station", str(station),
                               "--db", f"sqlite:///{tmp_path / 'b.db'}", "--report", str(tmp_path / "r")],
                              input="y\ny\nn\ny\ny\ny\n", env={**env, **({"BENCH_LANG": lang} if lang else {})},
                              capture_output=True, text=True, timeout=120)

    zh = intake("zh_CN")
    assert zh.returncode == 1  # the housing answered "no": the unit failed intake
    assert zh.stderr.startswith("屏幕是否完好无破裂？"), zh.stderr  # the question asked, in Chinese
    assert "Is the screen" not in zh.stderr
    en = intake(None)
    assert en.returncode == 1
    assert en.stderr.startswith("Is the screen free of cracks? [y/n] "), en.stderr


def test_the_lot_demo_names_a_units_fault_in_chinese_brackets(capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch, tmp_db: str,
                                                              tmp_path: Path) -> None:
    code, out, err = bench(capsys, monkeypatch, "zh_CN", "inspect", "demo", "--lot-size", "20", "--defect-rate", "0.3",
                           "--seed", "3", "--db", tmp_db, "--out", str(tmp_path / "lot"))
    assert code == 0, err
    failed = [ln for ln in out.splitlines() if "：失败" in ln]
    assert failed and all(re.search(r"：失败 （[a-z-]+）  \d+\.\d s$", ln) for ln in failed), failed
    assert "\n判定：不合格\n" in out
