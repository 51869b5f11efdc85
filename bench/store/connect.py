"""Which store a command gets: ``sqlite3`` alone on a current SQLite file, else SQLAlchemy's.

``bench run``, ``bench history``, ``bench trend`` and ``bench report`` on an existing SQLite
store whose schema is current never import SQLAlchemy (:class:`bench.store.sqlite.SqliteStore`);
anything else (PostgreSQL, a store to create, migrate or refuse, URL parameters other than
``synchronous``) opens :class:`bench.store.engine.Store`, which imports it.

Every command that opens the store marks ABORTED the runs of this host whose process is gone
(``kill -9``, a power cut, a pid since reused), so what it shows never says RUNNING for a run
that nobody runs (``docs/store.md``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bench.errors import EquipmentError
from bench.store.sqlite import default_url, open_current

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)


def open_store(url: str | None = None, *, settle: bool = True) -> StoreBase:
    """The store at ``url`` (``None``: the per-user SQLite file), on ``sqlite3`` when it can be.

    Args:
        url: the store URL.
        settle: mark ABORTED the runs of this host whose process is gone (a store the user
            may not write to is read as it is).

    Raises:
        UsageError: the URL is malformed, or names a SQLite file in a missing directory.
        EquipmentError: the database cannot be reached, opened or migrated.
    """
    store = _open(url)
    if settle:
        try:
            store.mark_abandoned(keep=_buffered_ids(url))
        except EquipmentError as exc:  # e.g. a read-only store: show it as it is
            _LOG.debug("store %s: runs of dead processes left as they are: %s", store.url, exc)
        except BaseException:
            store.close()
            raise
    return store


def _buffered_ids(url: str | None) -> set[str]:
    """The runs of a PostgreSQL store that sit in this host's outbox: ``bench sync`` completes them, not settling."""
    if url is None or not url.startswith("postgres"):
        return set()
    from bench.store import outbox

    try:
        return outbox.pending_ids(outbox.for_url(url))
    except OSError as exc:
        _LOG.debug("outbox of %s not read: %s", url, exc)
        return set()


def _open(url: str | None) -> StoreBase:
    light = open_current(url if url is not None else default_url())
    if light is not None:
        _LOG.debug("store %s: opened with sqlite3", light.url)
        return light
    from bench.store.engine import Store

    return Store.open(url)

