"""The bench's devices by role, opened from URLs, with an explicit lifecycle.

The runner asks for the roles a plan needs; a role that cannot be opened is kept as
an error, so the steps that need it end with a clear reason instead of the whole run
dying. After a step times out, its devices are closed (which unblocks a driver stuck
in a read) and reopened when the next step needs them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bench.errors import BenchError, DeviceError, EquipmentError
from drivers.i18n import N_
from drivers.interfaces import Device

_LOG = logging.getLogger(__name__)

Opener = Callable[[str, str], Device]


def _default_opener(role: str, url: str) -> Device:
    from drivers.registry import open_device

    return open_device(role, url)


class DeviceSet:
    """Devices by role.

    Args:
        urls: role -> URL, from the station file or the simulated bench.
        opener: how to open one (default: :func:`drivers.registry.open_device`).
    """

    def __init__(self, urls: Mapping[str, str], opener: Opener | None = None) -> None:
        self.urls = dict(urls)
        self._opener = opener or _default_opener
        self._open: dict[str, Device] = {}
        self._errors: dict[str, BenchError] = {}

    def open(self, roles: Iterable[str]) -> None:
        """Open every role in ``roles`` that is not open yet; remember failures."""
        for role in roles:
            if role in self._open:
                continue
            url = self.urls.get(role)
            if url is None:
                self._errors[role] = EquipmentError(
                    N_("this station has no {role} configured", role=role.replace("_", " ")), fault_code="BENCH-CONFIG"
                )
                continue
            t0 = time.monotonic()
            try:
                self._open[role] = self._opener(role, url)
            except BenchError as exc:
                _LOG.info("could not open %s at %s: %s", role, url, exc)
                self._errors[role] = exc
            else:
                self._errors.pop(role, None)
                _LOG.debug("opened %s at %s in %.3f s", role, url, time.monotonic() - t0)

    def error(self, role: str) -> BenchError | None:
        """Why ``role`` is not available, or None when it is open."""
        return None if role in self._open else self._errors.get(role)

    def get(self, role: str) -> Device | None:
        """The open device in ``role``, or None."""
        return self._open.get(role)

    def mapping(self) -> dict[str, Device]:
        """All open devices by role."""
        return dict(self._open)

    def reset(self, roles: Iterable[str]) -> None:
        """Close ``roles`` now; they are reopened by the next :meth:`open`."""
        for role in roles:
            dev = self._open.pop(role, None)
            if dev is not None:
                _safe_close(role, dev)

    def reconnect(self, role: str, wait: float, progress: Callable[[float], None] | None = None) -> bool:
        """Close ``role`` and try to reopen it for up to ``wait`` seconds (a unit that rebooted).

        ``progress`` is called with the seconds waited so far after each try that failed.
        """
        self.reset([role])
        start = time.monotonic()
        deadline = start + wait
        while True:
            self.open([role])
            if role in self._open:
                return True
            err = self._errors.get(role)
            if time.monotonic() >= deadline or not isinstance(err, DeviceError | EquipmentError):
                return False
            if progress is not None:
                progress(time.monotonic() - start)
            time.sleep(0.2)

    def close(self) -> None:
        """Close every open device."""
        for role in list(self._open):
            self.reset([role])

    def __enter__(self) -> DeviceSet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _safe_close(role: str, dev: Device) -> None:
    try:
        dev.close()
    except Exception:
        _LOG.warning("closing %s failed", role, exc_info=True)
