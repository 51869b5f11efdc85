"""The instrument kinds checks are written against, and the values their drivers return.

Kept apart from :mod:`drivers.interfaces` (the unit's side) and free of PyVISA, so a check or the
station check can name these types without loading a VISA library.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from drivers.interfaces import Device


@dataclass(frozen=True)
class InstrumentIdentity:
    """What an instrument says to ``*IDN?``: manufacturer, model, serial and firmware ("" when not said)."""

    manufacturer: str
    model: str
    serial: str
    firmware: str

    @classmethod
    def parse(cls, answer: str) -> InstrumentIdentity:
        """Read an IEEE 488.2 ``*IDN?`` answer (four comma-separated fields; missing ones are "")."""
        fields = [f.strip() for f in answer.strip().split(",", 3)]
        fields += [""] * (4 - len(fields))
        return cls(*fields[:4])


@dataclass(frozen=True)
class Waveform:
    """One captured channel: sample ``values`` (volts) ``x_increment`` seconds apart, the first at ``x_origin``."""

    channel: int
    x_increment: float
    x_origin: float
    values: tuple[float, ...]

    def times(self) -> tuple[float, ...]:
        """The time of each sample, in seconds from the trigger."""
        return tuple(self.x_origin + i * self.x_increment for i in range(len(self.values)))


class Instrument(Device):
    """An SCPI instrument on the bench, opened from a ``visa://`` URL."""

    #: The station role ("supply", "dmm", "scope") and what a technician calls it.
    kind: str = "instrument"

    @abc.abstractmethod
    def identify(self) -> InstrumentIdentity:
        """Ask ``*IDN?``."""

    @abc.abstractmethod
    def reset(self) -> None:
        """``*RST`` and wait for it (``*OPC?``): the instrument's power-on settings."""


class PowerSupply(Instrument):
    """A programmable DC power supply, one output channel of it."""

    kind = "power supply"

    @abc.abstractmethod
    def set_voltage(self, volts: float) -> None:
        """Set the output voltage."""

    @abc.abstractmethod
    def set_current_limit(self, amps: float) -> None:
        """Set the current limit."""

    @abc.abstractmethod
    def output(self, on: bool) -> None:
        """Switch the output on or off."""

    @abc.abstractmethod
    def measure_voltage(self) -> float:
        """The voltage at the output, measured (volts)."""

    @abc.abstractmethod
    def measure_current(self) -> float:
        """The current drawn from the output, measured (amps)."""


class Multimeter(Instrument):
    """A digital multimeter."""

    kind = "multimeter"

    @abc.abstractmethod
    def dc_voltage(self) -> float:
        """Measure DC voltage (volts)."""

    @abc.abstractmethod
    def dc_current(self) -> float:
        """Measure DC current (amps)."""


class Oscilloscope(Instrument):
    """A digital oscilloscope."""

    kind = "oscilloscope"

    @abc.abstractmethod
    def arm_single(self, channel: int = 1, level: float | None = None) -> None:
        """Arm a single-shot edge trigger on ``channel`` (at ``level`` volts when given)."""

    @abc.abstractmethod
    def wait_triggered(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the armed capture; False when it did not trigger."""

    @abc.abstractmethod
    def waveform(self, channel: int = 1) -> Waveform:
        """Read the captured waveform of ``channel`` with its time base."""
