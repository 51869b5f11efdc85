"""The command line in Simplified Chinese: output, help, Click's own words, usage errors, aligned tables;
``--json`` the same in both languages; ``--lang``, ``BENCH_LANG`` and the station file's ``lang``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from rich.console import Console

from bench import i18n
from bench.cli.clicktr import Command, Group, short_help, wrap_text
from bench.cli.main import cli
from bench.cli.multiconsole import MultiConsole
from bench.i18n.layout import display_width
from tests.bench.cli.test_multiconsole import PLAN, RICH_OWN, live_console, run_four

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u4e00-\u9fff\uff00-\uffef\u3000-\u303f]")


def bench(*args: str, cwd: Path = ROOT, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """``bench ARGS`` in a process whose locale says nothing (English unless told), 80 columns."""
    base = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "BENCH_LANG")}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**base, "COLUMNS": "80", **env})


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture
def chinese() -> Iterator[None]:
    """This process speaks Chinese (every thread: rich draws from its own), English again afterwards."""
    i18n.activate("zh_CN")
    try:
        yield
    finally:
        i18n.activate("en")


# --------------------------------------------------------------------------- output and choosing the language
def test_list_speaks_chinese_with_lang_and_english_without() -> None:
    zh = bench("--lang", "zh_CN", "list")
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith("检查项：\n")
    assert "测试计划（按名称运行，例如 `bench run pos-quick --sim`；查找位置：" in zh.stdout
    assert "\n模拟场景（bench run --sim --scenario 名称）：" in zh.stdout and "个步骤。" in zh.stdout
    plans = [line for line in zh.stdout.splitlines() if line.startswith("  testplans/")]
    starts = {m.end() for line in plans if (m := re.match(r"  \S+ +", line))}
    assert len(plans) > 3 and len(starts) == 1, plans  # the plan names start in one column, after the longest path too
    en = bench("list")
    assert en.stdout.startswith("Checks:\n") and "\nScenarios (bench run --sim --scenario NAME):" in en.stdout and not CJK.search(en.stdout)


def test_bench_lang_and_the_locale_choose_when_no_option_does() -> None:
    assert bench("list", BENCH_LANG="zh_CN").stdout.startswith("检查项：")
    assert bench("list", LANG="zh_CN.UTF-8").stdout.startswith("检查项：")
    assert bench("--lang", "en", "list", BENCH_LANG="zh_CN").stdout.startswith("Checks:")
    bad = bench("--lang", "fr", "list")
    assert bad.returncode == 2
    assert error_line(bad) == "bench: error: --lang: unknown language 'fr' (the bench speaks: en, zh_CN)"


def test_json_is_the_same_in_both_languages() -> None:
    for args in (["list", "--json"], ["plan", "check", "pos-quick", "--json"],
                 ["inspect", "plan", "--lot-size", "500", "--aql", "1.0", "--json"]):
        en, zh = bench(*args), bench("--lang", "zh_CN", *args)
        assert en.returncode == zh.returncode == 0, zh.stderr
        assert zh.stdout == en.stdout
        json.loads(zh.stdout)


def test_the_station_files_lang_is_spoken_unless_the_option_or_bench_lang_says_otherwise(tmp_path: Path) -> None:
    station = tmp_path / "bench-7.toml"
    station.write_text('name = "bench-7"\nlang = "zh-CN"\n[devices]\nunit = "/dev/i18ncli-no-such-port"\n')
    zh = bench("station", "check", str(station))
    assert zh.returncode == 3
    assert zh.stdout.splitlines()[0] == f"工位 bench-7（{station}）：检查了 1 个槽位，1 个设备"
    assert "/dev/i18ncli-no-such-port  失败  " in zh.stdout
    assert zh.stdout.rstrip().endswith("1 个设备中有 0 个应答；无应答：槽位 1。")
    for en in (bench("station", "check", str(station), BENCH_LANG="en"),
               bench("--lang", "en", "station", "check", str(station))):
        assert en.stdout.splitlines()[0] == f"Station bench-7 ({station}): 1 slot checked, 1 device"
    station.write_text('name = "bench-7"\nlang = "fr"\n[devices]\nunit = "/dev/i18ncli-no-such-port"\n')
    bad = bench("station", "check", str(station))
    assert bad.returncode == 2 and "unknown language 'fr'" in error_line(bad)


# --------------------------------------------------------------------------- help and Click's own words
def test_help_is_chinese_when_the_language_comes_before_the_command() -> None:
    out = bench("--lang", "zh_CN", "run", "--help")
    assert out.returncode == 0
    text = out.stdout
    assert text.startswith("用法：bench run [OPTIONS] PLAN\n")
    assert "在工位的设备上（或用 --sim 在模拟测试台上）运行测试计划 PLAN" in text  # the command's docstring
    assert "\n选项：\n" in text
    assert "启动模拟测试台，在其上运行测试，然后关闭。" in text  # an option's help=N_(...)
    assert "显示此帮助并退出。" in text and "[默认：reports]" in text  # Click's own words
    assert "Show this message" not in text and "Start the simulated" not in text
    assert all(display_width(line) <= 80 for line in text.splitlines()), text
    top = bench("--lang", "zh_CN", "--help").stdout
    assert "\n命令：\n" in top and "处理测试计划" in top and "显示版本并退出。" in top
    assert all(display_width(line) <= 80 for line in top.splitlines()), top
    assert "Show this message and exit." in bench("run", "--help").stdout  # and English stays English


def test_usage_errors_are_one_chinese_line() -> None:
    cases = {
        ("run", "pos-quick", "--sim", "--units", "0"): "bench: error: --units：0 不在范围 1<=x<=16 内",
        ("run", "pos-quick", "--sim", "--units", "x"): "bench: error: --units：'x' 不是有效的整数范围",
        ("run",): "bench: error: 缺少 PLAN（参见：bench run --help）",
        ("run", "--bogus"): "bench: error: 没有此选项：--bogus（参见：bench run --help）",
        ("run", "pos-quick", "--report"): "bench: error: --report 需要一个值（参见：bench run --help）",
        ("nosuch",): "bench: error: 没有命令 'nosuch'（参见：bench --help）",
        ("run", "pos-quick"): "bench: error: 请给出 --station FILE（真实测试台）或 --sim（模拟测试台）其中之一",
        ("report", "latest", "--format", "pdf"):
            "bench: error: --format：'pdf' 不是 'html', 'json', 'junit', 'rma', 'rma-json' 之一",
    }
    for args, line in cases.items():
        proc = bench("--lang", "zh_CN", *args)
        assert proc.returncode == 2, proc.stderr
        assert error_line(proc) == line
    unknown = bench("--lang", "fr", "list", BENCH_LANG="zh_CN")  # said in the language the bench speaks without it
    assert unknown.returncode == 2 and error_line(unknown) == "bench: error: --lang：未知语言 'fr'（本测试台支持：en, zh_CN）"
    assert error_line(bench("--lang", "fr", "list")) == "bench: error: --lang: unknown language 'fr' (the bench speaks: en, zh_CN)"


def test_every_command_translates_its_help() -> None:
    def walk(cmd: click.Command) -> Iterator[click.Command]:
        yield cmd
        if isinstance(cmd, click.Group):
            for sub in cmd.commands.values():
                yield from walk(sub)

    plain = [c.name for c in walk(cli) if not isinstance(c, Command | Group)]
    assert not plain, f"commands whose help would stay English: {plain}"


def test_help_wraps_chinese_by_display_width() -> None:
    text = "与 --units 同用时，SLOT=NAME 只用于该槽位（可重复给出）；其他槽位运行 NAME 或 'good'。" * 2
    lines = wrap_text(text, 30, "  ", "  ").splitlines()
    assert len(lines) > 3 and all(display_width(line) <= 30 for line in lines)
    assert not any(line.strip().startswith(("，", "。", "；", "）")) for line in lines)  # no line opens on punctuation
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert wrap_text("plain English words here", 10) == "plain\nEnglish\nwords here"  # Click's own wrapping
    assert short_help("维修单：设备送来时开单，关联其测试和维修。第二句。", 80) == "维修单：设备送来时开单，关联其测试和维修"
    assert display_width(short_help("保持一个模拟测试台运行，供手工操作，" * 4, 20)) <= 20


# --------------------------------------------------------------------------- runs and tables
@pytest.mark.slow
def test_a_simulated_run_and_its_history_in_chinese(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    good = bench("run", "pos-quick", "--sim", "--db", db, "--report", str(tmp_path), BENCH_LANG="zh_CN")
    assert good.returncode == 0, good.stderr
    lines = good.stdout.splitlines()
    assert lines[0].startswith("bench run  pos-quick 1.0  设备 PT-300 PT3-000123（固件 ")
    assert re.match(r"^  1/5  identify \.+ 通过 +\d+\.\d\d s$", lines[1]), lines[1]
    assert "\n结论：通过  （5 通过）  " in good.stdout and "\n报告：" in good.stdout
    bad = bench("run", "pos-quick", "--sim", "--scenario", "battery-low", "--db", db, "--report", str(tmp_path),
                "--json", BENCH_LANG="zh_CN")
    assert bad.returncode == 1, bad.stderr
    record = json.loads(bad.stdout)
    assert record["verdict"] == "FAIL" and {s["outcome"] for s in record["steps"]} == {"PASS", "FAIL"}
    assert not CJK.search(bad.stdout)  # machine output stays English
    history = bench("--lang", "zh_CN", "history", "PT3-000123", "--db", db)
    assert history.returncode == 0, history.stderr
    rows = [line for line in history.stdout.splitlines() if " pos-quick " in line]
    assert len(rows) == 2 and "失败" in rows[0] and "通过" in rows[1]
    assert len({display_width(row[:row.index(" pos-quick ")]) for row in rows}) == 1  # the columns line up
    assert history.stdout.splitlines()[0].startswith("PT3-000123（PT-300）：2 次测试，最新的在前（UTC）")
    assert "最近一次通过：" in history.stdout and "年" in rows[0]  # the date in Chinese


def test_a_failing_run_and_a_sale_in_chinese_punctuation_and_words(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    bad = bench("run", "pos-quick", "--sim", "--scenario", "battery-low", "--db", db, "--report", str(tmp_path),
                BENCH_LANG="zh_CN")
    assert bad.returncode == 1, bad.stderr
    assert "\n结论：失败  （4 通过、1 失败）  设备：" in bad.stdout
    assert "  PWR-BATT-LOW     电池电量或电压过低 （耗材，设备）\n" in bad.stdout
    assert "\n测试编号 " in bad.stdout and "（另有 run.json、junit.xml、故障报告 rma.md）" in bad.stdout
    plan = tmp_path / "sale.yaml"
    plan.write_text('plan: sale-only\nversion: "1.0"\nsteps:\n  - name: transaction\n    check: txn.sale\n'
                    "    params:\n      cards: [emv-visa-contact]\n")
    sale = bench("run", str(plan), "--sim", "--db", db, "--report", str(tmp_path), BENCH_LANG="zh_CN")
    assert sale.returncode == 0, sale.stderr
    assert "  transaction  0/1 (0%)  批准 0  emv-visa-contact\n" in sale.stdout  # the sale's progress line
    assert "approved" not in sale.stdout
    plan.write_text('plan: after-battery\nversion: "1.0"\nsteps:\n  - name: battery\n    check: power.battery\n'
                    "  - name: self-test\n    check: unit.self_test\n    requires: [battery]\n")
    skipped = bench("run", str(plan), "--sim", "--scenario", "battery-low", "--db", db, "--report", str(tmp_path),
                    BENCH_LANG="zh_CN")
    assert re.search(r"\n  2/2  self-test \.+ 跳过 +0\.00 s  需要先通过 battery（失败）\n", skipped.stdout), skipped.stdout


def test_multi_up_end_table_lines_up_in_chinese(chinese: None, capsys: pytest.CaptureFixture[str]) -> None:
    console = MultiConsole([1, 2, 3, 4], PLAN.name, len(PLAN.steps), tty=False)
    results = run_four(console)
    verdicts = [line for line in capsys.readouterr().out.splitlines() if "] 结论 " in line]
    assert len(verdicts) == 3 and all(re.search(r"结论 (通过|失败)  （\d+ 通过(、1 失败)?）", v) for v in verdicts), verdicts
    console.print_summary(list(reversed(results)))
    lines = capsys.readouterr().out.splitlines()
    header, rows, counts = lines[1], lines[2:6], lines[6:]
    assert header.split() == ["槽位", "序列号", "结论", "首个故障", "报告"]
    words = ["通过", "通过", "失败", "错误"]
    assert [r.split()[2] for r in rows[:3]] == words[:3] and rows[3].split()[1] == "错误"
    column = display_width(header[:header.index("结论")])
    assert [display_width(row[:row.index(w)]) for row, w in zip(rows, words, strict=True)] == [column] * 4
    report = display_width(header[:header.index("报告")])
    assert {display_width(row[:row.index("/reports/")]) for row in rows[:3]} == {report}
    assert counts == ["4 台设备：2 通过、1 失败、1 错误"]


def test_multi_up_live_table_measures_chinese_as_two_columns(chinese: None) -> None:
    assert Console().measure("设备").maximum == 4  # rich counts a Chinese character as two cells
    console, buf = live_console(width=100)
    run_four(console)
    text = RICH_OWN.sub("", buf.getvalue())
    frame = text[text.rindex("bench run pos-full："):].splitlines()
    assert frame[0].rstrip() == "bench run pos-full：4 台设备中已完成 4 台"
    table = [line for line in frame[1:] if line.strip()]
    assert "槽位" in table[1] and "设备" in table[1] and "进度" in table[1]
    assert len({display_width(line) for line in table}) == 1  # every row as wide as the frame
    assert any("通过" in line for line in table) and any("测试台错误：" in line for line in table)
