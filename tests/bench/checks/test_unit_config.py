"""unit.config through the real CLI on the simulated bench: every difference in a technician's words,
writing the merchant's values back, and a profile the plan names checked when the plan loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _run(tmp_path: Path, plan: str, config: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    scenario = tmp_path / "unit.yaml"
    scenario.write_text(json.dumps({"spec": 2, "device": {"unit": {"base": "good", "config": config}}}))
    common = ("--sim", "--scenario", str(scenario), "--db", f"sqlite:///{tmp_path / 'b.db'}",
              "--report", str(tmp_path / "reports"))
    proc = _bench("run", plan, *common, "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    text = _bench("run", plan, *common)
    return proc.returncode, json.loads(proc.stdout), text.stdout


def _config_step(record: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in record["steps"] if s["check"] == "unit.config")


def test_every_difference_is_listed_in_a_technicians_words(tmp_path: Path) -> None:
    code, record, text = _run(tmp_path, "merchant-config", {"settings": {
        "merchant_id": None, "terminal_id": "PT300009", "receipt_header": ["DEMO CAFE"],
        "network": {"wifi": {"ssid": "CAFE-GUEST"}}}})
    says = ["terminal id is PT300009, expected PT300001", "merchant id is not set (expected 104110070110001)",
            "receipt header line 2 is not set (expected 1 MAIN STREET, SHANGHAI)",
            "Wi-Fi SSID is CAFE-GUEST, expected DEMO-POS"]
    assert code == 1 and record["verdict"] == "FAIL"
    step = _config_step(record)
    assert step["message"] == "; ".join(says)
    assert {f["fault"] for f in record["findings"]} == {"CFG-MISSING", "CFG-MISMATCH"}
    failed = {m["name"]: m["fault"] for m in step["measurements"] if not m["passed"]}
    assert failed == {"config.terminal_id": "CFG-MISMATCH", "config.merchant_id": "CFG-MISSING",
                      "config.receipt_header.2": "CFG-MISSING", "config.network.wifi.ssid": "CFG-MISMATCH"}
    judged = [m for m in step["measurements"] if m["limit"]]
    assert len(judged) == 13  # one per setting demo-cafe.toml names
    assert "merchant id is not set (expected 104110070110001)" in text


def test_writing_sets_only_what_differs_and_judges_what_the_unit_reports_after(tmp_path: Path) -> None:
    code, record, _ = _run(tmp_path, "reactivation", {"settings": {"merchant_id": None,
                                                                   "acquirer_host": "tcp://10.0.0.1:1"}})
    assert code == 0 and record["verdict"] == "PASS", record["summary"]
    step = _config_step(record)
    values = {m["name"]: m["value"] for m in step["measurements"]}
    assert (values["config.differences_found"], values["config.written"]) == (2, 2)
    assert values["config.merchant_id"] == "104110070110001"
    assert values["config.acquirer_host"] == "tcp://10.20.30.40:8583"


@pytest.mark.parametrize(("config", "fault", "message"), [
    ({"settings": {"merchant_id": None}, "forgets": ["merchant_id"]}, "CFG-MISSING",
     "merchant id is not set (expected 104110070110001); the unit did not keep the value written"),
    ({"settings": {"timezone": "UTC"}, "read_only": ["timezone"]}, "CFG-MISMATCH",
     "time zone is UTC, expected Asia/Shanghai; writing it failed (read-only)"),
])
def test_a_value_the_unit_refuses_or_forgets_still_fails(tmp_path: Path, config: dict[str, Any], fault: str,
                                                         message: str) -> None:
    code, record, _ = _run(tmp_path, "reactivation", config)
    step = _config_step(record)
    assert code == 1 and (step["fault"], step["message"]) == (fault, message)


def test_a_profile_given_as_a_path_is_used(tmp_path: Path) -> None:
    profile = tmp_path / "tea-room.toml"
    profile.write_text('merchant = "Tea Room"\n[settings]\nmerchant_id = "TEA0001"\n')
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"plan: tea\nsteps:\n  - name: config\n    check: unit.config\n"
                    f"    params: {{profile: {profile}}}\n")
    code, record, _ = _run(tmp_path, str(plan), {})
    assert code == 1 and _config_step(record)["message"] == "merchant id is 104110070110001, expected TEA0001"
    assert "Tea Room" in " ".join(_config_step(record)["log"])


@pytest.mark.parametrize(("params", "says"), [
    ("{profile: demo-cafee}", "no merchant profile named 'demo-cafee' (a file, or a name in testplans/merchants/"),
    ("{profile: demo-cafe, write: maybe}", "write"),
])
def test_a_bad_profile_is_a_plan_error_at_load(tmp_path: Path, params: str, says: str) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"plan: mine\nsteps:\n  - name: config\n    check: unit.config\n    params: {params}\n")
    proc = _bench("plan", "check", str(plan))
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bench: error: {plan}:5: ") and says in lines[0], lines


def test_a_malformed_profile_names_its_file_and_line(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text('[settings]\nmerchant_id = "104110070110001"\nterminal_id = "PT3"\n')
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"plan: mine\nsteps:\n  - name: config\n    check: unit.config\n    params: {{profile: {profile}}}\n")
    proc = _bench("plan", "check", str(plan))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"bench: error: {profile}:3: terminal id must be 8 letters"), proc.stderr


def test_a_card_number_in_a_setting_is_masked_on_the_console_too(tmp_path: Path) -> None:
    # Review of #18: the reports masked it, the step's line on the console showed it whole.
    code, record, text = _run(tmp_path, "merchant-config", {"settings": {"receipt_header": ["4111 1111 1111 1111"]}})
    assert code == 1
    assert "receipt header line 1 is 411111******1111, expected DEMO CAFE" in text
    assert "4111 1111 1111 1111" not in text and "4111 1111 1111 1111" not in json.dumps(record)
