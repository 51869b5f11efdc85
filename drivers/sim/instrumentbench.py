"""The simulated bench's instruments: PyVISA-sim devices described in ``drivers/sim/instruments/``.

:class:`SimInstruments` copies the description files into the bench's own folder, so each
simulated bench has instruments of its own (PyVISA keeps one simulated library, with its devices'
state, per description file and process), and hands out ``visa://...?backend=<copy>/bench.yaml@sim``
URLs the real drivers open through the real PyVISA API.

Readings change at run time through the simulated instruments' own SCPI: each description gives a
reading a hidden setter (``SIM:MEAS:CURR 1.2e-01`` sets what the supply's ``MEAS:CURR?`` answers),
and this class sends it through a VISA session of its own, as a remote control would. No driver
sends ``SIM:`` commands; nothing reaches into PyVISA-sim's objects. The bench only writes (it never
reads an answer, which could be a driver's), and every value it sends is one the description accepts
(its error queue stays the drivers'). A simulated instrument's buffers are shared by every session
of it, so set readings between a driver's calls (from the step's own thread), not during one.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drivers.errors import EquipmentError
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

DESCRIPTIONS = Path(__file__).resolve().parent / "instruments"
#: role -> the resource the simulated bench gives it (docs/instruments.md lists every one in bench.yaml).
RESOURCES = {
    "supply": "TCPIP0::10.0.0.21::inst0::INSTR",  # Keysight E36103B-like
    "dmm": "USB0::0x2A8D::0x1301::MY53000456::0::INSTR",  # Keysight 34461A-like
    "scope": "TCPIP0::10.0.0.23::inst0::INSTR",  # Rigol DS1104Z-like
}
#: The Rigol DP832-like supply, for a station file that wants the other family.
RIGOL_SUPPLY = "USB0::0x1AB1::0x0E11::DP8C000001::0::INSTR"
ROLES = tuple(RESOURCES)
#: (role, reading) -> the hidden command that sets it.
_SETTERS = {
    ("supply", "voltage"): "SIM:MEAS:VOLT {:.6e}",
    ("supply", "current"): "SIM:MEAS:CURR {:.6e}",
    ("dmm", "voltage"): "SIM:VOLT:DC {:.6e}",
    ("dmm", "current"): "SIM:CURR:DC {:.6e}",
}


class SimInstruments:
    """A supply, a multimeter and an oscilloscope, simulated, with their readings under the bench's control."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "instruments"
        shutil.copytree(DESCRIPTIONS, self.folder, dirs_exist_ok=True)
        self.backend = f"{self.folder / 'bench.yaml'}@sim"
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._follower: Any = None

    def url(self, role: str, resource: str | None = None) -> str:
        """The ``visa://`` URL of ``role``'s instrument (or of another ``resource`` of the description)."""
        return f"visa://{resource or RESOURCES[role]}?backend={self.backend}"

    @property
    def urls(self) -> dict[str, str]:
        """Role -> URL, for every simulated instrument role."""
        return {role: self.url(role) for role in ROLES}

    def set_reading(self, role: str, reading: str, value: float, resource: str | None = None) -> None:
        """Make ``role``'s instrument measure ``value`` from now on (``reading``: ``voltage`` or ``current``)."""
        template = _SETTERS.get((role, reading))
        if template is None:
            raise ValueError(f"no simulated reading {reading!r} on {role}; known: {sorted(_SETTERS)}")
        self._send(role, template.format(float(value)), resource)

    def set_waveform(self, values: Sequence[float], x_increment: float, x_origin: float = 0.0) -> None:
        """What the oscilloscope's next capture holds (volts, ``x_increment`` seconds apart), as a Rigol sends it."""
        body = ",".join(f"{float(v):.6e}" for v in values)
        self._send("scope", f"SIM:WAV:DATA #9{len(body):09d}{body}")
        self._send("scope", f"SIM:WAV:XINC {x_increment:.6e}")
        self._send("scope", f"SIM:WAV:XOR {x_origin:.6e}")

    def set_triggered(self, triggered: bool) -> None:
        """Whether the oscilloscope reports its single-shot capture done (``STOP``) or still waiting (``WAIT``)."""
        self._send("scope", f"SIM:TRIG:STAT {'STOP' if triggered else 'WAIT'}")

    def follow(self, control: Any, power: Mapping[str, Any]) -> None:
        """Make the readings follow the unit behind ``control`` (its profile's ``power`` figures), from now on.

        The supply is switched on at the unit's nominal voltage first; see :mod:`drivers.sim.powerfollow`.
        """
        from drivers.sim.powerfollow import PowerFollower

        self._follower = PowerFollower(self, control, power, RESOURCES).start()

    def close(self) -> None:
        """Stop following the unit; close the bench's own sessions (the drivers' sessions are theirs)."""
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            try:
                session.close()
            except Exception as exc:  # the library went away first (interpreter exit)
                _LOG.debug("closing a simulated instrument's control session: %s", exc)

    def _send(self, role: str, command: str, resource: str | None = None) -> None:
        import pyvisa

        name = resource or RESOURCES[role]
        with self._lock:
            session: Any = self._sessions.get(name)
            if session is None:
                manager = pyvisa.ResourceManager(self.backend)
                session = manager.open_resource(name, write_termination="\n", read_termination="\n")
                self._sessions[name] = session
            try:
                session.write(command)
            except pyvisa.errors.Error as exc:
                raise EquipmentError(N_("simulated {role}: {command!r} failed: {exc}", role=role, command=command[:60], exc=exc), fault_code="BENCH-ERROR") from exc
