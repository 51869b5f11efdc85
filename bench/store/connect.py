"""Which store a command gets: ``sqlite3`` alone on a current SQLite file, else SQLAlchemy's.

``bench run``, ``bench history``, ``bench trend`` and ``bench report`` on an existing SQLite
store whose schema is current never import SQLAlchemy (:class:`bench.store.sqlite.SqliteStore`);
anything else (PostgreSQL, a store to create, migrate or refuse, URL parameters other than
``synchronous``) opens :class:`bench.store.engine.Store`, which imports it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bench.store.sqlite import default_url, open_current

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)


def open_store(url: str | None = None) -> StoreBase:
    """The store at ``url`` (``None``: the per-user SQLite file), on ``sqlite3`` when it can be.

    Raises:
        UsageError: the URL is malformed.
        EquipmentError: the database cannot be reached, opened or migrated.
    """
    light = open_current(url if url is not None else default_url())
    if light is not None:
        _LOG.debug("store %s: opened with sqlite3", light.url)
        return light
    from bench.store.engine import Store

    return Store.open(url)
