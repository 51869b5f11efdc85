"""The simulated multi-up station: N slots, each with its own unit, card reader, printer and instruments.

``SimStation({1: devices, 2: devices, ...}, roles)`` is :class:`~drivers.sim.bench.SimBench`
for a fixture with several slots, and shares its helpers: every slot gets its own unit
process (all spawned at once, then waited for), its own vpcd reader slot (one
:class:`~drivers.sim.cardbench.SimCardBench` leasing N slots, all or none) and its own
printer on one simulated USB bus private to the station (``?backend=sim:station-K``).
Slots never share a device but the acquirer host: each slot's card actions act on its own
reader only, and one host (the scenario's behaviours) serves every slot's unit at once; slots
whose scenarios give the host other behaviours get a host of their own.

Serials: a slot's unit reports its profile's serial when every slot's serial differs (a
lot's units, each given :meth:`~drivers.sim.scenario.SimDevices.with_serial`); when two
slots would report the same one (the same scenario in several slots), every unit gets
its slot number appended, two digits: ``PT3-000123-01``, ``PT3-000123-02``, ... The
printers' serials follow the same rule (``SIM00001-01``, ...).
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.sim.bench import SimUnitProcess, plug_printer, reader_slot, spawn_unit, start_host, stop_host, unit_ready
from drivers.sim.pcscd import DEFAULT_SLOTS, MAX_SLOTS
from drivers.sim.scenario import SimDevices

_LOG = logging.getLogger(__name__)

_BUS_NUMBERS = itertools.count(1)


def distinct_serials(serials: Mapping[int, str]) -> dict[int, str]:
    """Per slot, the serial it reports: as given when all differ, else each with ``-NN`` (its slot) appended."""
    if len(set(serials.values())) == len(serials):
        return dict(serials)
    return {slot: f"{serial}-{slot:02d}" for slot, serial in serials.items()}


class SimStation:
    """Everything simulated that a multi-up run needs, one set per slot.

    Args:
        devices_by_slot: slot number (1, 2, ...; as the station file numbers them) -> that
            slot's validated scenario devices.
        roles: device roles the plan needs (``unit``, ``card_reader``, ``printer``, ``host``, ``supply``...); only
            those are started, in every slot.

    Raises:
        ConfigError: no slot, a slot that is not a positive integer, or more than
            :data:`~drivers.sim.pcscd.MAX_SLOTS` slots.
    """

    def __init__(self, devices_by_slot: Mapping[int, SimDevices], roles: Iterable[str] = ("unit",)) -> None:
        slots = sorted(devices_by_slot)
        if not slots:
            raise ConfigError(N_("a simulated station needs at least one slot"))
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in slots):
            raise ConfigError(N_("slot numbers are positive integers, not {slots!r}", slots=slots))
        if len(slots) > MAX_SLOTS:
            raise ConfigError(N_("a simulated station has at most {MAX_SLOTS} slots (one card reader each: pcscd serves {MAX_SLOTS}), not {slots_len}", MAX_SLOTS=MAX_SLOTS, slots_len=len(slots)))
        serials = distinct_serials({s: str(devices_by_slot[s].unit["serial"]) for s in slots})
        self.devices_by_slot: dict[int, SimDevices] = {
            s: devices_by_slot[s].with_serial(serials[s]) for s in slots}
        self.roles = set(roles)
        self.urls_by_slot: dict[int, dict[str, str]] = {s: {} for s in slots}
        self.actions_by_slot: dict[int, dict[str, Callable[..., None]]] = {s: {} for s in slots}
        self.printers_by_slot: dict[int, Any] = {}  # SimUsbPrinter: scenarios change one mid-run
        self.unit_controls_by_slot: dict[int, Any] = {}  # SimUnitControl: the operator's hands on each unit
        self.cards: Any = None  # the SimCardBench behind every slot's reader
        self.hosts_by_slot: dict[int, Any] = {}  # AcquirerHost: one for the station (per distinct behaviours)
        self.instruments_by_slot: dict[int, Any] = {}  # SimInstruments: each slot's own supply, multimeter, scope
        self._reader_slots: dict[int, int] = {}  # station slot -> vpcd slot
        self._units: dict[int, SimUnitProcess] = {}
        self._bus: str | None = None
        self._tmp: Path | None = None

    @property
    def slots(self) -> list[int]:
        """The slot numbers, in order."""
        return list(self.devices_by_slot)

    @property
    def folder(self) -> Path:
        """The station's own temp folder (removed when it closes), once started."""
        if self._tmp is None:
            raise RuntimeError("the simulated station is not started")
        return self._tmp

    def spawn(self) -> SimStation:
        """Spawn every slot's unit process without waiting for them (:meth:`start` waits)."""
        if self._tmp is None:
            from drivers.sim import tmpdirs

            self._tmp = tmpdirs.make()
            try:
                if "unit" in self.roles:
                    for slot, devices in self.devices_by_slot.items():
                        self._units[slot] = spawn_unit(self._tmp, devices.unit, f"unit{slot}")
            except BaseException:
                self.close()
                raise
        return self

    def start(self) -> SimStation:
        """Start every slot's devices: the readers and printers while the units boot, then wait for the units.

        A failure anywhere tears down what was started, whole, and raises.
        """
        self.spawn()
        try:
            if "host" in self.roles and not self.hosts_by_slot:
                self._start_hosts()
            if "card_reader" in self.roles and self.cards is None:
                self._start_cards()
            if "printer" in self.roles and self._bus is None:
                self._start_printers()
            if self.roles & {"supply", "dmm", "scope"} and not self.instruments_by_slot:
                self._start_instruments()
            for slot, unit in self._units.items():
                if "unit" not in self.urls_by_slot[slot]:
                    url, control, actions = unit_ready(unit)
                    self.urls_by_slot[slot]["unit"] = url
                    self.unit_controls_by_slot[slot] = control
                    self.actions_by_slot[slot].update(actions)
                    if slot in self.instruments_by_slot:  # its readings follow what its unit does
                        self.instruments_by_slot[slot].follow(control, self.devices_by_slot[slot].unit["power"])
        except BaseException:
            self.close()
            raise
        return self

    def _start_hosts(self) -> None:
        started: dict[Any, tuple[Any, str]] = {}  # behaviours -> (host, URL)
        for slot, devices in self.devices_by_slot.items():
            if devices.host not in started:
                started[devices.host] = start_host(devices)
            self.hosts_by_slot[slot], self.urls_by_slot[slot]["host"] = started[devices.host]

    def _start_cards(self) -> None:
        from drivers.sim.cardbench import SimCardBench

        self.cards = SimCardBench(slots=max(DEFAULT_SLOTS, len(self.devices_by_slot)))
        leased = self.cards.lease_slots(len(self.devices_by_slot))
        for slot, reader in zip(self.devices_by_slot, leased, strict=True):
            self._reader_slots[slot] = reader
            url, actions = reader_slot(self.cards, reader, self.devices_by_slot[slot])
            self.urls_by_slot[slot]["card_reader"] = url
            self.actions_by_slot[slot].update(actions)

    def _start_printers(self) -> None:
        from drivers.sim.printer import PrinterInfo
        from drivers.sim.usbprinter import install_sim_backend

        self._bus = f"station-{next(_BUS_NUMBERS)}"
        bus = install_sim_backend(self._bus)
        serials = distinct_serials({s: (d.printer_info or PrinterInfo()).serial for s, d in self.devices_by_slot.items()})
        for slot, devices in self.devices_by_slot.items():
            printer = plug_printer(bus, devices, serials[slot])
            self.printers_by_slot[slot] = printer
            self.urls_by_slot[slot]["printer"] = printer.url

    def _start_instruments(self) -> None:
        """Each slot its own instruments (a copy of the descriptions each: readings of its own unit)."""
        from drivers.sim.instrumentbench import SimInstruments

        assert self._tmp is not None
        for slot in self.devices_by_slot:
            instruments = self.instruments_by_slot[slot] = SimInstruments(self._tmp / f"slot{slot}")
            self.urls_by_slot[slot].update({r: u for r, u in instruments.urls.items() if r in self.roles})

    def card_in(self, slot: int) -> str | None:
        """Name of the card in ``slot``'s reader now (None: empty, or no reader started)."""
        reader = self._reader_slots.get(slot)
        card = self.cards.card_in(reader) if reader is not None and self.cards is not None else None
        return None if card is None else str(card.profile.name)

    def stop_units_soon(self) -> None:
        """Ask every unit's process to stop, without waiting (:meth:`close` waits)."""
        for unit in self._units.values():
            unit.terminate()

    def close(self) -> None:
        """Stop everything that was started (also after a start that failed half way); harmless twice."""
        for instruments in self.instruments_by_slot.values():
            instruments.close()
        self.instruments_by_slot.clear()
        if self._bus is not None:
            from drivers.sim.usbprinter import uninstall_sim_backend

            uninstall_sim_backend(self._bus)
            self._bus = None
        for host in {id(h): h for h in self.hosts_by_slot.values()}.values():
            stop_host(host)
        self.hosts_by_slot.clear()
        self.stop_units_soon()  # all stop at once; then wait for each
        for unit in self._units.values():
            unit.stop()
        self._units.clear()
        if self.cards is not None:
            self.cards.close()
            self.cards = None
        self._reader_slots.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SimStation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
