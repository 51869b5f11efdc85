"""Power checks on the bench's instruments: current drawn, brownout, inrush, charging (issue #19).

The unit is powered from the bench's programmable supply (role ``supply``); ``power.inrush``
also needs an oscilloscope (role ``scope``) on a current probe. Each check leaves the supply
on at the unit's nominal voltage, as it found it. The names are ``power.*``: :mod:`bench.checks.power`
lists these with the battery check.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import DeviceError, EquipmentError
from bench.measure import Limit
from drivers.i18n import N_

if TYPE_CHECKING:
    from drivers.instruments.interfaces import Oscilloscope, PowerSupply, Waveform
    from drivers.interfaces import TxnStage, Unit


def _supply(ctx: StepContext) -> PowerSupply:
    from drivers.instruments.interfaces import PowerSupply

    return ctx.device("supply", PowerSupply)


def _settle(ctx: StepContext) -> None:
    """Let the unit's current settle after a change (and stop when the runner gave up)."""
    ctx.check_cancelled()
    time.sleep(min(float(ctx.params["settle_s"]), ctx.budget()))


def _milliamps(ctx: StepContext, supply: PowerSupply) -> float:
    _settle(ctx)
    return round(supply.measure_current() * 1000, 1)


def _recover(ctx: StepContext, unit: Unit, wait: float) -> bool:
    """Wait up to ``wait`` s for the unit to answer again (a restart it reports is expected)."""
    deadline = time.monotonic() + ctx.budget(wait)
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        try:
            unit.identify()
            return True
        except DeviceError as exc:
            if exc.fault_code != "LINK-REBOOT":
                time.sleep(0.1)
    return False


def supply_current(ctx: StepContext) -> None:
    """Current from the supply in standby, with the display on, and during a test sale when asked."""
    supply, unit = _supply(ctx), ctx.unit
    # A charging battery adds the charger's current to every figure: they are recorded, not judged
    # (power.charging_current judges that; test standby again once the battery is full).
    charging = "battery" in unit.identify().capabilities and unit.battery().charging
    if charging:
        ctx.note("the battery is charging: the currents include the charger's and are not judged")
    unit.display_pattern("off")
    unit.display_backlight(0)
    ctx.measure("standby_ma", _milliamps(ctx, supply), unit="mA", judged=not charging,
                says=N_("the unit draws too much current in standby (a leak on the board)"))
    unit.display_pattern("on")
    unit.display_backlight(100)
    ctx.measure("display_ma", _milliamps(ctx, supply), unit="mA", judged=not charging,
                says=N_("the unit draws too much current with the display on"))
    unit.display_pattern("off")


def sale_current(ctx: StepContext) -> None:
    """Current from the supply during a test sale: while the card is read (``txn_ma``), while it prints (``print_ma``)."""
    from drivers.acquirer.device import HostDevice
    from drivers.interfaces import TxnRequest

    supply, unit = _supply(ctx), ctx.unit
    host = ctx.device("host", HostDevice)
    unit.display_pattern("off")
    unit.display_backlight(0)
    readings: dict[str, float] = {}
    took_ms: dict[str, float] = {}  # from the stage's start to the reading: the stage must outlast it

    def on_stage(event: TxnStage) -> None:
        name = _SALE_STAGES.get(event.stage)
        if name is not None and name not in readings:
            t0 = time.monotonic()
            readings[name] = _milliamps(ctx, supply)
            took_ms[name] = (time.monotonic() - t0) * 1000

    request = TxnRequest(txn_id=secrets.randbelow(2**32 - 1) + 1, amount=100, currency="978",
                         card=str(ctx.params["card"]), host=host.url, online_timeout_ms=5000)
    result = unit.sale(request, ctx.budget(30.0), on_stage)
    ctx.note(f"test sale {result.outcome}; " + ", ".join(f"{k} {v:.0f} mA" for k, v in readings.items()))
    for stage, name in _SALE_STAGES.items():
        if name not in readings:
            ctx.fail(N_("the test sale ended {outcome} before its {stage} stage: its current was not measured",
                        outcome=result.outcome, stage=stage),
                     "UNIT-FAULT", detail=f"sale {result.txn_id}: cause {result.cause or 'none'}")
        lasted = result.stages_ms.get(stage)
        if lasted is not None and lasted < took_ms[name]:
            # A reading taken once the stage was over is the idle current: judging it would pass any unit.
            # Nothing is wrong with the unit for that: the bench could not measure (ERROR, not FAIL).
            raise EquipmentError(N_("the test sale's {stage} stage lasted {lasted} ms, less than the {took:.0f} ms the "
                                    "reading took (settle_s): the bench could not measure its current during it",
                                    stage=stage, lasted=lasted, took=took_ms[name]), fault_code="BENCH-ERROR",
                                 detail=f"sale {result.txn_id}: stages {result.stages_ms}")
        ctx.measure(name, readings[name], unit="mA", says=N_("the unit draws too much current during a sale"))


