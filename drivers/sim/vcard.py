"""Virtual smart cards: transport-free state machines over APDU bytes, described in YAML.

A :class:`VirtualCard` answers power on/off/reset with its ATR and each command APDU
with a response APDU (:meth:`VirtualCard.process`). It knows nothing about sockets:
:mod:`drivers.sim.vpcd` carries it to ``pcscd``, tests call it directly.

Profiles live in ``drivers/sim/cards/<name>.yaml`` (``spec: 1``)::

    spec: 1
    interface: contact            # or contactless (answers PPSE instead of PSE)
    atr: "3B 68 00 00 00 73 C8 40 12 00 90 00"
    t0_style: true                # case 2/4 answers need GET RESPONSE (61xx); wrong Le -> 6Cxx
    applications:
      - aid: A0000000031010
        label: VISA CREDIT
        priority: 1
        aip: "1800"
        records: {"1/1": "70 ..."}   # "SFI/record": hex TLV
    faults:                       # all optional
      mute: false                 # power-on answers an empty ATR
      bad_tck: false              # flip the ATR's TCK
      slow_ms: 0                  # answer each APDU after this many ms
      error_rate: 0.0             # answer error_sw instead, at this rate (seeded)
      error_sw: "6F00"
      seed: 1
      pull_after: null            # removed (socket closed) on APDU number N+1

The card carries test PANs; nothing outside this module may print them whole.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.codecs import tlv
from drivers.codecs.iso7816 import PPSE, PSE, compute_tck, parse_atr
from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.yamlsafe import load_file

_LOG = logging.getLogger(__name__)

SPEC_VERSION = 1
CARDS_DIR = Path(__file__).with_name("cards")

SW_OK = b"\x90\x00"
MUTE_ATR = b"\x00"  # what the reader reads from a card that does not answer reset


class CardRemoved(Exception):
    """Raised by :meth:`VirtualCard.process` when the card leaves the reader mid-APDU."""


@dataclass(frozen=True)
class Application:
    """One payment application on a virtual card."""

    aid: bytes
    label: str
    priority: int = 1
    aip: bytes = b"\x18\x00"
    records: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def afl(self) -> bytes:
        """Application File Locator covering every record, one entry per SFI."""
        out = b""
        for sfi in sorted({s for s, _ in self.records}):
            recs = sorted(r for s, r in self.records if s == sfi)
            out += bytes([sfi << 3, recs[0], recs[-1], 0])
        return out

    def fci(self) -> bytes:
        """FCI template returned by SELECT of this application."""
        prop = tlv.build(0x50, self.label.encode()) + tlv.build(0x87, bytes([self.priority]))
        return tlv.build(0x6F, tlv.build(0x84, self.aid) + tlv.build(0xA5, prop))

    def directory_entry(self) -> bytes:
        """The ``61`` entry of this application in a PSE record or PPSE FCI."""
        body = tlv.build(0x4F, self.aid) + tlv.build(0x50, self.label.encode())
        body += tlv.build(0x87, bytes([self.priority]))
        return tlv.build(0x61, body)


@dataclass(frozen=True)
class Faults:
    """Faults a virtual card injects."""

    mute: bool = False
    bad_tck: bool = False
    slow_ms: int = 0
    error_rate: float = 0.0
    error_sw: bytes = b"\x6f\x00"
    seed: int = 1
    pull_after: int | None = None


@dataclass(frozen=True)
class CardProfile:
    """A virtual card as described by its YAML profile."""

    name: str
    atr: bytes
    interface: str = "contact"
    t0_style: bool = True
    applications: tuple[Application, ...] = ()
    faults: Faults = field(default_factory=Faults)
    description: str = ""

    @property
    def effective_atr(self) -> bytes:
        """The ATR with the bad-TCK fault applied (a mute card keeps one for presence polls)."""
        if self.faults.bad_tck and self.atr:
            return self.atr[:-1] + bytes([self.atr[-1] ^ 0x5A])
        return self.atr


def _hex(value: Any, where: str, path: str | None) -> bytes:
    if isinstance(value, int):
        value = f"{value:X}"
    if not isinstance(value, str):
        raise ConfigError(N_("expected a hex string, got {kind}", kind=type(value).__name__), path=path, field=where)
    try:
        return bytes.fromhex(value.replace(" ", "").replace(":", ""))
    except ValueError as exc:
        raise ConfigError(N_("not hex: {value!r}", value=value), path=path, field=where) from exc


def profile_from_dict(data: dict[str, Any], *, name: str = "custom", path: str | None = None) -> CardProfile:
    """Validate a profile dict (as loaded from YAML) into a :class:`CardProfile`.

    Raises:
        ConfigError: wrong ``spec`` version, unknown key, or bad value; the message names the field.
    """
    if not isinstance(data, dict):
        raise ConfigError(N_("a card profile must be a mapping"), path=path)
    if data.get("spec") != SPEC_VERSION:
        raise ConfigError(N_("unsupported card profile spec {get!r} (expected {SPEC_VERSION})", get=data.get('spec'), SPEC_VERSION=SPEC_VERSION),
                        path=path, field="spec")
    known = {"spec", "name", "description", "interface", "atr", "t0_style", "applications", "faults"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(N_("unknown key(s) {sorted}", sorted=sorted(unknown)), path=path)
    interface = data.get("interface", "contact")
    if interface not in ("contact", "contactless"):
        raise ConfigError(N_("interface must be contact or contactless, not {interface!r}", interface=interface), path=path,
                        field="interface")
    atr = _hex(data.get("atr", ""), "atr", path)
    apps: list[Application] = []
    for i, app in enumerate(data.get("applications") or []):
        where = f"applications[{i}]"
        if not isinstance(app, dict) or "aid" not in app:
            raise ConfigError(N_("an application needs an aid"), path=path, field=where)
        records: dict[tuple[int, int], bytes] = {}
        for key, value in (app.get("records") or {}).items():
            try:
                sfi, rec = (int(x) for x in str(key).split("/"))
            except ValueError as exc:
                raise ConfigError(N_("record key {key!r} is not 'SFI/record'", key=key), path=path,
                                field=f"{where}.records") from exc
            body = _hex(value, f"{where}.records.{key}", path)
            try:
                tlv.parse(body)
            except tlv.TlvError as exc:
                raise ConfigError(N_("record {key} is not BER-TLV: {exc}", key=key, exc=exc), path=path,
                                field=f"{where}.records") from exc
            records[(sfi, rec)] = body
        apps.append(
            Application(
                aid=_hex(app["aid"], f"{where}.aid", path),
                label=str(app.get("label", "")),
                priority=int(_number(app.get("priority", i + 1), f"{where}.priority", path, 0, 255)),
                aip=_hex(app.get("aip", "1800"), f"{where}.aip", path),
                records=records,
            )
        )
    f = data.get("faults") or {}
    fknown = {"mute", "bad_tck", "slow_ms", "error_rate", "error_sw", "seed", "pull_after"}
    if set(f) - fknown:
        raise ConfigError(N_("unknown fault(s) {sorted}", sorted=sorted(set(f) - fknown)), path=path, field="faults")
    rate = _number(f.get("error_rate", 0.0), "faults.error_rate", path, 0.0, 1.0, whole=False)
    faults = Faults(
        mute=bool(f.get("mute", False)),
        bad_tck=bool(f.get("bad_tck", False)),
        slow_ms=int(_number(f.get("slow_ms", 0), "faults.slow_ms", path, 0, 600_000)),
        error_rate=rate,
        error_sw=_hex(f.get("error_sw", "6F00"), "faults.error_sw", path),
        seed=int(_number(f.get("seed", 1), "faults.seed", path, 0, 2**32)),
        pull_after=None if f.get("pull_after") is None
        else int(_number(f["pull_after"], "faults.pull_after", path, 0, 1_000_000)),
    )
    if not faults.mute and not faults.bad_tck and atr and not parse_atr(atr).valid:
        raise ConfigError(N_("ATR is malformed: {describe}", describe=parse_atr(atr).describe()), path=path, field="atr")
    return CardProfile(
        name=str(data.get("name", name)),
        atr=atr,
        interface=interface,
        t0_style=bool(data.get("t0_style", True)),
        applications=tuple(apps),
        faults=faults,
        description=str(data.get("description", "")),
    )


def _number(value: Any, field: str, path: str | None, low: float, high: float, *, whole: bool = True) -> float:
    """A number of a card profile, within ``low``..``high`` (whole unless ``whole`` is False)."""
    ok = isinstance(value, int) or (not whole and isinstance(value, float))
    if isinstance(value, bool) or not ok or not low <= value <= high:
        what = "a whole number" if whole else "a number"
        raise ConfigError(N_("{field} must be {what} from {low:g} to {high:g}, not {value!r}", field=field, what=what, low=low, high=high, value=str(value)[:40]), path=path,
                          field=field)
    return float(value) if not whole else int(value)


def available_profiles() -> list[str]:
    """Names of the card profiles shipped in ``drivers/sim/cards``."""
    return sorted(p.stem for p in CARDS_DIR.glob("*.yaml"))


def load_profile(card: str | dict[str, Any] | CardProfile) -> CardProfile:
    """Load a profile by name (``emv-visa-contact``), by path to a YAML file, or from a dict.

    Raises:
        ConfigError: unknown name (the message lists the known ones) or an invalid profile.
    """
    if isinstance(card, CardProfile):
        return card
    if isinstance(card, dict):
        return profile_from_dict(card, name=str(card.get("name", "custom")))
    path = Path(card)
    if not path.suffix:
        path = CARDS_DIR / f"{card}.yaml"
    if not path.is_file():
        raise ConfigError(N_("unknown card profile {card!r}; known: {items}", card=card, items=', '.join(available_profiles())))
    data = load_file(path)  # bounded: size, nesting, aliases, finite numbers; one-line errors
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    return profile_from_dict(data, name=path.stem, path=str(path))


class VirtualCard:
    """The state machine of one virtual card (ISO 7816-4 subset + EMV selection/reading).

    Args:
        profile: what the card is, or a name/dict for :func:`load_profile`.
    """

    def __init__(self, profile: CardProfile | str | dict[str, Any]) -> None:
        self.profile = load_profile(profile)
        self.powered = False
        self.apdu_count = 0
        self.selected: Application | None = None
        self._pending = b""  # data waiting for GET RESPONSE
        self._rng = random.Random(self.profile.faults.seed)
        self.removed = False
        self._just_powered = False

    # -- power
    @property
    def atr(self) -> bytes:
        """The ATR this card answers to a reset (empty for a mute card)."""
        return b"" if self.profile.faults.mute else self.profile.effective_atr

    def answer_atr(self) -> bytes:
        """Answer the reader's "get ATR" request.

        The reader also asks for the ATR to poll presence. A mute card is present (its
        contacts close the reader's card-detect switch) but gives no ATR after power-on or
        reset: the first request after those gets nothing.
        """
        if self.profile.faults.mute and self._just_powered:
            self._just_powered = False
            return MUTE_ATR
        return self.profile.effective_atr

    @property
    def delay(self) -> float:
        """Seconds to wait before answering each APDU (the ``slow_ms`` fault)."""
        return self.profile.faults.slow_ms / 1000.0

    def power_on(self) -> bytes:
        """Power the card; returns the ATR."""
        self.powered = True
        self._just_powered = True
        self._reset_state()
        return self.atr

    def power_off(self) -> None:
        """Remove power; volatile state is lost."""
        self.powered = False
        self._reset_state()

    def reset(self) -> bytes:
        """Warm reset; returns the ATR."""
        return self.power_on()

    def _reset_state(self) -> None:
        self.selected = None
        self._pending = b""

    # -- APDUs
    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with a response APDU (data + SW1 SW2).

        Raises:
            CardRemoved: the ``pull_after`` fault: the card leaves instead of answering.
        """
        faults = self.profile.faults
        if self.removed or (faults.pull_after is not None and self.apdu_count >= faults.pull_after):
            self.removed = True
            raise CardRemoved(f"card pulled after {self.apdu_count} APDUs")
        self.apdu_count += 1
        if len(apdu) < 4:
            return b"\x67\x00"
        if faults.error_rate and self._rng.random() < faults.error_rate:
            self._pending = b""
            return faults.error_sw
        cla, ins = apdu[0], apdu[1]
        if (cla & 0x80 and ins != 0xA8) or cla not in (0x00, 0x80):
            return b"\x6e\x00"
        handlers = {0xA4: self._select, 0xB2: self._read_record, 0xC0: self._get_response, 0xA8: self._gpo}
        handler = handlers.get(ins)
        if handler is None:
            return b"\x6d\x00"
        if ins != 0xC0:
            self._pending = b""
        return handler(apdu)

    @staticmethod
    def _split(apdu: bytes) -> tuple[bytes, int | None]:
        """Command data and Le (None when absent) of a short APDU."""
        if len(apdu) == 4:
            return b"", None
        if len(apdu) == 5:
            return b"", apdu[4]
        lc = apdu[4]
        data = apdu[5 : 5 + lc]
        le = apdu[5 + lc] if len(apdu) > 5 + lc else None
        return data, le

    def _outgoing(self, data: bytes, le: int | None) -> bytes:
        """Answer a case 2 command: T=0 style wants the exact Le (``6Cxx`` otherwise)."""
        if not self.profile.t0_style:
            return data + SW_OK
        wanted = 256 if le in (None, 0) else le
        if wanted != len(data):
            return bytes([0x6C, len(data) & 0xFF])
        return data + SW_OK

    def _incoming_with_answer(self, data: bytes) -> bytes:
        """Answer a case 4 command: T=0 style parks the data for GET RESPONSE (``61xx``)."""
        if not self.profile.t0_style:
            return data + SW_OK
        self._pending = data
        return bytes([0x61, len(data) & 0xFF])

    def _select(self, apdu: bytes) -> bytes:
        name, _ = self._split(apdu)
        if apdu[2] != 0x04:
            return b"\x6a\x86"
        contact = self.profile.interface == "contact"
        apps = sorted(self.profile.applications, key=lambda a: a.priority)
        if contact and name == PSE:
            self.selected = None
            prop = tlv.build(0x88, b"\x01")
            return self._incoming_with_answer(tlv.build(0x6F, tlv.build(0x84, PSE) + tlv.build(0xA5, prop)))
        if not contact and name == PPSE:
            self.selected = None
            entries = b"".join(a.directory_entry() for a in apps)
            fci = tlv.build(0x6F, tlv.build(0x84, PPSE) + tlv.build(0xA5, tlv.build(0xBF0C, entries)))
            return self._incoming_with_answer(fci)
        for app in apps:
            if name and app.aid.startswith(name):
                self.selected = app
                return self._incoming_with_answer(app.fci())
        return b"\x6a\x82"

    def _read_record(self, apdu: bytes) -> bytes:
        rec, p2 = apdu[2], apdu[3]
        _, le = self._split(apdu)
        if p2 & 0x07 != 0x04:
            return b"\x6a\x86"
        sfi = p2 >> 3
        if self.selected is None:
            if self.profile.interface != "contact" or sfi != 1:
                return b"\x6a\x82"
            apps = sorted(self.profile.applications, key=lambda a: a.priority)
            if rec != 1 or not apps:
                return b"\x6a\x83"
            return self._outgoing(tlv.build(0x70, b"".join(a.directory_entry() for a in apps)), le)
        body = self.selected.records.get((sfi, rec))
        if body is None:
            return b"\x6a\x83"
        return self._outgoing(body, le)

    def _gpo(self, apdu: bytes) -> bytes:
        if apdu[0] != 0x80:
            return b"\x6e\x00"
        if self.selected is None:
            return b"\x69\x85"
        app = self.selected
        return self._incoming_with_answer(tlv.build(0x80, app.aip + app.afl()))

    def _get_response(self, apdu: bytes) -> bytes:
        if not self._pending:
            return b"\x69\x85"
        _, le = self._split(apdu)
        wanted = 256 if le in (None, 0) else le
        pending = self._pending
        if wanted > len(pending):
            return bytes([0x6C, len(pending) & 0xFF])
        out, self._pending = pending[:wanted], pending[wanted:]
        if self._pending:
            return out + bytes([0x61, len(self._pending) & 0xFF])
        return out + SW_OK


def make_atr(body_without_tck: bytes) -> bytes:
    """Append the TCK to an ATR that needs one (helper for writing profiles and tests)."""
    return body_without_tck + bytes([compute_tck(body_without_tck)])
