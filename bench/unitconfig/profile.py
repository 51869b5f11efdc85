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
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import PlanError
from bench.tomlfile import line_of, read_toml
from drivers.configproto import MAX_VALUE

#: Network interfaces a unit reports, and the fields each may set.
INTERFACES = ("eth", "wifi", "cellular")
NETWORK_FIELDS = ("mode", "address", "gateway", "dns", "ssid", "apn")
NETWORK_MODES = ("dhcp", "static", "off")
HEADER_LINES = 4
HEADER_WIDTH = 32

#: A setting's name as a technician says it.
LABELS = {
    "terminal_id": "terminal id",
    "merchant_id": "merchant id",
    "acquirer_host": "acquirer host",
    "timezone": "time zone",
}


def label(key: str) -> str:
    """``network.wifi.ssid`` -> ``Wi-Fi SSID``; ``receipt_header.2`` -> ``receipt header line 2``."""
    if key in LABELS:
        return LABELS[key]
    parts = key.split(".")
    if parts[0] == "receipt_header":
        return f"receipt header line {parts[1]}"
    if parts[0] == "network":
        iface = {"eth": "Ethernet", "wifi": "Wi-Fi", "cellular": "cellular"}[parts[1]]
        name = {"mode": "mode", "address": "address", "gateway": "gateway", "dns": "DNS server",
                "ssid": "SSID", "apn": "APN"}[parts[2]]
        return f"{iface} {name}"
    return key.replace("_", " ")


@dataclass(frozen=True)
class MerchantProfile:
    """A validated merchant profile: setting key (flat, ``network.wifi.mode``) -> expected value."""

    name: str
    merchant: str
    settings: dict[str, str] = field(default_factory=dict)
    path: str | None = None


def _text(pattern: str, what: str) -> Callable[[Any], str | None]:
    rx = re.compile(pattern)

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and rx.fullmatch(value) else what

    return check


def _ipv4(value: Any) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except (ValueError, TypeError):
        return "an IPv4 address such as 192.168.10.1"
    return None


def _cidr(value: Any) -> str | None:
    try:
        ipaddress.IPv4Interface(value)
    except (ValueError, TypeError):
        return "an IPv4 address with its prefix, such as 192.168.10.20/24"
    return None if isinstance(value, str) and "/" in value else "an IPv4 address with its prefix, such as 192.168.10.20/24"


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"UTC|[A-Z][A-Za-z_+-]+(/[A-Za-z0-9_+-]+){1,2}", value):
        return "a time zone name such as Asia/Shanghai or UTC"
    import zoneinfo

    known = zoneinfo.available_timezones()  # the system's tz database (empty without one: the form alone)
    if known and value != "UTC" and value not in known:
        return "a time zone of the tz database such as Asia/Shanghai or UTC"
    return None


def _host(value: Any) -> str | None:
    what = "tcp://HOST:PORT (port 1 to 65535)"
    match = re.fullmatch(r"tcp://[A-Za-z0-9.-]{1,253}:([0-9]{1,5})", value) if isinstance(value, str) else None
    return None if match and 1 <= int(match.group(1)) <= 65535 else what


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "terminal_id": _text(r"[A-Za-z0-9 ]{8}", "8 letters, digits or spaces (ISO 8583 field 41)"),
    "merchant_id": _text(r"[A-Za-z0-9]{1,15}", "1 to 15 letters or digits (ISO 8583 field 42)"),
    "acquirer_host": _host,
    "timezone": _timezone,
}
_NET_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "mode": _text("|".join(NETWORK_MODES), " or ".join(NETWORK_MODES)),
    "address": _cidr,
    "gateway": _ipv4,
    "dns": _ipv4,
    "ssid": _text(r"[ -~]{1,32}", "1 to 32 printable ASCII characters"),
    "apn": _text(r"[A-Za-z0-9.-]{1,63}", "1 to 63 letters, digits, dots or hyphens"),
}
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
            raise error(f"unknown field {key!r}; allowed: {', '.join(_TOP)}", key)
    merchant = data.get("merchant", "")
    if not isinstance(merchant, str) or len(merchant) > 100:
        raise error("merchant must be text of at most 100 characters", "merchant")
    table = data.get("settings")
    if not isinstance(table, dict) or not table:
        raise error("a merchant profile needs a [settings] table naming at least one setting", "settings")
    settings: dict[str, str] = {}
    for key, value in table.items():
        at = f"settings.{key}"
        if key == "receipt_header":
            settings.update(_header(value, functools.partial(error, where=at)))
        elif key == "network":
            settings.update(_network(value, error))
        elif key in _CHECKS:
            problem = _CHECKS[key](value)
            if problem is None and len(value.encode()) > MAX_VALUE:
                problem = f"at most {MAX_VALUE} bytes (what the unit's link takes)"
            if problem is not None:
                raise error(f"{label(key)} must be {problem}, not {value!r}", at)
            settings[key] = value
        else:
            known = ", ".join([*_CHECKS, "receipt_header", "network"])
            raise error(f"unknown setting {key!r}; known: {known}", at)
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise error("name must be 1 to 64 letters, digits, dots, dashes or underscores", "name")
    return MerchantProfile(name, merchant, settings, str(path))


def _header(value: Any, error: Callable[[str], PlanError]) -> dict[str, str]:
    if not isinstance(value, list) or not 1 <= len(value) <= HEADER_LINES:
        raise error(f"receipt_header must be a list of 1 to {HEADER_LINES} lines")
    out: dict[str, str] = {}
    for n, line in enumerate(value, 1):
        if not isinstance(line, str) or not line.strip() or len(line) > HEADER_WIDTH or not line.isprintable():
            raise error(f"receipt header line {n} must be printable text of 1 to {HEADER_WIDTH} characters")
        out[f"receipt_header.{n}"] = line
    return out


def _network(value: Any, error: Callable[[str, str], PlanError]) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise error(f"network must be tables [settings.network.IFACE] ({', '.join(INTERFACES)})", "settings.network")
    out: dict[str, str] = {}
    for iface, fields in value.items():
        at = f"settings.network.{iface}"
        if iface not in INTERFACES:
            raise error(f"unknown interface {iface!r}; known: {', '.join(INTERFACES)}", at)
        if not isinstance(fields, dict) or not fields:
            raise error(f"[{at}] must set at least one of {', '.join(NETWORK_FIELDS)}", at)
        for name, setting in fields.items():
            if name not in _NET_CHECKS:
                raise error(f"unknown network field {name!r}; known: {', '.join(NETWORK_FIELDS)}", f"{at}.{name}")
            problem = _NET_CHECKS[name](setting)
            key = f"network.{iface}.{name}"
            if problem is not None:
                raise error(f"{label(key)} must be {problem}, not {setting!r}", f"{at}.{name}")
            out[key] = setting
    return out
