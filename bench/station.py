"""Stations: which unit port, card reader and printer each slot of a bench has (``stations/*.toml``).

A bench with one unit names its devices in ``[devices]``; that is slot 1::

    name = "bench-7"
    db = "postgresql://bench@dbhost/bench"   # optional; default: the local SQLite store
    operator = "Dana"                        # optional; recorded with each run
    lang = "zh_CN"                           # optional; the language it speaks (--lang, BENCH_LANG win)
    [devices]
    unit = "/dev/ttyUSB0"                    # any pyserial URL: rfc2217://host:4001, socket://...
    card_reader = "pcsc://ACS ACR39U*"
    printer = "usb://04b8:0e15"

A multi-up fixture gives each slot its own table, ``[slots.N]`` (N a whole number 1..64), and
keeps in ``[devices]`` what every slot shares (optional)::

    name = "fixture-a"
    [devices]
    printer = "usb://04b8:0e15"
    [slots.1]
    unit = "/dev/ttyUSB0"
    card_reader = "pcsc://ACS ACR39U 00 00"
    [slots.2]
    unit = "/dev/ttyUSB1"
    card_reader = "pcsc://ACS ACR39U 01 00"

The bench host (``host``, :mod:`drivers.acquirer.device`) is a role like the others: the
acquirer the unit reaches for its test sales. Opening it starts the host listening on that
address, the bench's own on the unit's network (port 0: any free port); ``?behaviour=FILE``
says how it answers (docs/iso8583.md). In ``[devices]`` of a multi-up station one host serves
every slot at once (it takes no turns); in a ``[slots.N]`` table it is that slot's own::

    [devices]
    host = "tcp://192.168.50.1:8583?behaviour=/etc/bench/host.yaml"

A role is either shared or per slot, never both; two slots never name the same device for a
role (a device every slot uses goes in ``[devices]``; a host on port 0 is a new one each time,
so several slots may name it). Roles are ``unit``, ``card_reader``, ``printer``, ``host`` and the
bench instruments ``supply``, ``dmm`` and ``scope`` (``visa://`` URLs, docs/instruments.md; a station
may lack them: the steps that need one are skipped); a URL's scheme must be one the drivers open
(:mod:`drivers.registry`)::

    [devices]
    supply = "visa://TCPIP::192.168.0.21::INSTR"
    dmm = "visa://USB0::0x2A8D::0x1301::MY53000456::INSTR"
    scope = "visa://TCPIP::192.168.0.23::INSTR"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import PlanError, UsageError
from bench.tomlfile import line_of, read_toml
from drivers.i18n import N_, Text
from drivers.registry import REGISTRY, scheme_of

_ROLES = ("unit", "card_reader", "printer", "host", "supply", "dmm", "scope")
_KEYS = {"name", "db", "operator", "devices", "slots", "description", "lang"}
_MAX_TEXT = 1000
#: Slot numbers a station file may use (a fixture has at most this many slots).
MAX_SLOT = 64
_SLOT_KEY = re.compile(r"[1-9][0-9]{0,2}")


@dataclass(frozen=True)
class Station:
    """A validated station file.

    ``slots`` maps each slot number to its own role URLs; ``shared`` holds the devices every
    slot uses. ``devices`` is what a one-unit run uses: a station with one slot, its devices
    (shared ones included); with several slots, the shared devices only.
    """

    name: str
    devices: dict[str, str] = field(default_factory=dict)
    db: str | None = None
    operator: str | None = None
    path: str | None = None
    slots: dict[int, dict[str, str]] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)
    lang: str | None = None  # the language the bench speaks here (en, zh_CN); --lang and BENCH_LANG win

    def __post_init__(self) -> None:
        if not self.slots and self.devices:  # built the one-slot way, Station(name, devices)
            object.__setattr__(self, "slots", {1: dict(self.devices)})

    @property
    def slot_numbers(self) -> list[int]:
        """The station's slot numbers, in order."""
        return sorted(self.slots)

    def slot_urls(self, slot: int) -> dict[str, str]:
        """Role -> URL for ``slot``: the shared devices and the slot's own.

        Raises:
            UsageError: the station has no such slot.
        """
        if slot not in self.slots:
            raise UsageError(N_("station {name} has no slot {slot} (its slots: {slots})", name=self.name, slot=slot,
                                 slots=_numbers(self.slot_numbers)))
        return {**self.shared, **self.slots[slot]}

    def select_slots(self, wanted: Iterable[int] = ()) -> list[int]:
        """The slots asked for (``--slot N ...``), sorted and once each; every slot when none is asked for.

        Raises:
            UsageError: a slot the station does not have.
        """
        picked = sorted(set(wanted)) or self.slot_numbers
        for n in picked:
            self.slot_urls(n)
        return picked


