"""The simulated card bench: pcscd + vpcd slots + virtual cards, inserted on demand.

``SimCardBench`` makes sure pcscd runs with vpcd slots (:mod:`drivers.sim.pcscd`),
gives each slot a reader URL the real driver opens (``pcsc://Virtual PCD 00 00``), and
inserts/removes virtual cards (:mod:`drivers.sim.vcard`) through vpcd
(:mod:`drivers.sim.vpcd`). :func:`operator_actions` turns it into the handlers a
:class:`bench.operator.ScriptedOperator` needs for ``insert_card``, ``remove_card`` and
``tap_card``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, unquote

from drivers.errors import EquipmentError
from drivers.i18n import N_
from drivers.sim.pcscd import (
    DEFAULT_SLOTS,
    MAX_SLOTS,
    Pcscd,
    ensure_pcscd,
    reader_name,
    replace_bench_pcscd,
    slot_port,
)
from drivers.sim.vcard import CardProfile, VirtualCard
from drivers.sim.vpcd import VpcdCardClient

_LOG = logging.getLogger(__name__)


class SimCardBench:
    """pcscd with vpcd slots, and the virtual cards in them.

    Several benches (in one process or many) share the one pcscd and lease its slots
    (:meth:`lease`, :meth:`lease_slots`): a lock file per slot, held while the bench is open.

    Args:
        slots: vpcd slots wanted when pcscd has to be started (default
            :data:`~drivers.sim.pcscd.DEFAULT_SLOTS`, 14, room for parallel benches; at most 16).
        timeout: seconds to wait for pcscd and for card removals to be seen.
    """

    def __init__(self, slots: int = DEFAULT_SLOTS, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.pcscd: Pcscd = ensure_pcscd(slots, timeout)
        if self.pcscd.slots < min(slots, MAX_SLOTS) and not self.pcscd.started:
            # A pcscd an earlier bench left running has too few slots for this one: replace it
            # while nobody leases a slot (holding every lease so nobody starts meanwhile).
            self.pcscd = _while_idle(lambda: replace_bench_pcscd(slots, timeout)) or self.pcscd
        self.slots = self.pcscd.slots
        self._cards: dict[int, VpcdCardClient] = {}
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._leases: dict[int, int] = {}  # slot -> open lock file descriptor

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- addressing
    def reader_name(self, slot: int = 0) -> str:
        """PC/SC name of the reader of ``slot``."""
        self._check_slot(slot)
        return reader_name(slot)

    def reader_url(self, slot: int = 0) -> str:
        """URL that matches exactly this slot's reader, e.g. ``pcsc://Virtual%20PCD%2000%2000``."""
        return "pcsc://" + quote(self.reader_name(slot))

    def slot_of(self, url_or_name: str) -> int:
        """The slot whose reader a URL or reader name designates."""
        name = unquote(url_or_name.removeprefix("pcsc://"))
        for slot in range(self.slots):
            if reader_name(slot) == name:
                return slot
        raise EquipmentError(N_("{url_or_name!r} is not a reader of the simulated card bench", url_or_name=url_or_name),
                             fault_code="BENCH-CONFIG")

    def _check_slot(self, slot: int) -> None:
        if not 0 <= slot < self.slots:
            raise EquipmentError(N_("slot {slot} out of range (the simulated bench has {slots})", slot=slot, slots=self.slots),
                                 fault_code="BENCH-CONFIG")

    # -- leases: several simulated benches on one machine share pcscd, never a slot
    def lease(self) -> int:
        """Reserve a free slot for this process (a lock file per slot); EquipmentError when all are taken."""
        return self.lease_slots(1)[0]

    def lease_slots(self, n: int) -> list[int]:
        """Reserve ``n`` free slots at once, all or none (a multi-up station needs one per unit).

        The slots are empty when this returns: a last holder may have let go without waiting for
        pcscd to see its card leave, and pcscd would take the next card for that one (its ATR).

        Raises:
            EquipmentError: (BENCH-CONFIG) pcscd has fewer than ``n`` slots, or fewer than
                ``n`` are free; the message says how many are needed and free.
        """
        if n > self.slots:
            why = (f"pcsc-lite serves at most {MAX_SLOTS} readers" if n > MAX_SLOTS else
                   f"the running pcscd has {self.slots} (stop pcscd while no bench uses it: the next bench "
                   f"starts it with as many as it needs)")
            raise EquipmentError(N_("{n} simulated card reader slots needed, but {why}", n=n, why=why), fault_code="BENCH-CONFIG")
        got: dict[int, int] = {}
        for slot in range(self.slots):
            if len(got) == n:
                break
            if slot in self._leases:
                continue
            fd = _try_lock(slot)
            if fd is not None:
                got[slot] = fd
        if len(got) < n:
            free = len(got)
            for fd in got.values():
                os.close(fd)
            raise EquipmentError(
                N_("{n} simulated card reader slots needed, {free} of {slots} free (the others are leased by other simulated benches)", n=n, free=free, slots=self.slots), fault_code="BENCH-CONFIG")
        self._leases.update(got)
        for slot in got:
            self.wait_empty(slot)
        return sorted(got)

    def _others_active(self) -> bool:
        """True when another process holds a slot (so pcscd must keep running)."""
        taken: list[int] = []
        try:
            for slot in range(self.slots):
                if slot in self._leases:
                    continue
                fd = _try_lock(slot)
                if fd is None:
                    return True
                taken.append(fd)
            return False
        finally:
            for fd in taken:
                os.close(fd)

    # -- cards
    def card_in(self, slot: int = 0) -> VirtualCard | None:
        """The virtual card in ``slot`` (None when empty or pulled out)."""
        client = self._cards.get(slot)
        if client is None or client.gone.is_set():
            return None
        return client.card

    def insert(self, card: str | dict[str, Any] | CardProfile, slot: int = 0) -> VirtualCard:
        """Insert a card (profile name, dict or profile) into ``slot``, replacing any card there.

        Returns at once; pcscd sees the card on its next poll (~0.4 s).
        """
        self._check_slot(slot)
        vcard = VirtualCard(card)
        self.remove(slot)
        client = VpcdCardClient(vcard, slot_port(slot))
        client.insert()
        with self._lock:
            self._cards[slot] = client
        _LOG.info("inserted card %s into slot %d", vcard.profile.name, slot)
        return vcard

    def remove(self, slot: int = 0, wait: bool = True) -> None:
        """Take the card out of ``slot``; with ``wait``, until pcscd reports the reader empty."""
        self._check_slot(slot)
        with self._lock:
            client = self._cards.pop(slot, None)
        if client is None:
            return
        client.remove()
        _LOG.info("removed card %s from slot %d", client.card.profile.name, slot)
        if wait:
            self.wait_empty(slot)

    def wait_empty(self, slot: int, timeout: float | None = None) -> None:
        """Wait until pcscd reports ``slot``'s reader empty (so the next insertion is a new card)."""
        if not self.wait_state(slot, present=False, timeout=timeout):
            _LOG.warning("pcscd still reports a card in %r after %.1f s", reader_name(slot), timeout or self.timeout)

    def wait_state(self, slot: int, present: bool, timeout: float | None = None) -> bool:
        """Wait until pcscd reports a card in ``slot``'s reader (``present``) or none; False on timeout."""
        from smartcard import scard

        name = reader_name(slot)
        deadline = time.monotonic() + (timeout or self.timeout)
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            return True  # no pcscd to ask: nothing to wait for
        try:
            while time.monotonic() < deadline:
                hr, states = scard.SCardGetStatusChange(ctx, 0, [(name, scard.SCARD_STATE_UNAWARE)])
                if hr != scard.SCARD_S_SUCCESS:
                    return not present
                if bool(states[0][1] & scard.SCARD_STATE_PRESENT) == present:
                    return True
                time.sleep(0.02)
        finally:
            scard.SCardReleaseContext(ctx)
        return False

    def tap(self, card: str | dict[str, Any] | CardProfile, slot: int = 0, hold: float = 2.0) -> VirtualCard:
        """A contactless tap: the card is in the field for ``hold`` seconds, then leaves by itself."""
        vcard = self.insert(card, slot)
        timer = threading.Timer(hold, self._untap, args=(slot, vcard))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return vcard

    def _untap(self, slot: int, vcard: VirtualCard) -> None:
        """The tapped card leaves the field, unless another card took its place meanwhile."""
        if self.card_in(slot) is vcard:
            self.remove(slot, wait=False)

    def close(self) -> None:
        """Remove every card and stop pcscd if this bench started it."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for slot in list(self._cards):
            self.remove(slot, wait=False)
        if not self._others_active():
            self.pcscd.stop()
        for fd in self._leases.values():
            os.close(fd)
        self._leases.clear()


def _lock_dir() -> Path:
    # Not under $TMPDIR: pcscd is one per machine, so its slots' locks must be too (a bench run with
    # a TMPDIR of its own would otherwise lease slot 0 while another process holds it).
    path = Path("/tmp") / "bench-vpcd-slots"
    path.mkdir(mode=0o1777, exist_ok=True)
    return path


def _while_idle(fn: Callable[[], Pcscd | None]) -> Pcscd | None:
    """``fn()`` while holding every slot's lease; None (without calling it) when a bench holds one."""
    held: list[int] = []
    try:
        for slot in range(MAX_SLOTS):
            fd = _try_lock(slot)
            if fd is None:
                return None
            held.append(fd)
        return fn()
    finally:
        for fd in held:
            os.close(fd)


