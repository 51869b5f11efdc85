"""A digital multimeter over SCPI (station role ``dmm``): DC voltage and DC current."""

from __future__ import annotations

from typing import Any

from drivers.instruments.base import ScpiInstrument
from drivers.instruments.interfaces import Multimeter
from drivers.instruments.profiles import DmmProfile


class ScpiMultimeter(ScpiInstrument, Multimeter):
    """The multimeter at a ``visa://`` URL."""

    role = "dmm"
    profile: DmmProfile

    def dc_voltage(self) -> float:
        """Measure DC voltage (volts)."""
        return self._measure(self.profile.select_voltage, self.profile.read_voltage)

    def dc_current(self) -> float:
        """Measure DC current (amps)."""
        return self._measure(self.profile.select_current, self.profile.read_current)

    def _measure(self, select: str | None, read: str) -> float:
        if select is not None:
            self.session.configure(select)
        return self.session.query_number(read)


def open_dmm(url: str, **options: Any) -> ScpiMultimeter:
    """Open the multimeter at ``visa://RESOURCE[?backend=...&timeout=...&profile=...]``."""
    return ScpiMultimeter(url, **options)
