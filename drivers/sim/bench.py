"""The simulated bench: a simulated unit on a pty, virtual cards behind pcscd, the acquirer host, instruments.

``SimBench`` starts what a plan needs, hands out the URLs a station file would hold,
and the operator actions a scripted operator performs (insert a card, ...). It tears
everything down on ``close()``. The unit runs as its own process, so a reboot or a
power loss is a real event on the line.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from drivers.errors import EquipmentError
from drivers.i18n import N_
from drivers.sim.scenario import SimDevices

_LOG = logging.getLogger(__name__)

READY_TIMEOUT = 10.0


class SimUnitProcess:
    """The simulated unit as a child process serving the link protocol on a pty.

    Args:
        profile: the merged unit profile (plain data).
        link: where the pty symlink goes (the unit's URL).
        baud: optional line pacing.
    """

    def __init__(
        self, profile: dict[str, Any], link: Path, baud: int | None = None, control: Path | None = None
    ) -> None:
        self.profile = profile
        self.link = link
        self.baud = baud
        self.control = control
        self.proc: subprocess.Popen[bytes] | None = None
        self._terminated = False

    def start(self) -> None:
        """Start the process and wait until it serves (its READY line)."""
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it: the caller does other work meanwhile, then :meth:`wait_ready`."""
        cmd = [sys.executable, "-m", "drivers.sim.unit", "--profile-json", json.dumps(self.profile), "--link", str(self.link)]
        if self.baud:
            cmd += ["--baud", str(self.baud)]
        if self.control is not None:
            cmd += ["--control", str(self.control)]
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def wait_ready(self) -> None:
        """Wait until the spawned process serves (its READY line).

        Raises:
            EquipmentError: it exited or did not say READY within :data:`READY_TIMEOUT`.
        """
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith(b"READY"):
                    _LOG.debug("simulated unit serving on %s", self.link)
                    return
                if not line:
                    break
            if self.proc.poll() is not None:
                break
        err = b""
        if self.proc.poll() is not None and self.proc.stderr is not None:
            err = self.proc.stderr.read()
        self.stop()
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or [line.decode(errors="replace").strip()]
        raise EquipmentError(N_("the simulated unit did not start: {value}", value=detail[0] or 'no READY line'), fault_code="BENCH-ERROR")

    def alive(self) -> bool:
        """True while the process runs (False after a simulated power loss)."""
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting: :meth:`stop` waits, after other work."""
        if self.proc is not None and self.proc.poll() is None and not self._terminated:
            self.proc.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.terminate()
            _until_exit(self.proc, 3)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.proc = None
        self._terminated = False


def _until_exit(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Sleep until ``proc`` exits (or ``timeout``); Popen.wait with a timeout polls, up to 50 ms late."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: Popen.wait's polling it is
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def _substituting(
    actions: dict[str, Callable[..., None]], substitute: dict[str, str | None]
) -> dict[str, Callable[..., None]]:
    """Card actions that put a faulty card where the plan asks for a good one.

    This is how a scenario models a faulty card reader: the operator inserts the known-good
    test card, and the unit's reader behaves as if the card were mute, slow, flaky, ...
    """
    if not substitute:
        return actions
    out = dict(actions)
    for name in ("insert_card", "tap_card"):
        original = actions.get(name)
        if original is None:
            continue

        def swapped(card: str, *args: Any, _original: Callable[..., None] = original, **kw: Any) -> None:
            replacement = substitute.get(card, card)
            if replacement is None:
                return  # the reader never sees this card (a dead antenna, a broken card slot)
            _original(replacement, *args, **kw)

        out[name] = swapped
    return out


def unit_actions(control: Any) -> dict[str, Callable[..., None]]:
    """Operator actions on the simulated unit, through its control socket (not the link).

    ``press_keys(keys=[...])`` presses each key once, in order, like a person would;
    ``swipe_card(card=name)`` swipes a magstripe test card through the unit's reader.
    """

    def press_keys(keys: list[str] | None = None, **_: Any) -> None:
        control.send("press_keys", keys=list(keys or []))

    def swipe_card(card: str = "msr-test", **_: Any) -> None:
        control.send("swipe_card", card=card)

    return {"press_keys": press_keys, "swipe_card": swipe_card}


# -- helpers SimBench and SimStation (drivers/sim/station.py) share: one unit, one reader slot, one printer
def spawn_unit(folder: Path, profile: dict[str, Any], name: str) -> SimUnitProcess:
    """Spawn a simulated unit whose pty link is ``folder/name`` and control socket ``folder/name.ctl``."""
    unit = SimUnitProcess(profile, folder / name, control=folder / f"{name}.ctl")
    unit.spawn()
    return unit


def unit_ready(unit: SimUnitProcess) -> tuple[str, Any, dict[str, Callable[..., None]]]:
    """Wait for a spawned unit; its URL, its :class:`~drivers.sim.unit.SimUnitControl` and operator actions."""
    from drivers.sim.unit import SimUnitControl

    assert unit.control is not None
    unit.wait_ready()
    control = SimUnitControl(unit.control)
    return str(unit.link), control, unit_actions(control)


def reader_slot(cards: Any, slot: int, devices: SimDevices) -> tuple[str, dict[str, Callable[..., None]]]:
    """URL and operator actions of a leased reader ``slot`` of ``cards`` (a SimCardBench), per ``devices``.

    The actions act on that reader only, with the scenario's card substitutions; the
    scenario's ``inserted`` card goes in now.
    """
    from drivers.sim.cardbench import operator_actions

    actions = _substituting(operator_actions(cards, slot), devices.substitute)
    if devices.inserted:
        cards.insert(devices.inserted, slot=slot)
    return cards.reader_url(slot), actions


def start_host(devices: SimDevices) -> tuple[Any, str]:
    """Start the scenario's acquirer host on 127.0.0.1 (a free port); it and its ``?backend=sim`` URL.

    The bench runs the host, not the run's device opener: the host is there before any slot
    opens it, one per bench however many slots open it, with the scenario's behaviours, and it
    keeps its evidence when a slot's step times out (a slot's device is a view of it).
    """
    from drivers.acquirer import AcquirerHost
    from drivers.acquirer.device import publish

    host = AcquirerHost(devices.host, "127.0.0.1", 0).start()
    return host, publish(host)


def stop_host(host: Any) -> None:
    """Stop a host :func:`start_host` started."""
    from drivers.acquirer.device import unpublish

    unpublish(host)
    host.stop()


def plug_printer(bus: Any, devices: SimDevices, serial: str | None = None) -> Any:
    """Plug the scenario's printer (faults, identity; ``serial`` if given) into a simulated USB bus."""
    return bus.add_printer(devices.printer_faults, info=devices.printer_info, serial=serial)


