"""Reading and writing the unit's configuration over the link: the bench's side of docs/protocol.md §5c.

:func:`read` is :meth:`drivers.unit.UnitClient.config_read`: CONFIG_READ pages from setting 0 until
the unit's total, started again when the generation changes between pages (a setting changed while
the bench read). :func:`write` is ``config_write``: the pairs go in as few CONFIG_WRITEs as the agreed
payload allows, and each setting's result comes back by key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from drivers import configproto as cp
from drivers import unitproto as up
from drivers.errors import DeviceError, ProtocolError
from drivers.i18n import N_
from drivers.link import Link

_LOG = logging.getLogger(__name__)
ATTEMPTS = 3


class UnitClient(Protocol):
    """What these calls need of :class:`drivers.unit.UnitClient` (which imports this module)."""

    url: str
    link: Link

    def _call(self, command: int, payload: bytes = b"") -> bytes: ...


def read(client: UnitClient) -> dict[str, str]:
    """Every setting the unit reports, in its order: flat key -> value (``""``: not set).

    Raises:
        DeviceError: LINK-UNSUPPORTED (no ``config``), UNIT-FAULT (the settings kept changing).
        ProtocolError: a malformed or inconsistent page.
    """
    for _attempt in range(ATTEMPTS):
        settings: dict[str, str] = {}
        generation: int | None = None
        total = 1
        while len(settings) < total:
            page = cp.ConfigPage.decode(client._call(up.CMD_CONFIG_READ, cp.encode_read(len(settings))))
            if generation is not None and page.generation != generation:
                _LOG.debug("unit on %s: settings changed while read; reading again", client.url)
                break
            if page.first != len(settings) or (not page.settings and len(settings) < page.total):
                raise ProtocolError(N_("CONFIG_READ: asked from setting {settings_len}, got {settings_len2} from {first} of {total}", settings_len=len(settings), settings_len2=len(page.settings), first=page.first, total=page.total))
            generation, total = page.generation, page.total
            settings.update(page.settings)
            if len(settings) < page.first + len(page.settings):
                raise ProtocolError(N_("CONFIG_READ: the unit listed a setting twice (page from {first})", first=page.first))
        else:
            return settings
    raise DeviceError(N_("the unit's settings kept changing while the bench read them"), fault_code="UNIT-FAULT",
                      detail=f"CONFIG_READ from unit on {client.url}: generation changed on every try")


def write(client: UnitClient, settings: Mapping[str, str]) -> dict[str, str]:
    """Write ``settings``; return each key's result: ``written``, ``unknown key``, ``read-only`` or
    ``invalid value``, the latter followed by the unit's reason (``invalid value: expected ...``).

    Raises:
        ValueError: a key or value longer than the protocol or the agreed payload takes.
        DeviceError: LINK-UNSUPPORTED (no ``config``).
    """
    pairs = list(settings.items())
    for key, value in pairs:
        cp.encode_write([(key, value)])  # refuses a key or value too long before anything is sent
    room = client.link.max_payload - 1
    results: dict[str, str] = {}
    while pairs:
        batch: list[tuple[str, str]] = []
        used = 0
        while pairs and len(batch) < 255 and used + cp.pair_size(*pairs[0]) <= room:
            used += cp.pair_size(*pairs[0])
            batch.append(pairs.pop(0))
        if not batch:
            raise ValueError(f"setting {pairs[0][0]!r} does not fit a {client.link.max_payload}-byte payload")
        answer = client._call(up.CMD_CONFIG_WRITE, cp.encode_write(batch))
        for (key, _value), (result, reason) in zip(batch, cp.decode_write_answer(answer, len(batch)), strict=True):
            results[key] = f"{result}: {reason}" if reason else result
    return results
