"""The simulated ESC/POS printer: a transport-free state machine over bytes.

:class:`SimPrinter` runs ``feed(bytes) -> bytes``: it executes ESC/POS, answers
``DLE EOT n``, ``GS I n`` and ``GS r n``, keeps the printed bytes (``page``) for the
renderer (:mod:`drivers.escpos.render`), and applies the faults of :class:`PrinterFaults`.
Any transport can carry it: the simulated USB bus (:mod:`drivers.sim.usbprinter`) or a pty.

Faults (a dict, e.g. the ``device: printer: faults:`` section of a scenario YAML)::

    paper_end: true            # out of paper: offline, printing stops
    paper_near_end: true       # near-end sensor
    cover_open: true           # offline, cover open
    cutter_jam: true           # the next cut sets the autocutter error (offline)
    head_overheat: true        # auto-recoverable error (offline)
    fatal: true                # unrecoverable error (offline)
    offline: true              # offline with no other cause
    feed_button: true          # feed button held
    offline_after_bytes: 200   # goes offline after accepting this many print bytes
    slow_lines_per_s: 2.0      # print engine speed (each line feed costs 1/N s)
    buffer_size: 1024          # bytes an offline printer still accepts before it stalls
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from drivers import escpos
from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.interfaces import PrinterStatus

_LOG = logging.getLogger(__name__)

EPSON_VID = 0x04B8
TM_T88_PID = 0x0E15
DEFAULT_BUFFER = 1024


class PrinterStalled(Exception):
    """The printer stopped accepting data (offline and its receive buffer is full)."""

    def __init__(self, accepted: int, replies: bytes) -> None:
        super().__init__(f"printer stalled after {accepted} bytes")
        self.accepted = accepted
        self.replies = replies


@dataclass
class PrinterFaults:
    """The faults of a simulated printer (see the module docstring for each key)."""

    paper_end: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    cutter_jam: bool = False
    head_overheat: bool = False
    fatal: bool = False
    offline: bool = False
    feed_button: bool = False
    offline_after_bytes: int | None = None
    slow_lines_per_s: float | None = None
    buffer_size: int = DEFAULT_BUFFER

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, *, path: str | None = None) -> PrinterFaults:
        """Validate a fault mapping (YAML); unknown keys and wrong types are a ConfigError."""
        data = dict(data or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                N_("unknown printer fault(s) {unknown}; known: {sorted}", unknown=unknown, sorted=sorted(known)),
                path=path,
                field="printer.faults",
            )
        out = cls()
        for key, value in data.items():
            default = getattr(out, key)
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(
                        N_("printer fault {key} must be true/false, not {value!r}", key=key, value=value),
                        path=path,
                        field=f"printer.faults.{key}",
                    )
            elif key in ("offline_after_bytes", "buffer_size"):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    raise ConfigError(
                        N_("printer fault {key} must be a whole number >= 0, not {value!r}", key=key, value=value),
                        path=path,
                        field=f"printer.faults.{key}",
                    )
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
                raise ConfigError(
                    N_("printer fault {key} must be a number > 0, not {value!r}", key=key, value=value),
                    path=path,
                    field=f"printer.faults.{key}",
                )
            setattr(out, key, value)
        return out


@dataclass(frozen=True)
class PrinterInfo:
    """What the simulated printer says it is."""

    manufacturer: str = "EPSON"
    model: str = "TM-T88V"
    firmware: str = "30.01 ESC/POS"
    serial: str = "SIM00001"
    vendor_id: int = EPSON_VID
    product_id: int = TM_T88_PID

    @property
    def device_id(self) -> str:
        """The IEEE 1284 device ID string."""
        mfg, mdl = self.manufacturer, self.model
        return f"MFG:{mfg};CMD:ESC/POS;MDL:{mdl};CLS:PRINTER;DES:{mfg} {mdl};"


class SimPrinter:
    """An ESC/POS printer as a state machine over bytes: ``feed(data) -> replies``.

    Args:
        info: identity answered to ``GS I``.
        faults: initial faults; change them later with :meth:`set_fault`.
    """

    def __init__(self, info: PrinterInfo | None = None, faults: PrinterFaults | None = None) -> None:
        self.info = info or PrinterInfo()
        self.faults = faults or PrinterFaults()
        self.page = bytearray()  # every print byte executed, for the renderer
        self.pending = bytearray()  # a command split across writes
        self.held = bytearray()  # bytes received while offline, not yet executed
        self.accepted = 0  # print bytes accepted (counts toward offline_after_bytes)
        self.lines_printed = 0
        self.cuts = 0
        self.cutter_error = False
        self.went_offline = False

    # -- state
    def set_fault(self, name: str, value: Any) -> None:
        """Change one fault now (e.g. open the cover mid-run); clearing the last cause resumes printing."""
        self.faults = replace(self.faults, **{name: value})
        if name == "cutter_jam" and not value:
            self.cutter_error = False
        if name in ("offline", "offline_after_bytes") and not value:
            self.went_offline = False

    @property
    def offline(self) -> bool:
        """True when the printer does not print (any offline cause)."""
        f = self.faults
        return (
            f.offline
            or self.went_offline
            or f.cover_open
            or f.paper_end
            or self.cutter_error
            or f.fatal
            or f.head_overheat
        )

    def status(self) -> PrinterStatus:
        """The printer's status as named conditions (what ``DLE EOT 1..4`` encode)."""
        f = self.faults
        flags = PrinterStatus(
            offline=self.offline,
            cover_open=f.cover_open,
            paper_end=f.paper_end,
            paper_near_end=f.paper_near_end,
            cutter_error=self.cutter_error,
            unrecoverable_error=f.fatal,
            auto_recoverable_error=f.head_overheat,
            feed_button=f.feed_button,
            paper_feeding=f.feed_button,
            waiting_online_recovery=f.head_overheat,
            stopped_by_paper_end=f.paper_end,
            error=self.cutter_error or f.fatal or f.head_overheat,
        )
        raw = bytes(escpos.encode_status_byte(n, flags) for n in (1, 2, 3, 4))
        return replace(flags, raw=raw)

    # -- bytes
    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return the bytes the printer sends back.

        Raises:
            PrinterStalled: the printer is offline and its receive buffer is full; the
                exception carries how many bytes were accepted and the replies so far.
        """
        if not self.offline and self.held:
            self._resume()
        base = len(self.pending)
        self.pending += data
        replies = bytearray()
        i = 0
        while i < len(self.pending):
            found = escpos.next_command(bytes(self.pending), i)
            if found is None:
                break
            cmd, nxt = found
            raw = bytes(self.pending[i:nxt])
            if cmd.realtime:
                replies += self._realtime(cmd)
            elif self.offline:
                if len(self.held) + len(raw) > self.faults.buffer_size:
                    accepted = max(0, i - base)
                    del self.pending[:i]
                    self.pending.clear()
                    raise PrinterStalled(accepted, bytes(replies))
                self.held += raw
            else:
                limit = self.faults.offline_after_bytes
                if limit is not None and self.accepted + len(raw) > limit:
                    self.went_offline = True
                    _LOG.debug("simulated printer goes offline after %d bytes", self.accepted)
                    self.held += raw
                else:
                    self.accepted += len(raw)
                    replies += self._execute(cmd, raw)
            i = nxt
        del self.pending[:i]
        return bytes(replies)

    def _resume(self) -> None:
        held, self.held = bytes(self.held), bytearray()
        cmds, _ = escpos.parse(held, final=True)
        for cmd in cmds:
            self._execute(cmd, b"")
        self.page += held

    def _realtime(self, cmd: escpos.Command) -> bytes:
        if cmd.name == "DLE EOT" and cmd.args and cmd.args[0] in (1, 2, 3, 4):
            return bytes([escpos.encode_status_byte(cmd.args[0], self.status())])
        return b""  # DLE ENQ / DLE DC4: no answer

    def _execute(self, cmd: escpos.Command, raw: bytes) -> bytes:
        self.page += raw
        name = cmd.name
        if name == "LF":
            self.lines_printed += 1
        elif name == "ESC d":
            self.lines_printed += cmd.args[0]
        elif name == "GS V":
            self.cuts += 1
            if self.faults.cutter_jam:
                self.cutter_error = True
        elif name == "GS I":
            return self._info(cmd.args[0])
        elif name == "GS r":
            f = self.faults
            value = (0b11 if f.paper_near_end else 0) | (0b1100 if f.paper_end else 0)
            return bytes([value])
        return b""

    def _info(self, n: int) -> bytes:
        info = self.info
        one_byte = {1: 0x20, 2: 0x02, 3: 0x01}
        if n in one_byte:
            return bytes([one_byte[n]])
        strings = {
            escpos.INFO_FIRMWARE: info.firmware,
            escpos.INFO_MANUFACTURER: info.manufacturer,
            escpos.INFO_MODEL: info.model,
            escpos.INFO_SERIAL: info.serial,
        }
        if n in strings:
            return escpos.encode_info(strings[n])
        return b""

    def render_png(self) -> bytes:
        """The printed page as a PNG (Pillow)."""
        from drivers.escpos.render import render_png

        return render_png(bytes(self.page))
