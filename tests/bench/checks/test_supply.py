"""The power checks on the bench's instruments (power.supply_current, brownout, inrush, charging_current)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import FakeUnit
from PIL import Image

from bench.checks import get
from bench.checks.base import StepContext
from bench.checks.supply import _settle_time
from bench.checks.waveformpng import waveform_png
from bench.devices import DeviceSet
from bench.errors import DeviceError, EquipmentError, Interrupted, PlanError
from bench.operator import ScriptedOperator
from bench.plan import Plan, Step, parse_plan
from bench.runner import Runner
from drivers.acquirer.device import HostDevice
from drivers.instruments.interfaces import InstrumentIdentity, Oscilloscope, PowerSupply, Waveform
from drivers.interfaces import Identity
from drivers.txnproto import TxnRequest, TxnResult, TxnStage

ROOT = Path(__file__).resolve().parents[3]


def test_the_power_checks_are_found_by_their_names() -> None:
    for name, roles in (("power.supply_current", ("unit", "supply")), ("power.sale_current", ("unit", "supply", "host")), ("power.brownout", ("unit", "supply")),
                        ("power.inrush", ("unit", "supply", "scope")),
                        ("power.charging_current", ("unit", "supply"))):
        assert get(name).devices == roles


def test_settle_time_is_when_the_current_stays_within_the_band_of_its_final_value() -> None:
    # 1 ms per sample: off, a 2 A peak at 2 ms, down to 0.2 A by 5 ms, then flat.
    wave = Waveform(1, 1e-3, -1e-3, (0.0, 0.0, 2.0, 1.0, 0.5, 0.21, 0.2, 0.2, 0.2, 0.2))
    peak, at, settled = _settle_time(wave, scale=1.0, band=0.1)
    assert (peak, at, settled) == (2.0, pytest.approx(1e-3), pytest.approx(4e-3))
    assert _settle_time(wave, scale=2.0, band=0.1)[0] == 4.0  # a probe of 2 A per volt


def test_the_waveform_picture_is_a_png_of_the_reports_size() -> None:
    data = waveform_png([0.0, 1e-3, 2e-3], [0.0, 1.5, 0.2], title="inrush", unit="A", marks=((1e-3, "peak"),))
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("PNG", (640, 260))


@pytest.mark.slow
def test_a_sound_unit_passes_the_power_plan_with_its_inrush_picture_in_the_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "testplans/pos-power.yaml", "--sim", "--scenario", "power-good",
         "--json", "--report", str(tmp_path / "reports"), "--db", f"sqlite:///{tmp_path / 'b.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    values = {(s["name"], m["name"]): m["value"] for s in record["steps"] for m in s["measurements"]}
    assert values[("supply-current", "standby_ma")] == 45.0  # the profile's standby figure
    assert values[("supply-current", "display_ma")] == 105.0  # standby + display
    assert values[("sale-current", "txn_ma")] == 165.0  # + the sale's
    assert values[("sale-current", "print_ma")] == 1065.0  # + the sale's + the printer's
    assert values[("brownout", "brownout_v")] == 8.5  # the first 0.5 V step below the unit's 8.6 V
    assert 1700 < values[("inrush", "peak_ma")] <= 1800 and 0 < values[("inrush", "settle_ms")] < 10
    html = (Path(record["report"]) / "report.html").read_text()
    assert '<img src="data:image/png;base64,' in html and 'alt="inrush.png"' in html



class SagSupply(PowerSupply):
    """A supply with no instrument behind it: its voltage decides whether the unit below answers."""

    def __init__(self) -> None:
        self.volts, self.on, self.history = 12.0, True, []
        self.limit_a: float | None = None  # what was left set on the supply: none until a check sets it

    def identify(self) -> InstrumentIdentity:
        return InstrumentIdentity("Test", "Supply", "1", "1")

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass

    def set_voltage(self, volts: float) -> None:
        self.volts = volts
        self.history.append(volts)

    def set_current_limit(self, amps: float) -> None:
        self.limit_a = amps

    def output(self, on: bool) -> None:
        self.on = on

    def measure_voltage(self) -> float:
        return self.volts

    def measure_current(self) -> float:
        return 0.05


class SaggingUnit(FakeUnit):
    """Restarts (and says so once it answers again) below ``restarts_below`` volts; never back when ``dead``."""

    def __init__(self, supply: SagSupply, restarts_below: float, dead: bool = False) -> None:
        super().__init__()
        self.supply, self.restarts_below, self.dead = supply, restarts_below, dead

    def identify(self) -> Identity:
        if self.supply.volts < self.restarts_below or (self.dead and self.supply.history[-1] == 12.0 and
                                                       len(self.supply.history) > 2):
            raise DeviceError("the unit restarted by itself during HELLO", fault_code="LINK-REBOOT")
        return super().identify()


def brownout(restarts_below: float, dead: bool = False) -> tuple[StepContext, set[str], SagSupply]:
    spec = get("power.brownout")
    supply = SagSupply()
    params = {k: p.default for k, p in spec.params.items()} | {"settle_s": 0.05, "recover_s": 0.5}
    ctx = StepContext(step="brownout", spec=spec, params=params, limits=dict(spec.measurements),
                      devices={"unit": SaggingUnit(supply, restarts_below, dead), "supply": supply},
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 30)
    spec.func(ctx)
    return ctx, {m.fault or "" for m in ctx.measurements if not m.passed}, supply


def test_brownout_finds_the_first_step_where_the_unit_restarts_and_leaves_the_supply_at_nominal() -> None:
    ctx, faults, supply = brownout(restarts_below=10.8)
    values = {m.name: m.value for m in ctx.measurements}
    assert values == {"brownout_v": 10.5, "recovered": True} and faults == {"PWR-BROWNOUT"}
    assert "at 10.50 V the unit restarted" in ctx.notes
    assert supply.history == [12.0, 11.5, 11.0, 10.5, 12.0]
    assert supply.limit_a == 2.0  # a shorted board is fed at most the check's current limit


def test_a_unit_that_runs_down_to_the_lowest_step_passes() -> None:
    ctx, faults, supply = brownout(restarts_below=0.0)
    assert {m.name: m.value for m in ctx.measurements} == {"brownout_v": 7.0, "recovered": True} and faults == set()
    assert "the unit answered down to 7.00 V" in ctx.notes and supply.history[-1] == 12.0


def test_a_unit_that_does_not_come_back_at_nominal_is_pwr_no_recovery() -> None:
    _ctx, faults, _supply = brownout(restarts_below=9.2, dead=True)
    assert faults == {"PWR-NO-RECOVERY"}


class QuickSaleUnit(FakeUnit):
    """Sells with stages of ``stage_ms`` (its own clock), announcing each stage as a real unit does."""

    def __init__(self, stage_ms: int) -> None:
        super().__init__()
        self.stage_ms = stage_ms

    def sale(self, request: TxnRequest, timeout: float, on_stage: Callable[[TxnStage], None] | None = None) -> TxnResult:
        for stage in ("amount", "card", "online", "print", "done"):
            if on_stage is not None:
                on_stage(TxnStage(request.txn_id, stage, 0))
        return TxnResult(request.txn_id, "approved", "00",
                         stages_ms={k: self.stage_ms for k in ("amount", "card", "online", "print")})


class FakeHost(HostDevice):
    def __init__(self) -> None:  # no acquirer behind it: the fake unit never calls it
        self.url = "tcp://127.0.0.1:1"


def sale_current(stage_ms: int) -> StepContext:
    spec = get("power.sale_current")
    params = {k: p.default for k, p in spec.params.items()} | {"settle_s": 0.05}
    ctx = StepContext(step="sale-current", spec=spec, params=params, limits=dict(spec.measurements),
                      devices={"unit": QuickSaleUnit(stage_ms), "supply": SagSupply(), "host": FakeHost()},
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 30)
    spec.func(ctx)
    return ctx


def test_sale_current_is_measured_during_stages_that_outlast_the_reading() -> None:
    ctx = sale_current(stage_ms=600)
    assert {m.name: m.value for m in ctx.measurements} == {"txn_ma": 50.0, "print_ma": 50.0}


def test_a_reading_taken_after_a_short_stage_ended_is_not_judged_as_its_current() -> None:
    # A 1 ms card stage was over before the 50 ms reading: that figure is the idle current, not the sale's.
    with pytest.raises(EquipmentError, match="card stage lasted 1 ms, less than") as caught:
        sale_current(stage_ms=1)
    assert caught.value.fault_code == "BENCH-ERROR"


class ClosingSupply(SagSupply):
    """A supply whose session the runner can close: a closed one takes no more commands."""

    closed = False

    def close(self) -> None:
        self.closed = True

    def set_voltage(self, volts: float) -> None:
        if self.closed:
            raise EquipmentError("power supply is closed", fault_code="BENCH-INSTRUMENT")
        super().set_voltage(volts)


def test_ctrl_c_during_brownout_puts_the_supply_back_at_nominal_before_closing_it() -> None:
    supply = ClosingSupply()
    unit = SaggingUnit(supply, restarts_below=0.0)
    spec = get("power.brownout")
    params = {k: p.default for k, p in spec.params.items()} | {"settle_s": 0.3}
    step = Step(name="brownout", check=spec, params=params, limits=dict(spec.measurements),
                timeout=30.0, retries=0)
    devices = DeviceSet({"unit": "fake://", "supply": "fake://"}, opener=lambda role, url: {"unit": unit, "supply": supply}[role])
    runner = Runner(Plan("t", "1", "", (step,)), devices, ScriptedOperator({"*": True}), None)

    def interrupt_below_nominal() -> None:
        while not supply.history or supply.history[-1] > 10.5:
            time.sleep(0.01)
        runner.abort()  # as Ctrl-C does, while the unit runs at 10.5 V

    threading.Thread(target=interrupt_below_nominal, daemon=True).start()
    with pytest.raises(Interrupted):
        runner.run()
    assert supply.closed and supply.volts == 12.0 and supply.on
    assert supply.history[-1] == 12.0 and min(supply.history) == 10.5


class BrokenScope(Oscilloscope):
    """A scope that refuses to arm (an instrument error)."""

    def identify(self) -> InstrumentIdentity:
        return InstrumentIdentity("Test", "Scope", "1", "1")

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass

    def arm_single(self, channel: int = 1, level: float | None = None) -> None:
        raise EquipmentError("oscilloscope refused ':SING': -200,\"Execution error\"", fault_code="BENCH-INSTRUMENT")

    def wait_triggered(self, timeout: float) -> bool:
        return False

    def waveform(self, channel: int = 1) -> Waveform:
        raise AssertionError("never captured")


def test_a_scope_that_fails_to_arm_does_not_leave_the_unit_unpowered() -> None:
    spec = get("power.inrush")
    supply = SagSupply()
    params = {k: p.default for k, p in spec.params.items()} | {"settle_s": 0.05}
    ctx = StepContext(step="inrush", spec=spec, params=params, limits=dict(spec.measurements),
                      devices={"unit": FakeUnit(), "supply": supply, "scope": BrokenScope()},
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 30)
    with pytest.raises(EquipmentError, match="refused ':SING'"):
        spec.func(ctx)
    assert supply.on and supply.volts == 12.0


def test_a_brownout_that_cannot_step_below_nominal_is_a_plan_error_not_a_unit_fault() -> None:
    text = (ROOT / "testplans/pos-power.yaml").read_text()
    assert "min_v: 7.0" in text
    with pytest.raises(PlanError, match=r"min_v 13 must be at least one step_v \(0.5\) below nominal_v 12") as caught:
        parse_plan(text.replace("min_v: 7.0", "min_v: 13.0"), path="pos-power.yaml")
    assert caught.value.line == text[:text.index("min_v: 7.0")].count("\n") + 1
    parse_plan(text.replace("min_v: 7.0", "min_v: 11.5"), path="pos-power.yaml")  # one step: fine
