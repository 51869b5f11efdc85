"""Is every device of a station there? Open each one, ask it who it is, close it (``bench station check``).

Each device is opened through :func:`drivers.registry.open_device`, on a thread of its own, and
asked only harmless, cheap questions: the unit its identity (``identify()``), a card reader its
name and whether a card is in it, a printer its real-time status and ``GS I`` identity; the bench
host is started where the station says (a port in use is its error) and says where it listens; an
instrument (supply, multimeter, oscilloscope) its ``*IDN?`` (its driver's timeout: 2 s by default). Nothing
is printed, no card is powered, the unit is not rebooted. Shared devices are opened once.

All devices are checked at once, so the wait is that of the slowest device, not the sum: a
device that does not answer costs its driver's own timeouts, at worst about 4 s (a unit that
answers nothing: 4 tries of 0.5 s at the handshake, and 2 s more when it stops after it; a
printer: 2 s for its status and 2 s for its identity), whatever the number of slots; a unit
behind a serial server whose host is down (no answer at all) costs pyserial's 5 s connect timeout. Measured:
16 slots of silent units and missing readers, 2.1 s for ``bench station check``, as for one. Every
device opened is closed before :func:`check_station` returns, also when it is interrupted
(Ctrl-C): the devices are closed under :func:`bench.interrupts.shielded` and the threads waited
for. A device still being opened (a unit in its handshake) cannot be cut short from outside, so
Ctrl-C waits for its driver's timeouts (the same 4 s at worst); a second Ctrl-C leaves at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench import interrupts
from bench.errors import BenchError, ConfigError
from bench.errors import said as _said
from bench.station import Station
from drivers.i18n import N_
from drivers.instruments.interfaces import Instrument
from drivers.interfaces import CardReader, Device, Printer, Unit

_LOG = logging.getLogger(__name__)


@dataclass
class DeviceCheck:
    """What one device of a station answered (``identity``), or why it did not (``error``)."""

    role: str
    url: str
    ok: bool = False
    identity: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    fault_code: str | None = None
    bad_url: bool = False  # the driver refused the URL itself: the station file is wrong
    server: str | None = None  # host:port of the serial server a network port (rfc2217://) goes through
    server_error: str = ""  # why that server could not be reached (empty: it was, or there is none)

    @property
    def reachable(self) -> bool | None:
        """Whether the serial server took the connection (None: the device is not behind one)."""
        return None if self.server is None else not self.server_error

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: role, url, ok, and the identity or the error."""
        out: dict[str, Any] = {"role": self.role, "url": self.url, "ok": self.ok}
        if self.server is not None:
            out["server"] = {"address": self.server, "reachable": self.reachable}
        if self.ok:
            out["identity"] = self.identity
        else:
            out["error"] = self.error
            out["fault_code"] = self.fault_code
        return out


