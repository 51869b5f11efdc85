"""Simulated instruments whose readings follow the simulated unit (issue #19).

:class:`PowerFollower` runs in the bench's process beside :class:`~drivers.sim.instrumentbench.SimInstruments`.
Every :data:`TICK_S` it tells the unit process the simulated supply's setting (voltage, output on or
off: the unit loses power below its ``power.brownout_v``), asks it what it is doing, and makes the
supply and the multimeter (in series with the unit) measure the current that draws
(:func:`drivers.sim.unitpower.current_ma`, the profile's ``power`` figures). When the supply's output
is switched on, the oscilloscope (a current probe, 1 V per A) captures the inrush.

Unlike the scripted :meth:`SimInstruments.set_reading`, it reads the supply's settings and sets the
readings on PyVISA-sim's property objects directly: it runs on its own thread, and an SCPI message
written from there could land in the middle of a driver's message in the device's shared input
buffer. A property assignment is one step; a driver's query answers the old or the new value.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from drivers.errors import BenchError
from drivers.sim.unitpower import current_ma, inrush_ma

_LOG = logging.getLogger(__name__)

TICK_S = 0.05
#: The oscilloscope's capture of a power-on: points and the time per point (4 ms pre-trigger view of 20 ms).
INRUSH_POINTS = 1000
INRUSH_X_INCREMENT = 2e-5
INRUSH_PRETRIGGER = 50


class PowerFollower:
    """Keep ``instruments``' readings in step with the unit behind ``control`` (a SimUnitControl).

    Args:
        instruments: the bench's SimInstruments.
        control: the unit process's control client.
        power: the unit profile's ``power`` figures.
        resources: role -> resource of this bench's supply, multimeter and scope.
    """

    def __init__(self, instruments: Any, control: Any, power: Mapping[str, Any], resources: Mapping[str, str]) -> None:
        self.instruments = instruments
        self.control = control
        self.power = power
        self.resources = dict(resources)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._devices: dict[str, Any] = {}
        self._manager: Any = None
        self._last: tuple[float, bool] | None = None

    def start(self) -> PowerFollower:
        """Switch the supply on at the unit's nominal voltage (as a technician does first), then follow."""
        supply = self._device("supply")
        supply._properties["voltage"].set_value(f"{float(self.power['nominal_v']):f}")
        supply._properties["current_limit"].set_value("2.0")
        supply._properties["output"].set_value("ON")
        self.tick()
        self._thread = threading.Thread(target=self._run, name="sim-power-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following (the readings keep their last values)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    def tick(self) -> None:
        """One step: the supply's setting to the unit, the unit's activity to the readings."""
        supply = self._device("supply")
        volts = float(supply._properties["voltage"].get_value())
        on = supply._properties["output"].get_value() == "ON"
        if (volts, on) != self._last:
            activity = self.control.send("supply", volts=volts, on=on)
            if self._last is not None and on and not self._last[1]:
                self._capture_inrush(current_ma(self.power, activity))
            elif not on:
                self._set("scope", "trigger_status", "WAIT")  # armed, waiting for the power-on edge
            self._last = (volts, on)
        else:
            activity = self.control.send("power")
        amps = current_ma(self.power, activity) / 1000.0
        out_v = volts if on else 0.0
        self._set("supply", "measured_current", f"{amps:e}")
        self._set("supply", "measured_voltage", f"{out_v:e}")
        self._set("dmm", "current", f"{amps:e}")
        self._set("dmm", "voltage", f"{out_v:e}")

    def _capture_inrush(self, steady_ma: float) -> None:
        values = [inrush_ma(self.power, (i - INRUSH_PRETRIGGER) * INRUSH_X_INCREMENT * 1000, steady_ma) / 1000
                  for i in range(INRUSH_POINTS)]
        body = ",".join(f"{v:.6e}" for v in values)
        self._set("scope", "wave_data", f"#9{len(body):09d}{body}")
        self._set("scope", "x_increment", f"{INRUSH_X_INCREMENT:e}")
        self._set("scope", "x_origin", f"{-INRUSH_PRETRIGGER * INRUSH_X_INCREMENT:e}")
        self._set("scope", "trigger_status", "STOP")

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except BenchError as exc:  # the unit process went away (the bench is closing)
                _LOG.debug("power follower: %s", exc)

    def _set(self, role: str, name: str, value: str) -> None:
        device = self._device(role)
        if device is not None:
            device._properties[_PROPERTY.get((role, name), name)].set_value(value)

    def _device(self, role: str) -> Any:
        device = self._devices.get(role)
        if device is None and role in self.resources:
            import pyvisa

            if self._manager is None:  # kept: a resource manager collected closes the library, and the
                # next one would be a fresh library whose devices are not these
                self._manager = pyvisa.ResourceManager(self.instruments.backend)
            library: Any = self._manager.visalib  # PyVISA-sim's library: its devices by resource
            device = self._devices[role] = library.devices[self.resources[role]]
        return device


#: (role, reading) -> the description's property, where their names differ.
_PROPERTY = {("dmm", "current"): "dc_current", ("dmm", "voltage"): "dc_voltage"}
