"""Merchant profiles: the settings a unit must have before it goes back to its merchant.

A profile is a TOML file (``testplans/merchants/NAME.toml``)::

    merchant = "Demo Café"            # for reports
    [settings]
    terminal_id = "PT300001"          # ISO 8583 field 41: 8 letters, digits or spaces
    merchant_id = "104110070110001"   # field 42: 1 to 15 letters or digits
    acquirer_host = "tcp://10.20.30.40:8583"
    timezone = "Asia/Shanghai"
    receipt_header = ["DEMO CAFE", "1 MAIN STREET"]   # 1 to 4 lines of at most 32 characters
    [settings.network.wifi]           # eth, wifi, cellular
    mode = "static"                   # dhcp, static, off
    address = "192.168.10.20/24"
    gateway = "192.168.10.1"
    dns = "192.168.10.1"
    ssid = "DEMO-POS"

Every field is checked; a problem is one :class:`~bench.errors.PlanError` naming the file, the
line and the field. A profile names only what it cares about: settings it leaves out are not compared.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import PlanError
from bench.tomlfile import line_of, read_toml
from drivers.configproto import MAX_VALUE
from drivers.i18n import N_
from drivers.unitsettings import HEADER_LINES, INTERFACES, NETWORK_FIELDS, value_problem

#: A setting's name as a technician says it.
LABELS = {
    "terminal_id": N_("terminal id"),
    "merchant_id": N_("merchant id"),
    "acquirer_host": N_("acquirer host"),
    "timezone": N_("time zone"),
}


def label(key: str) -> str:
    """``network.wifi.ssid`` -> ``Wi-Fi SSID``; ``receipt_header.2`` -> ``receipt header line 2``."""
    if key in LABELS:
        return LABELS[key]
    parts = key.split(".")
    if parts[0] == "receipt_header":
        return N_("receipt header line {n}", n=parts[1])
    if parts[0] == "network":
        iface = {"eth": "Ethernet", "wifi": "Wi-Fi", "cellular": N_("cellular")}[parts[1]]
        name = {"mode": N_("mode"), "address": N_("address"), "gateway": N_("gateway"), "dns": N_("DNS server"),
                "ssid": "SSID", "apn": "APN"}[parts[2]]
        return N_("{interface} {setting}", interface=iface, setting=name)
    return key.replace("_", " ")


@dataclass(frozen=True)
class MerchantProfile:
    """A validated merchant profile: setting key (flat, ``network.wifi.mode``) -> expected value."""

    name: str
    merchant: str
    settings: dict[str, str] = field(default_factory=dict)
    path: str | None = None


def _problem(key: str, value: Any) -> str | None:
    """What setting ``key`` takes when ``value`` is not that: the unit's own rule (drivers.unitsettings),
    the link's length, and for a time zone the tz database."""
    if not isinstance(value, str):
        return N_("text")
    if len(value.encode()) > MAX_VALUE:
        return N_("at most {most} bytes (what the unit's link takes)", most=MAX_VALUE)
    problem = value_problem(key, value)
    if problem is None and key == "timezone" and value != "UTC":
        import zoneinfo

        known = zoneinfo.available_timezones()  # the system's tz database (empty without one: the form alone)
        if known and value not in known:
            problem = N_("a time zone of the tz database such as Asia/Shanghai or UTC")
    return problem


_SINGLE = ("terminal_id", "merchant_id", "acquirer_host", "timezone")
_TOP = ("name", "merchant", "settings")


def load_profile(path: str | Path) -> MerchantProfile:
    """Read and validate a merchant profile.

    Raises:
        PlanError: unreadable file, bad TOML, an unknown or malformed field (file, line, field).
    """
    data, text = read_toml(path, "merchant profile")
    lines = text.splitlines()

    def error(message: str, where: str) -> PlanError:
        return PlanError(message, path=str(path), line=line_of(lines, where), field=where)

    for key in data:
        if key not in _TOP:
            raise error(N_("unknown field {key!r}; allowed: {known}", key=key, known=', '.join(_TOP)), key)
    merchant = data.get("merchant", "")
    if not isinstance(merchant, str) or len(merchant) > 100:
        raise error(N_("merchant must be text of at most 100 characters"), "merchant")
    table = data.get("settings")
    if not isinstance(table, dict) or not table:
        raise error(N_("a merchant profile needs a [settings] table naming at least one setting"), "settings")
    settings: dict[str, str] = {}
    for key, value in table.items():
        at = f"settings.{key}"
        if key == "receipt_header":
            settings.update(_header(value, functools.partial(error, where=at)))
        elif key == "network":
            settings.update(_network(value, error))
        elif key in _SINGLE:
            problem = _problem(key, value)
            if problem is not None:
                raise error(N_("{label} must be {problem}, not {value!r}", label=label(key), problem=problem, value=value), at)
            settings[key] = value
        else:
            known = ", ".join([*_SINGLE, "receipt_header", "network"])
            raise error(N_("unknown setting {key!r}; known: {known}", key=key, known=known), at)
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise error(N_("name must be 1 to 64 letters, digits, dots, dashes or underscores"), "name")
    return MerchantProfile(name, merchant, settings, str(path))


def _header(value: Any, error: Callable[[str], PlanError]) -> dict[str, str]:
    if not isinstance(value, list) or not 1 <= len(value) <= HEADER_LINES:
        raise error(N_("receipt_header must be a list of 1 to {most} lines", most=HEADER_LINES))
    out: dict[str, str] = {}
    for n, line in enumerate(value, 1):
        key = f"receipt_header.{n}"
        problem = _problem(key, line)
        if problem is not None:
            raise error(N_("{label} must be {problem}, not {line!r}", label=label(key), problem=problem, line=line))
        out[key] = line
    return out


def _network(value: Any, error: Callable[[str, str], PlanError]) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise error(N_("network must be tables [settings.network.IFACE] ({known})", known=', '.join(INTERFACES)), "settings.network")
    out: dict[str, str] = {}
    for iface, fields in value.items():
        at = f"settings.network.{iface}"
        if iface not in INTERFACES:
            raise error(N_("unknown interface {iface!r}; known: {known}", iface=iface, known=', '.join(INTERFACES)), at)
        if not isinstance(fields, dict) or not fields:
            raise error(N_("[{at}] must set at least one of {known}", at=at, known=', '.join(NETWORK_FIELDS)), at)
        for name, setting in fields.items():
            if name not in NETWORK_FIELDS:
                raise error(N_("unknown network field {name!r}; known: {known}", name=name, known=', '.join(NETWORK_FIELDS)), f"{at}.{name}")
            key = f"network.{iface}.{name}"
            problem = _problem(key, setting)
            if problem is not None:
                raise error(N_("{label} must be {problem}, not {setting!r}", label=label(key), problem=problem, setting=setting), f"{at}.{name}")
            out[key] = setting
    return out
