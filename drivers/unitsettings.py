"""The settings of a unit's configuration (docs/protocol.md §5c) and what a valid value of each is.

One definition for both ends: the simulated unit checks a written value by these rules, and the
bench checks a merchant profile by them (so a profile never asks for what a unit refuses). A key is
flat: ``terminal_id``, ``merchant_id``, ``acquirer_host``, ``timezone``, ``receipt_header.N``
(1..:data:`HEADER_LINES`), ``network.IFACE.FIELD``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from drivers.i18n import N_

INTERFACES = ("eth", "wifi", "cellular")
NETWORK_FIELDS = ("mode", "address", "gateway", "dns", "ssid", "apn")
NETWORK_MODES = ("dhcp", "static", "off")
HEADER_LINES = 4
HEADER_WIDTH = 32
#: Every setting a unit knows, in the order it lists them.
KEYS: tuple[str, ...] = (
    "terminal_id", "merchant_id", "acquirer_host", "timezone",
    *(f"receipt_header.{n}" for n in range(1, HEADER_LINES + 1)),
    *(f"network.{iface}.{name}" for iface in INTERFACES for name in NETWORK_FIELDS),
)


def _match(pattern: str, what: str) -> Callable[[str], str | None]:
    rx = re.compile(pattern)
    return lambda value: None if rx.fullmatch(value) else what


def _address(kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv4Interface], what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            kind(value)
        except ValueError:
            return what
        return None if (kind is ipaddress.IPv4Address) == ("/" not in value) else what

    return check


def _host(value: str) -> str | None:
    m = re.fullmatch(r"tcp://[A-Za-z0-9.-]{1,253}:([0-9]{1,5})", value)
    return None if m and 0 < int(m.group(1)) < 65536 else N_("tcp://HOST:PORT (port 1 to 65535)")


def _header_line(value: str) -> str | None:
    # Any script: a Chinese merchant's header is printed in Chinese.
    fits = 1 <= len(value) <= HEADER_WIDTH and value.isprintable() and value.strip()
    return None if fits else N_("printable text of 1 to {width} characters", width=HEADER_WIDTH)


#: The rule of each setting (by its first part, or its field for ``network.*``): None, or what it takes.
_RULES: dict[str, Callable[[str], str | None]] = {
    "terminal_id": _match(r"[A-Za-z0-9 ]{8}", N_("8 letters, digits or spaces")),
    "merchant_id": _match(r"[A-Za-z0-9]{1,15}", N_("1 to 15 letters or digits")),
    "acquirer_host": _host,
    "timezone": _match(r"UTC|[A-Z][A-Za-z_+-]+(/[A-Za-z0-9_+-]+){1,2}", N_("a time zone name such as Asia/Shanghai")),
    "receipt_header": _header_line,
    "mode": _match("|".join(NETWORK_MODES), N_("dhcp, static or off")),
    "address": _address(ipaddress.IPv4Interface, N_("an IPv4 address with its prefix, such as 192.168.10.20/24")),
    "gateway": _address(ipaddress.IPv4Address, N_("an IPv4 address such as 192.168.10.1")),
    "dns": _address(ipaddress.IPv4Address, N_("an IPv4 address such as 192.168.10.1")),
    "ssid": _match(r"[ -~]{1,32}", N_("1 to 32 printable ASCII characters")),
    "apn": _match(r"[A-Za-z0-9.-]{1,63}", N_("1 to 63 letters, digits, dots or hyphens")),
}


def value_problem(key: str, value: str) -> str | None:
    """What setting ``key`` takes (``1 to 15 letters or digits``) when ``value`` is not that, else None.

    ``key`` must be one of :data:`KEYS`; ``""`` is not a value (a unit takes it as "clear the setting").
    """
    rule = _RULES[key.split(".")[-1] if key.startswith("network.") else key.split(".")[0]]
    return rule(value)
