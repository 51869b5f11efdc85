"""The simulated unit's power: what it is doing (for the bench's instruments) and its supply voltage.

The unit process answers two control actions (docs/instruments.md, "Readings follow the unit"):
``power`` says what the unit is doing now (booting, display on, a sale running, charging), and
``supply`` tells it the voltage at its input (the simulated supply's setting): below the
profile's ``power.brownout_v`` (or with the output off) it loses power and says nothing; back
above, it boots again (a BOOT event, reason ``power_on``). The bench process turns the activity
into the current its simulated supply and multimeter measure, with :func:`current_ma` and the
profile's ``power`` figures, so the unit's own code knows nothing of instruments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: A unit's power figures (milliamps at the nominal input), merged under ``power:`` in a unit profile.
DEFAULTS: dict[str, Any] = {
    "nominal_v": 12.0,  # the adapter's voltage, what the bench supply is set to
    "standby_ma": 45.0,  # idle, display backlight off
    "display_ma": 60.0,  # added by the display and its backlight
    "print_ma": 900.0,  # added while the receipt printer prints
    "txn_ma": 120.0,  # added while a sale runs (radio, card reader)
    "charge_ma": 500.0,  # added while the battery charges
    "boot_ma": 150.0,  # added while the unit boots
    "brownout_v": 8.6,  # below this input voltage the unit loses power
    "inrush_peak_ma": 1800.0,  # peak current at power-on (input capacitors)
    "inrush_settle_ms": 4.0,  # time for the inrush to settle within 10 %
}
ACTIONS = ("power", "supply")


def current_ma(power: Mapping[str, Any], activity: Mapping[str, Any]) -> float:
    """The current the unit draws (mA) while doing ``activity`` (a ``power`` action's answer)."""
    if not activity.get("powered", True):
        return 0.0
    total = float(power["standby_ma"])
    for flag, key in (("display", "display_ma"), ("printing", "print_ma"), ("txn", "txn_ma"),
                      ("charging", "charge_ma"), ("booting", "boot_ma")):
        if activity.get(flag):
            total += float(power[key])
    return total


def inrush_ma(power: Mapping[str, Any], t_ms: float, steady_ma: float) -> float:
    """The current ``t_ms`` after the supply switched on: a fast rise to the peak, an exponential settle."""
    if t_ms < 0:
        return 0.0
    peak = float(power["inrush_peak_ma"])
    rise_ms = 0.05
    if t_ms < rise_ms:
        return peak * t_ms / rise_ms
    tau = float(power["inrush_settle_ms"]) / math.log(10 * max(1.0, peak - steady_ma) / max(1.0, steady_ma))
    return steady_ma + (peak - steady_ma) * math.exp(-(t_ms - rise_ms) / max(tau, 1e-6))


class UnitPower:
    """A simulated unit's power input: powered or not, from the supply voltage it is told about."""

    def __init__(self, profile: Mapping[str, Any]) -> None:
        self.power: Mapping[str, Any] = profile["power"]
        self.charging = bool(profile["battery"]["charging"])
        self.powered = True

    def action(self, sim: Any, action: str, details: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Answer a ``power`` or ``supply`` control action for ``sim`` (a UnitSim)."""
        if action == "supply":
            volts = float(details.get("volts", self.power["nominal_v"]))
            on = bool(details.get("on", True)) and volts >= float(self.power["brownout_v"])
            if self.powered and not on:
                sim.power_down(now)
            elif on and not self.powered:
                sim.power_up(now)
            self.powered = on
        display = sim.panel.display
        return {
            "powered": self.powered,
            "booting": self.powered and sim.booting,
            "display": self.powered and display.backlight > 0 and display.pattern != "off",
            "txn": self.powered and sim.device.txn.busy,
            "printing": self.powered and sim.device.txn.stage == "print",
            "charging": self.powered and self.charging,
        }
