"""The devices of one slot of a multi-up station, and the devices its slots share.

Each slot has its own unit, card reader and printer as a rule; a fixture may also have a
device every slot uses (one printer for four units). A shared device is opened once and
used by one slot at a time: a step that needs it takes its turn first (:meth:`SlotDevices.turn`),
and gives it back when its check ends. A step that times out while holding a turn has it
taken back by its supervisor, with the device closed and reopened by its next user, so a hung
driver in one slot never keeps the other slots waiting.

A device whose class says it is :attr:`~drivers.interfaces.Device.concurrent` (a server every
slot's unit reaches, such as the bench host) is shared without turns: the first slot that needs
it opens it under a turn (no two slots open it at once), and from then on every slot uses it at
the same time. One slot's timeout never closes it: the other slots are using it, and a server
is not what a hung step waits on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping

from bench.devices import DeviceSet, Opener
from bench.errors import BenchError
from drivers.interfaces import Device

_LOG = logging.getLogger(__name__)


class SharedDevices:
    """Devices all the slots of a station share, each used by one slot at a time (a concurrent one: by all at once).

    Args:
        urls: role -> URL of the shared devices (the station file's ``[devices]``).
        opener: how to open one (default: :func:`drivers.registry.open_device`).
    """

    def __init__(self, urls: Mapping[str, str], opener: Opener | None = None) -> None:
        self.roles = frozenset(urls)
        self._set = DeviceSet(urls, opener)
        self._cond = threading.Condition()
        self._owner: dict[str, object] = {}
        self._concurrent: set[str] = set()  # roles whose device, once opened, said it takes no turns
        self._open_lock = threading.Lock()  # opening a concurrent role: one slot at a time

    def urls(self, roles: Iterable[str]) -> dict[str, str]:
        """Role -> URL of the shared devices in ``roles``."""
        return {role: self._set.urls[role] for role in roles}

    def take(self, roles: Iterable[str], owner: object, given_up: Callable[[], bool]) -> bool:
        """Wait for every role in ``roles`` to be free and take them all (no partial holds: no deadlock).

        Returns False, holding nothing, when ``given_up()`` became true meanwhile (the step was abandoned).
        """
        wanted = sorted(set(roles) & self.roles)
        with self._cond:
            while any(r not in self._concurrent and self._owner.get(r, owner) is not owner for r in wanted):
                if given_up():
                    return False
                self._cond.wait(0.25)
            turns = [r for r in wanted if r not in self._concurrent]
            for role in turns:
                self._owner[role] = owner
        self._set.open(turns)  # outside the lock: a slow open keeps waiting only the slots that need this device
        free = [r for r in wanted if r not in turns]
        if free:
            with self._open_lock:
                self._set.open(free)
        learnt = [r for r in turns if getattr(self._set.get(r), "concurrent", False)]
        if learnt:  # no turns on these from now on: let the slots waiting for them go
            with self._cond:
                self._concurrent.update(learnt)
                for role in learnt:
                    del self._owner[role]
                self._cond.notify_all()
        return True

    def give_back(self, owner: object, roles: Iterable[str] | None = None) -> None:
        """Free the roles ``owner`` holds (those in ``roles``, or all)."""
        with self._cond:
            for role, who in list(self._owner.items()):
                if who is owner and (roles is None or role in roles):
                    del self._owner[role]
            self._cond.notify_all()

    def reset(self, roles: Iterable[str]) -> None:
        """Close shared devices (a step on them timed out); their next user reopens them.

        A concurrent device stays open: the other slots are using it.
        """
        with self._cond:
            self._set.reset([r for r in roles if r in self.roles and r not in self._concurrent])

    def get(self, role: str) -> Device | None:
        """The open shared device in ``role``, or None."""
        return self._set.get(role)

    def error(self, role: str) -> BenchError | None:
        """Why a shared ``role`` is not available, or None."""
        return self._set.error(role)

    def close(self) -> None:
        """Close every shared device (after every slot finished)."""
        with self._cond:
            self._set.close()


class SlotDevices(DeviceSet):
    """One slot's devices: its own, plus the station's shared ones (taken in turns).

    Args:
        urls: the slot's own role -> URL.
        shared: the station's shared devices (None: the slot has all its devices to itself).
        opener: how to open one of its own devices.
    """

    def __init__(self, urls: Mapping[str, str], shared: SharedDevices | None = None,
                 opener: Opener | None = None) -> None:
        super().__init__(urls, opener)
        self.shared = shared
        self._turns: set[object] = set()  # owners (step threads) holding a turn on shared devices
        # The station's shared roles this slot has no device of its own for: fixed for the slot's life.
        self._shared_roles = frozenset(shared.roles - set(urls)) if shared is not None else frozenset()
        if shared is not None:
            self.urls.update(shared.urls(self._shared_roles))

    def _is_shared(self, role: str) -> bool:
        return role in self._shared_roles

    def open(self, roles: Iterable[str]) -> None:
        """Open this slot's own roles; a shared one is opened when a step takes its turn on it (:meth:`turn`)."""
        super().open([r for r in roles if not self._is_shared(r)])

    def error(self, role: str) -> BenchError | None:
        """Why ``role`` is not available, or None."""
        if self._is_shared(role):
            assert self.shared is not None
            return self.shared.error(role)
        return super().error(role)

    def get(self, role: str) -> Device | None:
        """The open device in ``role`` (shared or not), or None."""
        if self._is_shared(role):
            assert self.shared is not None
            return self.shared.get(role)
        return super().get(role)

    def mapping(self) -> dict[str, Device]:
        """All open devices by role, shared ones included."""
        out = super().mapping()
        if self.shared is not None:
            for role in self._shared_roles:
                dev = self.shared.get(role)
                if dev is not None:
                    out[role] = dev
        return out

    def reset(self, roles: Iterable[str]) -> None:
        """Close ``roles``; a shared one is closed for every slot and this slot's turn on it is freed."""
        roles = list(roles)
        super().reset([r for r in roles if not self._is_shared(r)])
        shared = [r for r in roles if self._is_shared(r)]
        if shared and self.shared is not None:
            self.shared.reset(shared)
            for owner in list(self._turns):
                self.shared.give_back(owner, shared)

    @contextlib.contextmanager
    def turn(self, roles: Iterable[str], owner: object, given_up: Callable[[], bool]) -> Iterator[bool]:
        """Hold the shared devices among ``roles`` for the block; yields False when the wait was given up."""
        wanted = [r for r in roles if self._is_shared(r)]
        if not wanted or self.shared is None:
            yield True
            return
        if not self.shared.take(wanted, owner, given_up):
            yield False
            return
        self._turns.add(owner)
        try:
            yield True
        finally:
            self._turns.discard(owner)
            self.shared.give_back(owner, wanted)
