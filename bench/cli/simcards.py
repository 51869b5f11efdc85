"""``bench sim``'s card commands: what a person or a script types on its stdin, one per line.

``insert SLOT CARD``, ``remove SLOT``, ``tap SLOT CARD``, ``cards``, ``help``, ``quit``; each is
answered with one line (``slot 2: emv-visa-contact inserted``, or ``error: ...`` for a bad
command, after which the bench keeps running). A card goes in through the slot's operator
actions, so the scenario's reader faults apply (its reader may see another card, or none),
and the answer comes once pcscd reports the change: a PC/SC client asked afterwards sees it.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from drivers.i18n import _, tr

COMMANDS = "insert SLOT CARD, remove SLOT, tap SLOT CARD, cards, help, quit"
_WAIT = 5.0  # seconds an answer waits for pcscd to report the change
_POLL = 0.5  # seconds between looks at stdin (and at whether we are the terminal's foreground job)


class CardSlots:
    """The card readers of a simulated bench or station, by slot, for the commands.

    Args:
        cardbench: the SimCardBench behind the readers (None: the bench has no card reader).
        readers: slot -> its reader URL.
        actions: slot -> its operator actions (insert_card, remove_card, tap_card).
    """

    def __init__(self, cardbench: Any, readers: dict[int, str], actions: dict[int, dict[str, Callable[..., None]]]
                 ) -> None:
        self.cardbench = cardbench
        self.readers = readers
        self.actions = actions

    def card_in(self, slot: int) -> str | None:
        """Name of the card the slot's reader holds now."""
        if self.cardbench is None:
            return None
        card = self.cardbench.card_in(self.cardbench.slot_of(self.readers[slot]))
        return None if card is None else str(card.profile.name)

    def held(self) -> dict[int, str | None]:
        """Slot -> the card its reader holds (None: empty)."""
        return {slot: self.card_in(slot) for slot in sorted(self.readers)}

    def insert(self, slot: int, card: str, tap: bool = False) -> str:
        """Insert (or tap) ``card`` in ``slot``'s reader; the answer line."""
        self.actions[slot]["tap_card" if tap else "insert_card"](card=card)
        seen = self.card_in(slot)
        if seen is not None:
            self.cardbench.wait_state(self.cardbench.slot_of(self.readers[slot]), present=True, timeout=_WAIT)
        done = _("tapped (in the field for 2 s)") if tap else _("inserted")
        said = _("slot {n}: {card} {done}").format(n=slot, card=card, done=done)
        if seen == card:
            return said
        if seen is None:
            return said + _(", but the scenario's reader never sees it")
        return said + _("; the scenario's reader sees {card}").format(card=seen)

    def remove(self, slot: int) -> str:
        """Take the card out of ``slot``'s reader; the answer line."""
        had = self.card_in(slot)
        self.actions[slot]["remove_card"]()
        self.cardbench.wait_state(self.cardbench.slot_of(self.readers[slot]), present=False, timeout=_WAIT)
        if had:
            return _("slot {n}: {card} removed").format(n=slot, card=had)
        return _("slot {n}: no card to remove").format(n=slot)


def describe(held: dict[int, str | None]) -> str:
    """``slot 1: empty, slot 2: emv-visa-contact``."""
    return ", ".join(_("slot {n}: {card}").format(n=slot, card=card or _("empty")) for slot, card in held.items())


def check_card(name: str) -> str | None:
    """None when ``name`` is a card profile bench ships, else the error line."""
    from drivers.sim.vcard import available_profiles

    known = available_profiles()
    return None if name in known else _("unknown card {name!r}; known: {known}").format(name=name, known=", ".join(known))


def check_slot(slots: CardSlots, text: str) -> tuple[int | None, str | None]:
    """The slot ``text`` names, or the error line."""
    numbers = sorted(slots.readers)
    if slots.cardbench is None:
        return None, _("this bench has no card reader (start it with --device card_reader or --card)")
    try:
        slot = int(text)
    except ValueError:
        slot = -1
    if slot not in slots.readers:
        return None, _("no slot {text!r}; slots: {slots}").format(text=text, slots=", ".join(map(str, numbers)))
    return slot, None


def answer(slots: CardSlots, line: str) -> tuple[str | None, bool]:
    """The answer line to one command (None for a blank line), and whether it asks to stop."""
    words = line.split()
    if not words:
        return None, False
    verb, args = words[0].lower(), words[1:]
    arity = {"insert": 2, "tap": 2, "remove": 1, "cards": 0, "help": 0, "quit": 0}
    if verb not in arity:
        return _error(_("unknown command {word!r}; commands: {commands}").format(word=words[0], commands=COMMANDS)), False
    if len(args) != arity[verb]:
        usage = next(c for c in COMMANDS.split(", ") if c.split()[0] == verb)
        return _error(_("usage: {usage}").format(usage=usage)), False
    if verb == "help":
        from drivers.sim.vcard import available_profiles

        return _("commands: {commands}; cards: {cards}").format(commands=COMMANDS,
                                                                 cards=", ".join(available_profiles())), False
    if verb == "quit":
        return _("stopping the simulated bench"), True
    if verb == "cards" and slots.cardbench is not None:
        return describe(slots.held()), False
    slot, error = check_slot(slots, args[0] if args else "1")
    if slot is None:
        return _error(error), False
    if verb != "remove":
        error = check_card(args[1])
        if error:
            return _error(error), False
    from drivers.errors import BenchError

    try:
        if verb == "remove":
            return slots.remove(slot), False
        return slots.insert(slot, args[1], tap=verb == "tap"), False
    except (BenchError, OSError) as exc:
        return _error(_("slot {n}: {error}").format(n=slot, error=tr(exc))), False


def _error(message: object) -> str:
    """``error: MESSAGE``: the prefix a script looks for is the same in every language."""
    return f"error: {message}"


def serve(fd: int, reply: Callable[[str], bool]) -> bool:
    """Feed each line read from ``fd`` to ``reply`` (True: stop); True when asked to stop, False at end of input.

    On a terminal, only the foreground job reads: ``bench sim &`` in an interactive shell is
    not stopped by SIGTTIN, and reads its commands once brought back with ``fg``.
    """
    previous = None
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread; no job control
        previous = signal.signal(signal.SIGTTIN, signal.SIG_IGN)
    buf = b""
    try:
        while True:
            if not _foreground(fd):
                time.sleep(_POLL)
                continue
            ready, _w, _x = select.select([fd], [], [], _POLL)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:  # EIO: put in the background meanwhile
                time.sleep(_POLL)
                continue
            if not chunk:
                return False
            buf += chunk
            while b"\n" in buf:
                line, _nl, buf = buf.partition(b"\n")
                if reply(line.decode(errors="replace")):
                    return True
    finally:
        if previous is not None:
            signal.signal(signal.SIGTTIN, previous)


def _foreground(fd: int) -> bool:
    """False when ``fd`` is a terminal whose foreground job is not ours (reading would stop us)."""
    try:
        return not os.isatty(fd) or os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return True
