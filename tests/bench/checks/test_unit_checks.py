"""The unit, power and comms checks against a fake unit: each fault gives its own fault code."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeUnit

sys.path.insert(0, str(Path(__file__).parent))
from hmichecks import run_check as hmi_run_check
from hmichecks import sim_unit

from bench import checks
from bench.checks.base import StepContext
from bench.errors import DeviceError
from bench.operator import ScriptedOperator
from drivers.interfaces import BatteryStatus, CommsResult, LogEntry, SelfTestResult, TamperState


def run_check(name: str, unit: FakeUnit, **params: Any) -> tuple[StepContext, str | None]:
    spec = checks.get(name)
    full = {k: p.default for k, p in spec.params.items()}
    full.update(params)
    ctx = StepContext(step=name, spec=spec, params=full, limits=dict(spec.measurements), devices={"unit": unit},
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 5)
    try:
        spec.func(ctx)
    except DeviceError as exc:
        return ctx, exc.fault_code
    failed = [m for m in ctx.measurements if not m.passed]
    return ctx, failed[0].fault if failed else None


def test_identify_passes_and_old_firmware_needs_update() -> None:
    assert run_check("unit.identify", FakeUnit(), min_firmware="2.0.0")[1] is None
    _, fault = run_check("unit.identify", FakeUnit(firmware="1.9.0"), min_firmware="2.0.0")
    assert fault == "FW-OUTDATED"
    assert run_check("unit.identify", FakeUnit(firmware="2.10.0"), min_firmware="2.9.1")[1] is None


def test_self_test_names_the_failed_part() -> None:
    post = [SelfTestResult("ram", True, 0), SelfTestResult("flash", False, 0x0203, "bad block"),
            SelfTestResult("rtc", True, 0), SelfTestResult("secure_element", True, 0)]
    ctx, fault = run_check("unit.self_test", FakeUnit(post=post))
    assert fault == "UNIT-POST-FLASH"
    assert any("flash: FAIL code 0x0203 (bad block)" in n for n in ctx.notes)


def test_self_test_missing_subsystem_fails() -> None:
    _, fault = run_check("unit.self_test", FakeUnit(post=[SelfTestResult("ram", True, 0)]))
    assert fault == "UNIT-POST"


@pytest.mark.parametrize(
    ("battery", "params", "fault"),
    [
        (BatteryStatus(4.0, 80, True, True), {}, None),
        (BatteryStatus(3.41, 8, False, False), {}, "PWR-BATT-LOW"),
        (BatteryStatus(4.0, 80, False, False), {"require_adapter": True}, "PWR-NO-ADAPTER"),
        (BatteryStatus(4.0, 50, False, True), {}, "PWR-NOT-CHARGING"),
        (BatteryStatus(4.0, 90, False, True), {}, None),
        (BatteryStatus(4.1, 100, False, True), {}, None),
    ],
)
def test_battery(battery: BatteryStatus, params: dict[str, Any], fault: str | None) -> None:
    assert run_check("power.battery", FakeUnit(battery=battery), **params)[1] == fault


def test_tamper() -> None:
    assert run_check("unit.tamper", FakeUnit())[1] is None
    assert run_check("unit.tamper", FakeUnit(tamper=TamperState(True, False, ("mesh-open",))))[1] == "SEC-TAMPER"


def test_event_log_recent_errors_decoded() -> None:
    now = datetime.now(UTC)
    log = [LogEntry(now - timedelta(days=60), 0x0501, "error"),  # old: history, not a fault
           LogEntry(now - timedelta(hours=2), 0x0201, "error"),
           LogEntry(now - timedelta(hours=1), 0x0001, "info")]
    ctx, fault = run_check("unit.event_log", FakeUnit(log=log))
    assert fault == "LOG-ERRORS"
    assert any("E0201 card reader: no ATR" in n for n in ctx.notes)
    assert not any("E0501" in n for n in ctx.notes)
    assert run_check("unit.event_log", FakeUnit(log=log), ignore_codes=["0x0201"])[1] is None


def test_comms() -> None:
    good = [CommsResult("ethernet", True, None, 12.0), CommsResult("wifi", True, -60, 40.0)]
    assert run_check("comms.selftest", FakeUnit(comms=good))[1] is None
    weak = [CommsResult("wifi", True, -101, 40.0)]
    assert run_check("comms.selftest", FakeUnit(comms=weak))[1] == "NET-WEAK-SIGNAL"
    down = [CommsResult("ethernet", False, None, None)]
    assert run_check("comms.selftest", FakeUnit(comms=down))[1] == "NET-NO-LINK"
    assert run_check("comms.selftest", FakeUnit(comms=good), interfaces=["cellular"])[1] == "NET-NO-LINK"


def _values(ctx: StepContext) -> dict[str, Any]:
    return {m.name: m.value for m in ctx.measurements}


def test_link_without_counters_says_so_and_passes() -> None:
    ctx, fault = run_check("unit.link", FakeUnit())
    assert fault is None and ctx.measurements == []
    assert ctx.notes == ["this unit's driver keeps no link counters"]


@pytest.mark.slow
@pytest.mark.parametrize("faults", [{}, {"noise": 4, "rx_noise": 3}])
def test_link_health_over_a_real_pty(faults: dict[str, int]) -> None:
    """A noisy line passes (every frame was resent) but the step says so and measures it."""
    with sim_unit(faults=faults) as (unit, _):
        unit.handshake()
        for _ in range(20):
            unit.battery()
        ctx, codes = hmi_run_check("unit.link", unit)
    values = _values(ctx)
    # 21 exchanges (HELLO and 20 battery readings), each at least a request and its response, which
    # stands for the ACK (docs/protocol.md §3)
    assert codes == set() and values["link.frames"] >= 42
    assert values["link.events_missed"] == 0
    noisy = [n for n in ctx.notes if n.startswith("noisy serial link")]
    if faults:
        # every 4th frame from the unit and every 3rd to it damaged: about 25-30% of all frames
        assert values["link.damaged_from_unit"] > 0 and values["link.damaged_to_unit"] > 0
        assert 10 < values["link.damaged_pct"] < 50 and len(noisy) == 1
    else:
        assert values["link.damaged_pct"] == 0 and values["link.retransmissions"] == 0 and noisy == []
