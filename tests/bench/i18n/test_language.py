"""Which language the bench speaks, and texts that translate themselves when shown."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from bench import i18n
from bench.errors import UsageError
from bench.i18n.layout import display_width, pad, truncate
from drivers.errors import ConfigError
from drivers.i18n import N_, Text, tr, using_language


@pytest.mark.parametrize(
    ("option", "env", "station", "expected"),
    [
        ("zh_CN", {"BENCH_LANG": "en", "LANG": "en_US.UTF-8"}, "en", "zh_CN"),
        (None, {"BENCH_LANG": "zh-CN", "LANG": "en_US.UTF-8"}, "en", "zh_CN"),
        (None, {"LANG": "en_US.UTF-8"}, "zh", "zh_CN"),
        (None, {"LANG": "zh_CN.UTF-8"}, None, "zh_CN"),
        (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, None, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, None, "en"),
        (None, {}, None, "en"),
    ],
)
def test_the_language_comes_from_option_env_station_locale_then_english(option, env, station, expected) -> None:
    assert i18n.choose_language(option, station=station, environ=env) == expected


def test_a_language_the_bench_does_not_speak_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"--lang: unknown language 'fr' \(the bench speaks: en, zh_CN\)"):
        i18n.choose_language("fr", environ={})
    with pytest.raises(UsageError, match="BENCH_LANG"):
        i18n.choose_language(None, environ={"BENCH_LANG": "klingon"})


def test_a_text_is_english_as_a_string_and_translated_when_shown() -> None:
    err = ConfigError("bad field", path="plan.yaml", line=3)
    assert str(err) == "plan.yaml:3: bad field"  # what --json, logs and the store get
    with using_language("zh_CN"):
        assert tr(err) == "plan.yaml:3：bad field"
        assert tr(N_("line {line}", line=7)) == "第 7 行"
        assert tr("line 7") == "line 7"  # plain text (a device's) is never looked up
    assert tr(err) == "plan.yaml:3: bad field"


def test_a_text_survives_the_store_and_pickling() -> None:
    text = N_("{where}: {message}", where=N_("line {line}", line=2), message="no ATR")
    back = Text.from_json(text.to_json())
    assert back == text == "line 2: no ATR"
    with using_language("zh_CN"):
        assert back.translated() == "第 2 行：no ATR"
        assert pickle.loads(pickle.dumps(text)).translated() == "第 2 行：no ATR"
    with pytest.raises(ValueError, match="not a stored text"):
        Text.from_json('{"x": 1}')


def test_dates_and_numbers_follow_the_language() -> None:
    when = datetime(2026, 12, 7, 8, 15, 2)
    assert i18n.format_datetime(when, language="en") == "2026-12-07 08:15:02"
    assert i18n.format_datetime(when, language="zh_CN") == "2026年12月7日 08:15:02"
    assert i18n.format_date(date(2026, 12, 7), language="zh_CN") == "2026年12月7日"
    assert i18n.format_number(12345.678, decimals=2, language="zh_CN") == "12,345.68"


def test_wide_characters_take_two_columns() -> None:
    assert display_width("打印机 OK") == 9
    assert pad("按键", 6) + "|" == "按键  |"
    assert pad("ok", 4, ">") == "  ok"
    assert truncate("自检通过了吗", 7) == "自检通…"
    assert display_width(truncate("自检通过了吗", 7)) <= 7


def test_the_command_line_says_errors_in_the_chosen_language(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("name: x\nsteps: [\n", encoding="utf-8")
    for env, sep in (({"BENCH_LANG": "zh_CN"}, "："), ({"LANG": "C.UTF-8"}, ": ")):
        out = subprocess.run([sys.executable, "-m", "bench", "run", str(plan), "--sim"], capture_output=True,
                             text=True, env={"PATH": "/usr/bin:/bin", **env}, timeout=60)
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith(f"bench: error: {plan}:"), out.stderr
        assert sep in out.stderr.split(str(plan), 1)[1], out.stderr
