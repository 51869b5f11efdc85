"""The simulated unit's card reader during a sale: it reads a card of the bench's card library in-process.

EMV cards (``drivers/sim/cards/*.yaml``) are read through :meth:`drivers.sim.vcard.VirtualCard.process`
as a terminal reads them: power on (ATR), SELECT PSE (contact) or PPSE (contactless), the
application list, SELECT AID, GET PROCESSING OPTIONS for the file locator, READ RECORD of every
record it names; the PAN (5A), expiry (5F24) and track 2 equivalent (57) come from those records.
Magstripe cards come from the table the unit's magstripe head knows
(:data:`drivers.sim.unitpanel.MSR_CARDS`). :class:`ReaderModel` adds the ``reader_degrades`` fault.

The card data stays inside the unit process: only the masked PAN leaves it on the link.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.codecs import tlv
from drivers.codecs.iso7816 import PPSE, PSE, read_record, select_by_name
from drivers.errors import BenchError
from drivers.i18n import N_
from drivers.sim.unitpanel import MSR_CARDS

if TYPE_CHECKING:  # the unit process imports the virtual cards (and YAML) at its first chip read
    from drivers.sim import vcard

_LOG = logging.getLogger(__name__)

_GPO = bytes.fromhex("80A8000002830000")
_CARDS_DIR = Path(__file__).with_name("cards")  # drivers.sim.vcard.CARDS_DIR
_PROFILES: dict[str, vcard.CardProfile] = {}


class CardReadError(Exception):
    """The card could not be read (mute, no payment application, an error status, pulled out)."""


@dataclass(frozen=True)
class CardData:
    """What the unit read from a card. ``pan`` is the full PAN: it never leaves the unit."""

    pan: str
    expiry: str  # YYMM
    track2: str  # PAN=YYMM + service code + discretionary data, without sentinels
    aid: str  # hex, upper case; "" for a magstripe card
    interface: str  # contact, contactless, msr

    def __repr__(self) -> str:  # never the PAN in a traceback or a log line
        return f"CardData(interface={self.interface!r}, aid={self.aid!r})"


def card_names() -> list[str]:
    """Every card a sale can name: the virtual EMV cards and the magstripe cards."""
    return sorted({*(p.stem for p in _CARDS_DIR.glob("*.yaml")), *MSR_CARDS})


def known_card(name: str) -> bool:
    """True when ``name`` is a card of the library."""
    return name in MSR_CARDS or name in _PROFILES or (
        "/" not in name and not name.startswith(".") and (_CARDS_DIR / f"{name}.yaml").is_file())


def read_card(name: str) -> CardData:
    """Read card ``name`` as the unit's reader does; raises CardReadError when it cannot."""
    if name in MSR_CARDS:
        c = MSR_CARDS[name]
        expiry = c["expiry"]
        return CardData(c["pan"], expiry, f"{c['pan']}={expiry}{c['service']}{c['track2_dd']}", "", "msr")
    from drivers.sim import vcard

    profile = _PROFILES.get(name)
    if profile is None:
        profile = _PROFILES[name] = vcard.load_profile(name)
    return _read_emv(vcard.VirtualCard(profile))


def _read_emv(card: vcard.VirtualCard) -> CardData:
    from drivers.cardreader import exchange
    from drivers.sim.vcard import CardRemoved

    if not card.power_on():
        raise CardReadError(N_("no ATR"))
    contact = card.profile.interface == "contact"

    def send(apdu: bytes, what: str) -> bytes:
        if card.delay:
            time.sleep(card.delay)
        try:
            resp = exchange(card.process, apdu)
        except (CardRemoved, BenchError) as exc:
            raise CardReadError(N_("{what}: {exc}", what=what, exc=exc)) from exc
        if resp.sw != 0x9000:
            raise CardReadError(N_("{what}: status {sw:04X}", what=what, sw=resp.sw))
        return resp.data

    def parse(data: bytes, what: str) -> list[tlv.Tlv]:
        try:
            return tlv.parse(data)
        except ValueError as exc:
            raise CardReadError(N_("{what}: {exc}", what=what, exc=exc)) from exc

    fci = parse(send(select_by_name(PSE if contact else PPSE), "SELECT PSE/PPSE"), "directory")
    entries: list[tlv.Tlv] = []
    if contact:
        sfi_obj = tlv.find(fci, 0x88)
        sfi = sfi_obj.value[0] if sfi_obj and sfi_obj.value else 1
        try:
            entries = tlv.find_all(parse(send(read_record(sfi, 1), "READ RECORD PSE"), "PSE"), 0x61)
        except CardReadError:
            entries = []
    else:
        entries = tlv.find_all(fci, 0x61)
    apps = []
    for entry in entries:
        name, prio = entry.find(0x4F), entry.find(0x87)
        if name is not None:
            apps.append((prio.value[0] & 0x0F if prio and prio.value else 99, name.value))
    if not apps:
        raise CardReadError(N_("no payment application"))
    aid = min(apps)[1]
    send(select_by_name(aid), "SELECT AID")
    gpo = parse(send(_GPO, "GET PROCESSING OPTIONS"), "GPO")
    fmt1 = tlv.find(gpo, 0x80)
    afl = fmt1.value[2:] if fmt1 is not None else b""
    found: dict[int, bytes] = {}
    for i in range(0, len(afl) - 3, 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        for rec in range(first, last + 1):
            for obj in tlv.walk(parse(send(read_record(sfi, rec), "READ RECORD"), "record")):
                found.setdefault(obj.tag, obj.value)
    track2 = found.get(0x57, b"").hex().upper().rstrip("F").replace("D", "=")[:37]  # field 35 holds 37
    pan = found.get(0x5A, b"").hex().upper().rstrip("F") or track2.partition("=")[0]
    expiry = found.get(0x5F24, b"").hex()[:4] or track2.partition("=")[2][:4]
    if not pan.isdigit():
        raise CardReadError(N_("no PAN on the card"))
    return CardData(pan, expiry, track2 or f"{pan}={expiry}", aid.hex().upper(), card.profile.interface)


class ReaderModel:
    """The unit's reader with the ``reader_degrades`` fault: after ``after`` reads, each read fails
    with a probability rising by ``per_read`` per read up to ``max`` (seeded by the faults' ``seed``)."""

    def __init__(self, faults: Mapping[str, Any]) -> None:
        self._degrade = faults["reader_degrades"]
        self._rng = random.Random(faults["seed"])
        self.reads = 0

    def failure_probability(self) -> float:
        """The chance the next read fails."""
        d = self._degrade
        if d is None or self.reads < d["after"]:
            return 0.0
        return float(min(d["max"], (self.reads - d["after"] + 1) * d["per_read"]))

    def read(self, name: str) -> CardData:
        """Read ``name``; raises CardReadError (a degraded read, or the card itself)."""
        chance = self.failure_probability()
        self.reads += 1
        if chance and self._rng.random() < chance:
            raise CardReadError(N_("the reader did not get the card's answer (degraded reader)"))
        return read_card(name)