@dataclass
class StationCheck:
    """The checks of a station's devices: the shared ones, and each slot's own."""

    station: Station
    shared: list[DeviceCheck]
    slots: dict[int, list[DeviceCheck]]
    problems: list[str] = field(default_factory=list)  # wiring faults seen across slots

    @property
    def ok(self) -> bool:
        """Every device answered and no two slots reach the same device."""
        return not self.problems and all(c.ok for c in self.all())

    def all(self) -> list[DeviceCheck]:
        """Every device check, shared ones first."""
        return [*self.shared, *(c for checks in self.slots.values() for c in checks)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``bench station check --json`` prints."""
        return {
            "station": self.station.name,
            "slots": [{"slot": n, "ok": all(c.ok for c in checks), "devices": [c.to_dict() for c in checks]}
                      for n, checks in self.slots.items()],
            "shared": [c.to_dict() for c in self.shared],
            "problems": self.problems,
            "ok": self.ok,
        }


def check_station(station: Station, slots: Iterable[int] = ()) -> StationCheck:
    """Open every device of ``slots`` (every slot when empty) and of the shared set, and ask each who it is.

    Raises:
        UsageError: a slot the station does not have.
        KeyboardInterrupt: interrupted; every device opened was closed first.
    """
    picked = station.select_slots(slots)
    shared = [_check_of(role, url) for role, url in station.shared.items()]
    own = {n: [_check_of(role, url) for role, url in station.slots[n].items()] for n in picked}
    result = StationCheck(station, shared, own)
    _Prober().run(result.all())
    result.problems = _crossed(own)
    return result


def _check_of(role: str, url: str) -> DeviceCheck:
    from drivers.netport import is_network, server_of

    return DeviceCheck(role, url, server=server_of(url) if is_network(url) else None)


class _Prober:
    """Runs one check per thread; closes whatever is still open when told to stop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[Device] = set()
        self._stopping = False
        self._finished = threading.Condition(self._lock)
        self._running = 0

    def run(self, checks: list[DeviceCheck]) -> None:
        try:
            with interrupts.shielded():  # a signal inside Thread.start() would leave the count wrong
                for c in checks:
                    with self._lock:
                        self._running += 1
                    try:
                        threading.Thread(target=self._check, args=(c,), name=f"station-check-{c.role}",
                                         daemon=True).start()
                    except RuntimeError:  # no thread to be had: it never runs
                        with self._lock:
                            self._running -= 1
                        raise
            self._wait()
        except BaseException:
            with interrupts.shielded():  # close what is open; a second signal cuts the wait short
                self._stop()
                self._wait()
            raise

    def _wait(self) -> None:
        # Not Thread.join(): on Python 3.11 a join interrupted by Ctrl-C marks a live thread stopped.
        with self._finished:
            while self._running:
                self._finished.wait()

    def _stop(self) -> None:
        with self._lock:
            self._stopping = True
            devices = list(self._open)
        for device in devices:  # a device's close() unblocks the call its thread waits in
            _close(device)

    def _check(self, check: DeviceCheck) -> None:
        try:
            self._probe(check)
        finally:
            with self._finished:
                self._running -= 1
                self._finished.notify_all()

    def _probe(self, check: DeviceCheck) -> None:
        from drivers.registry import open_device

        try:
            device = open_device(check.role, check.url)
        except Exception as exc:  # whatever the driver raised is this device's answer
            _failed(check, exc)
            return
        with self._lock:
            stopping = self._stopping
            if not stopping:
                self._open.add(device)
        try:
            if not stopping:
                check.identity = _identity(device)
                check.ok = True
        except Exception as exc:  # a driver bug included: this device did not answer
            _failed(check, exc)
        finally:
            with self._lock:
                self._open.discard(device)
            _close(device)


def _identity(device: Device) -> dict[str, Any]:
    """What a device says about itself, asked cheaply and harmlessly."""
    if isinstance(device, Unit):
        ident = device.identify()
        return {"model": ident.model, "serial": ident.serial, "firmware": ident.firmware,
                "hw_revision": ident.hw_revision}
    if isinstance(device, CardReader):
        return {"reader": device.reader_name, "card_present": device.card_present()}
    if isinstance(device, Printer):
        status = device.status()
        out: dict[str, Any] = {"status": status.describe(), "ready": status.ready}
        try:
            said = device.identify()
        except BenchError as exc:  # it answered its status: it is there, only quiet about its name
            _LOG.debug("printer %s: no identity: %s", device.url, exc)
        else:
            out.update(manufacturer=said.manufacturer, model=said.model, firmware=said.firmware,
                       serial=said.serial)
        return out
    if isinstance(device, Instrument):
        said_ = device.identify()
        return {"manufacturer": said_.manufacturer, "model": said_.model, "serial": said_.serial,
                "firmware": said_.firmware}
    from drivers.acquirer.device import HostDevice  # only for a device none of the above is

    if isinstance(device, HostDevice):
        return {"listening": device.url}
    return {}


def _failed(check: DeviceCheck, exc: Exception) -> None:
    from drivers.netport import ServerUnreachable

    check.ok = False
    if isinstance(exc, ServerUnreachable):
        check.server_error = exc.reason
    if isinstance(exc, BenchError):
        check.error, check.fault_code = _said(exc), exc.fault_code
        check.bad_url = isinstance(exc, ConfigError)
    else:  # a driver bug or a library's own error: still one line, and the technician sees which device
        _LOG.debug("checking %s %s", check.role, check.url, exc_info=True)
        check.error, check.fault_code = f"{type(exc).__name__}: {exc}", "BENCH-ERROR"
    one_line = " ".join(check.error.split())
    if one_line != check.error:  # a message over several lines (a Text's English already is one line)
        check.error = one_line


def _close(device: Device) -> None:
    try:
        device.close()
    except Exception as exc:  # closing a device that went away
        _LOG.debug("closing %s: %s", getattr(device, "url", device), exc)


def _crossed(slots: dict[int, list[DeviceCheck]]) -> list[str]:
    """Two slots that reached the same device through different URLs (a pattern that matches both readers)."""
    seen: dict[tuple[str, str], int] = {}
    problems: list[str] = []
    for n, checks in slots.items():
        for c in checks:
            name = c.identity.get("reader") if c.ok and c.role == "card_reader" else None
            if name is None:
                continue
            first = seen.setdefault((c.role, name), n)
            if first != n:
                problems.append(N_("slots {first} and {n} both reach card reader {name!r}", first=first, n=n, name=name))
    return problems
