"""The bench host as a station device: role ``host``, ``tcp://ADDR:PORT[?behaviour=FILE]``.

Opening the device starts an :class:`~drivers.acquirer.AcquirerHost` listening there (port 0:
any free port); :attr:`HostDevice.url` is the address it really listens on, the one the bench
gives the unit in each test sale, and :attr:`HostDevice.host` the running host (its exchanges
and findings are the steps' evidence). Closing the device stops the host.

The address is the bench's own on the unit's network (``tcp://192.168.50.1:8583``): the unit
is told that URL. ``0.0.0.0`` listens everywhere but tells the unit an address only a unit on
the same machine (the simulated one) can reach.

``?backend=sim`` opens a host the simulated bench already runs in this process (its
:func:`publish`): the simulated bench starts one host per station, with the scenario's
behaviours, and every slot's device is a view of it that never stops it.

A host serves many units at once, so it is :attr:`~drivers.interfaces.Device.concurrent`: a
multi-up station's slots share it without taking turns.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from drivers.acquirer.behaviours import Behaviours, load_behaviours
from drivers.acquirer.host import AcquirerHost
from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_
from drivers.interfaces import Device

_LOG = logging.getLogger(__name__)

_OPTIONS = ("behaviour", "backend")
_published: dict[tuple[str, int], AcquirerHost] = {}
_published_lock = threading.Lock()


class HostDevice(Device):
    """A running bench host as the station's ``host`` device.

    Args:
        host: the started host.
        owned: True when closing the device stops the host (False: a view of the simulated bench's host).
    """

    concurrent = True

    def __init__(self, host: AcquirerHost, *, owned: bool = True) -> None:
        self.host = host
        self.url = host.url
        self._owned = owned
        self._closed = False

    def close(self) -> None:
        """Stop the host (when this device started it); harmless twice."""
        if self._closed:
            return
        self._closed = True
        if self._owned:
            self.host.stop()


def parse_url(url: str) -> tuple[str, int, dict[str, str]]:
    """``tcp://ADDR:PORT?opt=value`` -> (address, port, options).

    Raises:
        EquipmentError: not an address and port the bench can listen on.
        ConfigError: an unknown or repeated option.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EquipmentError(N_("host: {url!r} is not tcp://ADDRESS:PORT ({exc})", url=url, exc=exc), fault_code="BENCH-CONFIG") from exc
    if parts.scheme.lower() != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise EquipmentError(N_("host: {url!r} is not tcp://ADDRESS:PORT (port 0: any free port)", url=url),
                             fault_code="BENCH-CONFIG")
    options: dict[str, str] = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if key not in _OPTIONS:
            raise ConfigError(N_("host: unknown option {key!r} in {url!r}; known: {items}", key=key, url=url, items=', '.join(_OPTIONS)))
        if len(values) != 1 or not values[0]:
            raise ConfigError(N_("host: give {key}= once, with a value, in {url!r}", key=key, url=url))
        options[key] = values[0]
    return parts.hostname, port, options


def open_host(url: str, **_: Any) -> HostDevice:
    """Start a bench host at ``url`` (the registry's factory for role ``host``, scheme ``tcp``).

    Raises:
        EquipmentError: a bad address, the port in use, no simulated host there.
        ConfigError: a bad behaviour file (naming its line), an unknown option.
    """
    address, port, options = parse_url(url)
    backend = options.get("backend")
    if backend is not None:
        if backend != "sim":
            raise ConfigError(N_("host: backend={backend} is not one the host knows (sim: the simulated bench's)", backend=backend))
        with _published_lock:
            host = _published.get((address, port))
        if host is None:
            raise EquipmentError(N_("host: no simulated bench host at {address}:{port} in this process", address=address, port=port),
                                 fault_code="BENCH-CONFIG")
        return HostDevice(host, owned=False)
    behaviours = load_behaviours(options["behaviour"]) if "behaviour" in options else Behaviours()
    return HostDevice(AcquirerHost(behaviours, address, port).start())


def publish(host: AcquirerHost) -> str:
    """Make a started host openable as ``tcp://ADDR:PORT?backend=sim``; that URL."""
    with _published_lock:
        _published[host.address] = host
    return f"{host.url}?backend=sim"


def unpublish(host: AcquirerHost) -> None:
    """Forget a published host (before it stops); harmless when it was not published."""
    with _published_lock:
        for key, value in list(_published.items()):
            if value is host:
                del _published[key]