#: Sale stage -> the measurement taken during it.
_SALE_STAGES = {"card": "txn_ma", "print": "print_ma"}


def brownout(ctx: StepContext) -> None:
    """Lower the supply in steps until the unit stops answering or restarts; then back to nominal."""
    supply, unit = _supply(ctx), ctx.unit
    nominal, step, floor = (float(ctx.params[k]) for k in ("nominal_v", "step_v", "min_v"))
    supply.set_current_limit(float(ctx.params["current_limit_a"]))  # a shorted board is not fed whatever was left set
    supply.set_voltage(nominal)
    supply.output(True)
    ctx.on_abandon(lambda: supply.set_voltage(nominal))  # Ctrl-C or a timeout: not left at a brownout voltage
    stopped: float | None = None
    volts = nominal
    try:
        while volts - step >= floor - 1e-9:
            ctx.check_cancelled()  # abandoned: the supply is back at nominal, lower it no more
            volts = round(volts - step, 4)
            supply.set_voltage(volts)
            _settle(ctx)
            try:
                unit.identify()
            except DeviceError as exc:
                ctx.note(f"at {volts:.2f} V the unit {'restarted' if exc.fault_code == 'LINK-REBOOT' else 'stopped answering'}")
                stopped = volts
                break
    finally:
        supply.set_voltage(nominal)
    if stopped is None:
        ctx.note(f"the unit answered down to {volts:.2f} V")
    ctx.measure("brownout_v", stopped if stopped is not None else volts, unit="V",
                says=N_("the unit stops working at a supply voltage it should run on"))
    back = stopped is None or _recover(ctx, unit, float(ctx.params["recover_s"]))
    ctx.measure("recovered", back, limit=Limit(equals=True, fault="PWR-NO-RECOVERY"),
                says=N_("the unit did not come back at {nominal:g} V", nominal=nominal))


def _brownout_params(params: Mapping[str, Any]) -> str | None:
    """A brownout that cannot take one step below nominal would blame the unit for the plan."""
    nominal, step, floor = (float(params[k]) for k in ("nominal_v", "step_v", "min_v"))
    if floor > nominal - step:
        return N_("min_v {floor:g} must be at least one step_v ({step:g}) below nominal_v {nominal:g}", floor=floor,
                  step=step, nominal=nominal)
    return None