def _try_lock(slot: int) -> int | None:
    """An open, exclusively locked descriptor for ``slot``'s lock file, or None when another process holds it."""
    fd = os.open(_lock_dir() / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def operator_actions(cardbench: SimCardBench, slot: int | None = None) -> dict[str, Callable[..., None]]:
    """Handlers for :class:`bench.operator.ScriptedOperator`: ``insert_card``, ``remove_card``, ``tap_card``.

    Each takes the details the check passes: ``card`` (profile name) and ``reader`` (URL).
    With ``slot``, they act on that slot's reader only (one slot of a multi-up station):
    ``reader`` may be left out, and naming another reader is an EquipmentError.
    """

    def where(reader: str | None) -> int:
        if slot is None:
            if reader is None:
                raise EquipmentError(N_("no card reader named for the card action"), fault_code="BENCH-CONFIG")
            return cardbench.slot_of(reader)
        if reader is not None and cardbench.slot_of(reader) != slot:
            raise EquipmentError(N_("{reader!r} is another slot's card reader (this slot's is {reader_url!r})", reader=reader, reader_url=cardbench.reader_url(slot)), fault_code="BENCH-CONFIG")
        return slot

    def insert_card(card: str, reader: str | None = None, **_: Any) -> None:
        cardbench.insert(card, where(reader))

    def remove_card(reader: str | None = None, **_: Any) -> None:
        cardbench.remove(where(reader), wait=False)

    def tap_card(card: str, reader: str | None = None, hold: float = 2.0, **_: Any) -> None:
        cardbench.tap(card, where(reader), hold=hold)

    return {"insert_card": insert_card, "remove_card": remove_card, "tap_card": tap_card}
