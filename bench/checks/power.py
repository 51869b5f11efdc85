"""Power checks: battery voltage and charge, adapter, charging; the instrument checks of :mod:`bench.checks.supply`."""

from __future__ import annotations

from bench.checks.base import CheckSpec, Param, StepContext
from bench.checks.supply import CHECKS as SUPPLY_CHECKS
from bench.measure import Limit
from drivers.i18n import N_


def battery(ctx: StepContext) -> None:
    """Read the battery; low charge or voltage is PWR-BATT-LOW, a missing adapter PWR-NO-ADAPTER."""
    b = ctx.unit.battery()
    ctx.note(
        f"battery {b.voltage:.2f} V, {b.charge_percent} %, "
        f"{'charging' if b.charging else 'not charging'}, adapter {'present' if b.adapter_present else 'absent'}"
    )
    ctx.measure("voltage", b.voltage, unit="V")
    ctx.measure("charge_percent", b.charge_percent, unit="%")
    if ctx.params["require_adapter"]:
        ctx.measure("adapter_present", b.adapter_present, limit=Limit(equals=True, fault="PWR-NO-ADAPTER"))
    else:
        ctx.measure("adapter_present", b.adapter_present)
    # Chargers stop near full and restart lower down (hysteresis): only a battery well
    # below full that does not charge on the adapter is a fault.
    if b.adapter_present and b.charge_percent < ctx.params["charge_below_percent"]:
        ctx.measure("charging", b.charging, limit=Limit(equals=True, fault="PWR-NOT-CHARGING"))
    else:
        ctx.measure("charging", b.charging)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "power.battery",
        battery,
        N_("battery voltage and charge against limits; adapter present and charging"),
        devices=("unit",),
        params={
            "require_adapter": Param(bool, False, N_("fail when no power adapter is detected")),
            "charge_below_percent": Param(int, 80, N_("on the adapter, below this charge the battery must be charging"),
                                          bounds=(0, 100)),
        },
        measurements={
            "voltage": None,  # depends on the pack (1S 3.7 V, 2S 7.4 V): plans set it per model
            "charge_percent": Limit(min=20, max=100, unit="%", fault="PWR-BATT-LOW"),
            "adapter_present": None,
            "charging": None,
        },
        fault="PWR-BATT-LOW",
    ),
    *SUPPLY_CHECKS,
)
