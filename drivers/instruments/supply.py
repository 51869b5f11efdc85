"""A programmable DC power supply over SCPI (station role ``supply``), one output channel of it."""

from __future__ import annotations

import math
from typing import Any

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.instruments.base import ScpiInstrument
from drivers.instruments.interfaces import PowerSupply
from drivers.instruments.profiles import SupplyProfile


class ScpiSupply(ScpiInstrument, PowerSupply):
    """The supply at a ``visa://`` URL; ``?channel=N`` picks its output (default 1)."""

    role = "supply"
    profile: SupplyProfile

    def set_voltage(self, volts: float) -> None:
        """Set the output voltage (checked with ``SYST:ERR?``)."""
        self._set(self.profile.set_voltage, _level("voltage", volts))

    def set_current_limit(self, amps: float) -> None:
        """Set the current limit (checked with ``SYST:ERR?``)."""
        self._set(self.profile.set_current, _level("current limit", amps))

    def output(self, on: bool) -> None:
        """Switch the output on or off (checked with ``SYST:ERR?``)."""
        self._set(self.profile.output, state="ON" if on else "OFF")

    def measure_voltage(self) -> float:
        """The output voltage as the supply measures it (volts)."""
        self._select()
        return self.session.query_number(self.profile.measure_voltage.format(ch=self.where.channel))

    def measure_current(self) -> float:
        """The output current as the supply measures it (amps)."""
        self._select()
        return self.session.query_number(self.profile.measure_current.format(ch=self.where.channel))

    def _select(self) -> None:
        if self.profile.select is not None and self.where.channel != 1:
            self.session.configure(self.profile.select.format(ch=self.where.channel))

    def _set(self, template: str, v: float = 0.0, state: str = "") -> None:
        self._select()
        self.session.configure(template.format(ch=self.where.channel, v=v, state=state))


def _level(what: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ConfigError(N_("supply: a {what} must be a number of at least 0, not {value!r}", what=what, value=value))
    return float(value)


def open_supply(url: str, **options: Any) -> ScpiSupply:
    """Open the supply at ``visa://RESOURCE[?backend=...&timeout=...&profile=...&channel=N]``."""
    return ScpiSupply(url, **options)