class SimBench:
    """Everything simulated that a plan needs, for one run.

    Args:
        devices: the validated device half of a scenario (unit profile, cards, printer faults).
        roles: device roles the plan needs; only those are started.
    """

    def __init__(self, devices: SimDevices, roles: Iterable[str] = ("unit",)) -> None:
        self.devices = devices
        self.roles = set(roles)
        self.urls: dict[str, str] = {}
        self.actions: dict[str, Callable[..., None]] = {}
        self._tmp: Path | None = None
        self._unit: SimUnitProcess | None = None
        self._cards: Any = None
        self._printer_bus: Any = None
        self.printer: Any = None  # the simulated printer, for scenarios that change it mid-run
        self.unit_control: Any = None  # SimUnitControl: the simulated operator's hands on the unit
        self.acquirer: Any = None  # the AcquirerHost behind the host role: its exchanges and findings
        self.instruments: Any = None  # SimInstruments (supply, dmm, scope): their readings, set at run time

    def spawn(self) -> SimBench:
        """Start the simulated unit's process without waiting for it to serve (:meth:`start` waits).

        The unit's process takes a while to start; a caller that has other start-up work
        (opening the store, importing what the run needs) spawns it first and overlaps the two.
        """
        if self._tmp is None:
            from drivers.sim import tmpdirs

            self._tmp = tmpdirs.make()  # names its owner; removes the folders of benches killed before
            try:
                if "unit" in self.roles:
                    self._spawn_unit()
            except BaseException:
                self.close()
                raise
        return self

    def start(self) -> SimBench:
        """Start the simulated devices the plan needs (after :meth:`spawn`, or instead of it)."""
        self.spawn()
        try:
            if "host" in self.roles and self.acquirer is None:
                self.acquirer, self.urls["host"] = start_host(self.devices)
            if self._unit is not None:
                self._unit_ready()
            if "card_reader" in self.roles:
                self._start_cards()
            if "printer" in self.roles:
                self._start_printer()
            if self.roles & {"supply", "dmm", "scope"} and self.instruments is None:
                self._start_instruments()
        except BaseException:
            self.close()
            raise
        return self

    @property
    def folder(self) -> Path:
        """The bench's own temp folder (removed when it closes), once started."""
        if self._tmp is None:
            raise RuntimeError("the simulated bench is not started")
        return self._tmp

    @property
    def cardbench(self) -> Any:
        """The :class:`~drivers.sim.cardbench.SimCardBench` behind the card reader (None without one)."""
        return self._cards

    def _spawn_unit(self) -> None:
        assert self._tmp is not None
        self._unit = spawn_unit(self._tmp, self.devices.unit, "unit0")

    def _unit_ready(self) -> None:
        assert self._unit is not None
        if "unit" in self.urls:
            return
        self.urls["unit"], self.unit_control, actions = unit_ready(self._unit)
        self.actions.update(actions)

    def _start_cards(self) -> None:
        from drivers.sim.cardbench import SimCardBench

        self._cards = SimCardBench()
        self._cards.__enter__()
        self.urls["card_reader"], actions = reader_slot(self._cards, self._cards.lease(), self.devices)
        self.actions.update(actions)

    def _start_printer(self) -> None:
        """The simulated USB printer lives in this process, behind pyusb's backend interface.

        Installing the bus registers it with the USB opener as ``?backend=sim``; closing the
        bench unregisters it.
        """
        from drivers.sim.usbprinter import install_sim_backend

        self._printer_bus = install_sim_backend()
        self.printer = plug_printer(self._printer_bus, self.devices)
        self.urls["printer"] = self.printer.url

    def _start_instruments(self) -> None:
        """PyVISA-sim instruments described by the bench's own copy of ``drivers/sim/instruments/``."""
        from drivers.sim.instrumentbench import SimInstruments

        assert self._tmp is not None
        self.instruments = SimInstruments(self._tmp)
        if self.unit_control is not None:  # the readings follow what the unit does
            self.instruments.follow(self.unit_control, self.devices.unit["power"])
        self.urls.update({role: url for role, url in self.instruments.urls.items() if role in self.roles})

    def stop_unit_soon(self) -> None:
        """Ask the unit's process to stop, without waiting: it exits while the caller writes reports.

        :meth:`close` still waits for it. Call this once nothing talks to the unit any more.
        """
        if self._unit is not None:
            self._unit.terminate()

    def close(self) -> None:
        """Stop everything that was started."""
        if self.instruments is not None:
            self.instruments.close()
            self.instruments = None
        if self.acquirer is not None:
            stop_host(self.acquirer)
            self.acquirer = None
        if self._printer_bus is not None:
            from drivers.sim.usbprinter import uninstall_sim_backend

            uninstall_sim_backend()
            self._printer_bus = None
        if self._unit is not None:
            self._unit.stop()
            self._unit = None
        if self._cards is not None:
            self._cards.close()
            self._cards = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SimBench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
