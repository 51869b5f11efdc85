"""The stock YAML files' texts: extracted for the catalogue by Babel, shown translated by `bench list`."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from bench.i18n import CATALOGUE_DIR
from bench.i18n.catalogue import extracted
from bench.i18n.yamltexts import catalogued, extract
from drivers.i18n import tr, using_language

ROOT = Path(__file__).resolve().parents[3]
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _bench(*args: str, lang: str = "zh_CN") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "BENCH_LANG": lang, "HOME": str(ROOT)})


def test_the_extractor_finds_descriptions_prompts_and_questions_with_their_lines() -> None:
    plan = (b"plan: p\nversion: '1'\ndescription: What it is for\nsteps:\n"
            b"  - name: a\n    check: intake.inspect\n    prompt: Open the cover\n"
            b"    params: {question: Is it dry?, fault: CASE-LIQUID}\n"
            b"  - {name: b, check: unit.identify, description: Who it is}\n")
    got = [(line, text) for line, _, text, _ in extract(io.BytesIO(plan), {}, [], {})]
    assert got == [(3, "What it is for"), (7, "Open the cover"), (8, "Is it dry?"), (9, "Who it is")]
    assert list(extract(io.BytesIO(b"plan: [unclosed\n"), {}, [], {})) == []  # the plan check reports it


def test_babel_cfg_sends_the_stock_yaml_files_to_the_extractor() -> None:
    with open(CATALOGUE_DIR / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    scenarios = {m for _, _, m, _, _ in extract_from_dir(str(ROOT / "drivers"), method_map, options_map,
                                                          keywords=DEFAULT_KEYWORDS)}
    assert "a healthy unit; every check passes" in scenarios
    wanted = extracted()
    assert "testplans/pos-quick.yaml" in wanted["Quick intake check (identity, self-test, battery, tamper)"]
    assert "testplans/intake.yaml" in wanted["Is the screen free of cracks?"]


def test_bench_list_shows_checks_plans_and_scenarios_in_chinese() -> None:
    proc = _bench("list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(re.match(r"\s+unit\.tamper\s+安全状态：未被拆机，密钥完好$", line) for line in lines), proc.stdout
    assert any(line.startswith("  testplans/pos-quick.yaml ") and line.endswith("快速初步检查（身份、自检、电池、防拆）")
               for line in lines), proc.stdout
    assert any(re.match(r"\s+printer-head-hot\s+打印头报告过热$", line) for line in lines)
    english = _bench("list", lang="en").stdout
    assert re.search(r"\n  printer-head-hot\s+the print head reports overheating\n", english)
    assert not _HAN.search(english)


def test_bench_list_json_stays_english() -> None:
    data = json.loads(_bench("list", "--json").stdout)
    plan = next(p for p in data["plans"] if p.get("name") == "pos-quick")
    assert plan["description"] == "Quick intake check (identity, self-test, battery, tamper)"
    assert data["scenario_descriptions"]["printer-head-hot"] == "the print head reports overheating"
    assert "printer-head-hot" in data["scenarios"]
    assert next(c for c in data["checks"] if c["name"] == "unit.tamper")["summary"] == (
        "security state: not tampered, keys present")


def test_a_users_own_plan_shows_as_written(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "plan: mine\nversion: '1'\ndescription: Meine eigene Prüfung\nsteps:\n  - {name: id, check: unit.identify}\n",
        encoding="utf-8")
    proc = _bench("list", "--plans-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith(f"  {tmp_path / 'mine.yaml'} ") and line.endswith("。Meine eigene Prüfung")
               for line in proc.stdout.splitlines()), proc.stdout
    with using_language("zh_CN"):
        assert tr(catalogued("Meine eigene Prüfung")) == "Meine eigene Prüfung"
        assert tr(catalogued("Is the screen free of cracks?")) == "屏幕是否完好无破裂？"