def _settle_time(wave: Waveform, scale: float, band: float) -> tuple[float, float, float]:
    """Peak (A), its time, and when the current stays within ``band`` of its final value (s)."""
    amps = [v * scale for v in wave.values]
    times = wave.times()
    peak_i = max(range(len(amps)), key=amps.__getitem__)
    tail = amps[-max(1, len(amps) // 10):]
    final = sum(tail) / len(tail)
    settled = times[-1]
    for i in range(len(amps) - 1, peak_i - 1, -1):
        if abs(amps[i] - final) > band * max(final, 1e-6):
            settled = times[min(i + 1, len(amps) - 1)]
            break
    return amps[peak_i], times[peak_i], settled


def inrush(ctx: StepContext) -> None:
    """Power the unit on with the scope armed; peak current and settle time; the waveform as a picture."""
    from bench.checks.waveformpng import waveform_png
    from drivers.instruments.interfaces import Oscilloscope

    supply, unit = _supply(ctx), ctx.unit
    scope: Oscilloscope = ctx.device("scope", Oscilloscope)
    channel, scale = int(ctx.params["channel"]), float(ctx.params["amps_per_volt"])
    nominal = float(ctx.params["nominal_v"])
    ctx.on_abandon(lambda: (supply.set_voltage(nominal), supply.output(True)))  # Ctrl-C: the unit powered again
    supply.set_current_limit(float(ctx.params["current_limit_a"]))
    supply.output(False)
    try:
        _settle(ctx)
        scope.arm_single(channel, float(ctx.params["trigger_a"]) / scale)
    finally:  # a scope that failed to arm does not leave the unit unpowered
        supply.set_voltage(nominal)
        supply.output(True)
    try:
        if not scope.wait_triggered(ctx.budget(5.0)):
            ctx.fail(N_("the oscilloscope did not trigger on the power-on"), "BENCH-INSTRUMENT")
        wave = scope.waveform(channel)
    finally:
        back = _recover(ctx, unit, float(ctx.params["recover_s"]))
    peak, at, settled = _settle_time(wave, scale, float(ctx.params["settle_band"]))
    ctx.note(f"inrush peak {peak * 1000:.0f} mA at {at * 1000:.3f} ms, settled at {settled * 1000:.2f} ms")
    ctx.attach("inrush.png", waveform_png(wave.times(), [v * scale for v in wave.values], title="supply current at power-on",
                                          unit="A", marks=((at, "peak"), (settled, "settled"))), "image/png")
    ctx.measure("peak_ma", round(peak * 1000, 1), unit="mA", says=N_("the unit's inrush current is too high"))
    ctx.measure("settle_ms", round(max(0.0, settled - at) * 1000, 3), unit="ms",
                says=N_("the unit's inrush current takes too long to settle"))
    ctx.measure("recovered", back, limit=Limit(equals=True, fault="PWR-NO-RECOVERY"),
                says=N_("the unit did not start after the power-on"))


def charging_current(ctx: StepContext) -> None:
    """Current from the supply while the battery charges (standby, display off); judged when it charges."""
    supply, unit = _supply(ctx), ctx.unit
    unit.display_pattern("off")
    unit.display_backlight(0)
    drawn = _milliamps(ctx, supply)
    battery = unit.battery()
    ctx.note(f"{drawn:.0f} mA from the supply; battery {battery.charge_percent} %, "
             f"{'charging' if battery.charging else 'not charging'}")
    ctx.measure("charging", battery.charging)
    ctx.measure("input_ma", drawn, unit="mA", judged=battery.charging,
                says=N_("the unit draws too little current to charge its battery"))


_SETTLE = Param(float, 0.3, N_("seconds to wait after a change before measuring"), bounds=(0.05, 10))
_NOMINAL = Param(float, 12.0, N_("the unit's supply voltage (its adapter's)"), bounds=(0.5, 60))
_LIMIT = Param(float, 2.0, N_("the supply's current limit while the check drives it (A)"), bounds=(0.01, 20))
CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "power.supply_current", supply_current, N_("current drawn from the bench supply: standby, display on"),
        devices=("unit", "supply"), params={"settle_s": _SETTLE},
        measurements={"standby_ma": Limit(max=80, unit="mA", fault="PWR-EXCESS-CURRENT"),
                      "display_ma": Limit(max=200, unit="mA", fault="PWR-EXCESS-CURRENT")},
        fault="PWR-EXCESS-CURRENT",
    ),
    CheckSpec(
        "power.sale_current", sale_current,
        N_("current drawn from the bench supply during a test sale and its receipt"),
        devices=("unit", "supply", "host"),
        params={"settle_s": Param(float, 0.2, N_("seconds into a stage before measuring"), bounds=(0.01, 10)),
                "card": Param(str, "msr-test", N_("the test card the unit sells with"))},
        measurements={"txn_ma": Limit(max=400, unit="mA", fault="PWR-EXCESS-CURRENT"),
                      "print_ma": Limit(max=1500, unit="mA", fault="PWR-EXCESS-CURRENT")},
        fault="PWR-EXCESS-CURRENT",
    ),
    CheckSpec(
        "power.brownout", brownout,
        N_("lower the supply until the unit stops; it must run down to the limit and recover"),
        devices=("unit", "supply"),
        params={"settle_s": _SETTLE, "nominal_v": _NOMINAL, "current_limit_a": _LIMIT,
                "step_v": Param(float, 0.5, N_("volts per step"), bounds=(0.01, 10)),
                "min_v": Param(float, 7.0, N_("the lowest voltage tried"), bounds=(0, 60)),
                "recover_s": Param(float, 10.0, N_("seconds the unit has to come back at nominal"), bounds=(0.5, 120))},
        measurements={"brownout_v": Limit(max=9.5, unit="V", fault="PWR-BROWNOUT"), "recovered": None},
        fault="PWR-BROWNOUT", check_params=_brownout_params,
    ),
    CheckSpec(
        "power.inrush", inrush,
        N_("inrush current at power-on on the oscilloscope: peak and settle time, with a picture"),
        devices=("unit", "supply", "scope"),
        params={"settle_s": _SETTLE, "nominal_v": _NOMINAL, "current_limit_a": _LIMIT,
                "channel": Param(int, 1, N_("the scope channel of the current probe"), bounds=(1, 8)),
                "amps_per_volt": Param(float, 1.0, N_("the current probe's scale"), bounds=(1e-6, 1e6)),
                "trigger_a": Param(float, 0.1, N_("trigger on a rise through this current"), bounds=(0, 100)),
                "settle_band": Param(float, 0.1, N_("settled: within this fraction of the final current"),
                                     bounds=(0.001, 1)),
                "recover_s": Param(float, 10.0, N_("seconds the unit has to start"), bounds=(0.5, 120))},
        measurements={"peak_ma": Limit(max=3000, unit="mA", fault="PWR-INRUSH"),
                      "settle_ms": Limit(max=10, unit="ms", fault="PWR-INRUSH"), "recovered": None},
        fault="PWR-INRUSH",
    ),
    CheckSpec(
        "power.charging_current", charging_current, N_("current drawn while the battery charges"),
        devices=("unit", "supply"), params={"settle_s": _SETTLE},
        measurements={"charging": None, "input_ma": Limit(min=300, max=1500, unit="mA", fault="PWR-SLOW-CHARGE")},
        fault="PWR-SLOW-CHARGE",
    ),
)
