"""A digital oscilloscope over SCPI (station role ``scope``): a single-shot capture and its waveform.

The waveform is read in ASCII (``:WAV:FORM ASC``): slower than the binary form, but the same on
every family and readable in a log. An answer may come as an IEEE 488.2 block (``#9000001200...``,
as Rigol sends it) or bare; both are read.
"""

from __future__ import annotations

import math
import time
from typing import Any

from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_
from drivers.instruments.base import ScpiInstrument
from drivers.instruments.interfaces import Oscilloscope, Waveform
from drivers.instruments.profiles import ScopeProfile
from drivers.instruments.scpi import FAULT

MAX_POINTS = 250_000
_POLL = 0.05  # seconds between two questions "did it trigger?"


class ScpiScope(ScpiInstrument, Oscilloscope):
    """The oscilloscope at a ``visa://`` URL."""

    role = "scope"
    profile: ScopeProfile

    def arm_single(self, channel: int = 1, level: float | None = None) -> None:
        """Arm a single-shot edge trigger on ``channel`` (each command checked with ``SYST:ERR?``)."""
        ch = _channel(channel)
        *setup, single = self.profile.arm
        for command in setup:
            self.session.configure(command.format(ch=ch))
        if level is not None:
            if not math.isfinite(level):
                raise ConfigError(N_("scope: a trigger level must be a number of volts, not {level!r}", level=level))
            self.session.configure(self.profile.level.format(v=level))
        self.session.configure(single.format(ch=ch))

    def wait_triggered(self, timeout: float) -> bool:
        """Ask until the capture is done or ``timeout`` seconds passed; False when it never triggered."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if self.session.query(self.profile.triggered) == self.profile.triggered_answer:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)

    def waveform(self, channel: int = 1) -> Waveform:
        """The captured samples of ``channel`` (volts) with the time base they were taken on."""
        ch = _channel(channel)
        for command in self.profile.read_setup:
            self.session.configure(command.format(ch=ch))
        x_increment = self.session.query_number(self.profile.x_increment)
        x_origin = self.session.query_number(self.profile.x_origin)
        if not x_increment > 0:
            raise EquipmentError(N_("{label}: a sample interval of {x_increment} s", label=self.session.label, x_increment=x_increment), fault_code=FAULT)
        values = parse_ascii_block(self.session.query(self.profile.data), self.session.label)
        return Waveform(ch, x_increment, x_origin, values)


def parse_ascii_block(answer: str, label: str = "scope") -> tuple[float, ...]:
    """Comma-separated numbers, after an IEEE 488.2 block header when there is one.

    Raises:
        EquipmentError: a header that does not fit, a value that is not a number, too many points.
    """
    text = answer.strip()
    if text.startswith("#"):
        digits = int(text[1]) if len(text) > 1 and text[1].isdigit() else -1
        length = text[2:2 + digits]
        if digits < 1 or len(length) != digits or not length.isdigit():
            raise EquipmentError(N_("{label}: a waveform block header {text!r} that cannot be read", label=label, text=text[:12]), fault_code=FAULT)
        text = text[2 + digits:2 + digits + int(length)]
    items = [item for item in text.replace("\n", ",").split(",") if item.strip()]
    if len(items) > MAX_POINTS:
        raise EquipmentError(N_("{label}: {items_len} waveform points, more than {MAX_POINTS}", label=label, items_len=len(items), MAX_POINTS=MAX_POINTS), fault_code=FAULT)
    try:
        values = tuple(float(item) for item in items)
    except ValueError:
        raise EquipmentError(N_("{label}: a waveform value that is not a number", label=label), fault_code=FAULT) from None
    if not all(math.isfinite(v) for v in values):
        raise EquipmentError(N_("{label}: a waveform value that is not finite", label=label), fault_code=FAULT)
    return values


def _channel(channel: int) -> int:
    if not isinstance(channel, int) or not 1 <= channel <= 16:
        raise ConfigError(N_("scope: channel must be a number from 1 to 16, not {channel!r}", channel=channel))
    return channel


def open_scope(url: str, **options: Any) -> ScpiScope:
    """Open the oscilloscope at ``visa://RESOURCE[?backend=...&timeout=...&profile=...]``."""
    return ScpiScope(url, **options)