def _numbers(numbers: Iterable[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def load_station(path: str | Path) -> Station:
    """Read and validate a station file; every problem is a one-line :class:`PlanError`."""
    data, text = read_toml(path, N_("station file"))
    return _Checker(str(path), text).station(data)


class _Checker:
    """Validates one parsed station file; errors name the file, the field and (best effort) its line."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def error(self, message: Text, where: str) -> PlanError:
        return PlanError(message, path=self.path, line=line_of(self.lines, where), field=where)

    def station(self, data: dict[str, Any]) -> Station:
        for key in data:
            if key not in _KEYS:
                raise self.error(N_("unknown field {key!r}; allowed: {allowed}", key=key, allowed=", ".join(sorted(_KEYS))), key)
        for key in ("name", "db", "operator", "description", "lang"):
            if key in data and (not isinstance(data[key], str) or len(data[key]) > _MAX_TEXT):
                raise self.error(N_("{key} must be text of at most {most} characters", key=key, most=_MAX_TEXT), key)
        lang = self.language(data.get("lang"))
        if "slots" not in data:
            devices = data.get("devices", {})
            if not isinstance(devices, dict) or not devices:
                raise self.error(N_("a station needs a [devices] table (unit, card_reader, printer) "
                                    "or [slots.N] tables"), "devices")
            slots = {1: self.roles(devices, "devices")}
            shared: dict[str, str] = {}
        else:
            shared = self.roles(data.get("devices", {}), "devices", may_be_empty=True)
            slots = self.slots(data["slots"], shared)
        one = next(iter(slots.values())) if len(slots) == 1 else None
        devices_ = {**shared, **one} if one is not None else dict(shared)
        name = str(data.get("name", Path(self.path).stem))
        return Station(name, devices_, data.get("db"), data.get("operator"), self.path, slots, shared, lang)

    def language(self, value: str | None) -> str | None:
        """The station's ``lang``: a language the bench speaks (``en``, ``zh_CN``; ``zh-CN`` and the like too)."""
        if value is None:
            return None
        from bench.i18n import LANGUAGES, normalise

        lang = normalise(value)
        if lang is None:
            raise self.error(N_("unknown language {given!r} (the bench speaks: {known})", given=value,
                                known=", ".join(LANGUAGES)), "lang")
        return lang

    def roles(self, table: Any, where: str, *, may_be_empty: bool = False) -> dict[str, str]:
        """A table of role -> device URL."""
        if not isinstance(table, dict):
            raise self.error(N_("[{where}] must be a table of role = \"URL\" ({roles})", where=where, roles=", ".join(_ROLES)),
                             where)
        if not table and not may_be_empty:
            raise self.error(N_("[{where}] names no device; give it at least one of {roles}", where=where,
                                roles=", ".join(_ROLES)), where)
        for role, url in table.items():
            at = f"{where}.{role}"
            if role not in _ROLES:
                raise self.error(N_("unknown device role {role!r}; known: {known}", role=role, known=", ".join(_ROLES)), at)
            if not isinstance(url, str) or not url:
                raise self.error(N_("a device URL must be non-empty text"), at)
            if len(url) > _MAX_TEXT:
                raise self.error(N_("a device URL has at most {most} characters", most=_MAX_TEXT), at)
            scheme = scheme_of(url)
            if scheme not in REGISTRY[role]:
                schemes = ", ".join(f"{s}://" for s in REGISTRY[role] if s)
                known = N_("a device path, {schemes}", schemes=schemes) if "" in REGISTRY[role] else schemes
                if scheme:
                    raise self.error(N_("a {role} URL cannot start with {scheme}:// ({url!r}); known: {known}",
                                        role=role, scheme=scheme, url=url, known=known), at)
                raise self.error(N_("a {role} URL cannot be a device path ({url!r}); known: {known}", role=role,
                                    url=url, known=known), at)
        return dict(table)

    def slots(self, table: Any, shared: dict[str, str]) -> dict[int, dict[str, str]]:
        """The ``[slots.N]`` tables, checked against each other and the shared devices."""
        if not isinstance(table, dict):
            raise self.error(N_("slots must be tables written [slots.1], [slots.2], ..."), "slots")
        if not table:
            raise self.error(N_("a station with [slots] needs at least one slot, e.g. [slots.1]"), "slots")
        slots: dict[int, dict[str, str]] = {}
        first_user: dict[tuple[str, str], int] = {}  # (role, URL) -> the first slot that names it
        for key, devices in table.items():
            if not _SLOT_KEY.fullmatch(key) or not 1 <= int(key) <= MAX_SLOT:
                raise self.error(N_("slot {key!r} is not a slot number; slots are numbered 1 to {most}", key=key, most=MAX_SLOT),
                                 f"slots.{key}")
            n = int(key)
            slots[n] = self.roles(devices, f"slots.{n}")
            for role, url in slots[n].items():
                if role in shared:
                    raise self.error(N_("{role} is both shared ([devices] {role} = {shared!r}) and in [slots.{n}] ({url!r}); "
                                        "keep one", role=role, shared=shared[role], n=n, url=url), f"slots.{n}.{role}")
                other = first_user.setdefault((role, url), n)
                if other != n and not _any_port(role, url):
                    raise self.error(N_("slots {other} and {n} both name {role} {url!r}; a device every slot uses goes in "
                                        "[devices]", other=other, n=n, role=role, url=url), f"slots.{n}.{role}")
        return dict(sorted(slots.items()))


def _any_port(role: str, url: str) -> bool:
    """A host URL on port 0: every opening is a new host on a free port, so two slots may name it."""
    return role == "host" and re.fullmatch(r"tcp://[^/?#]+:0+([/?#].*)?", url) is not None


