"""Open a device from a URL: one explicit registry, a plain dict per device role.

``REGISTRY[role][scheme]`` names the factory as ``"module:function"``; the module is
imported only when a device of that kind is opened, so a missing optional backend
(pyscard, libusb) only makes that device unavailable. The empty scheme stands for a
plain path (``/dev/ttyUSB0``, a pty symlink).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_

if TYPE_CHECKING:
    from drivers.interfaces import Device

REGISTRY: dict[str, dict[str, str]] = {
    "unit": {
        "": "drivers.unit:open_unit",
        "socket": "drivers.unit:open_unit",
        "rfc2217": "drivers.unit:open_unit",
        "loop": "drivers.unit:open_unit",
    },
    "card_reader": {
        "pcsc": "drivers.cardreader:open_card_reader",
    },
    "printer": {
        "usb": "drivers.printer_usb:open_usb_printer",
        "serial": "drivers.printer_serial:open_serial_printer",
        "unit": "drivers.printer:open_unit_printer",
    },
    "host": {
        "tcp": "drivers.acquirer.device:open_host",
    },
    # Bench instruments over PyVISA (docs/instruments.md): a station may lack them.
    "supply": {
        "visa": "drivers.instruments.supply:open_supply",
    },
    "dmm": {
        "visa": "drivers.instruments.dmm:open_dmm",
    },
    "scope": {
        "visa": "drivers.instruments.scope:open_scope",
    },
}

#: Roles a station may go without (a step that needs one the station lacks is skipped, with the reason),
#: and what a technician calls them.
OPTIONAL_ROLES: dict[str, str] = {"supply": "power supply", "dmm": "multimeter", "scope": "oscilloscope"}


def scheme_of(url: str) -> str:
    """The URL's scheme, or ``""`` for a plain path."""
    if url.startswith("/") or "://" not in url:
        return ""
    return urlsplit(url).scheme.lower()


def open_device(role: str, url: str, **options: Any) -> Device:
    """Open the device for ``role`` at ``url``.

    Raises:
        ConfigError: unknown role or URL scheme (the message lists the known ones).
        EquipmentError: the backend for this kind of device is not installed.
    """
    schemes = REGISTRY.get(role)
    if schemes is None:
        raise ConfigError(N_("unknown device role {role!r}; known roles: {items}", role=role, items=', '.join(sorted(REGISTRY))))
    scheme = scheme_of(url)
    target = schemes.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" if s else "a device path" for s in schemes)
        raise ConfigError(N_("{role}: unknown URL scheme {value!r} in {url!r}; known: {known}", role=role, value=scheme + '://' if scheme else url, url=url, known=known))
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EquipmentError(
            N_("{role}: the driver for {url!r} is unavailable ({exc}); install its backend", role=role, url=url, exc=exc), fault_code="BENCH-CONFIG"
        ) from exc
    factory = getattr(module, func_name)
    return cast("Device", factory(url, **options))
