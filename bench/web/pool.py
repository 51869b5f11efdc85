"""The dashboard's connections to the store: a few worker threads, each with a store of its own.

A store is not thread-safe (one per thread, :class:`bench.store.base.StoreBase`), and its queries
block. A request hands its read to :meth:`StorePool.run`, which queues it for the next free worker;
the event loop never waits on the database. A worker whose database went away (an
:class:`~bench.errors.EquipmentError`) drops its store and opens a new one for the next read, so the
dashboard comes back by itself when PostgreSQL does.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from bench.errors import EquipmentError

if TYPE_CHECKING:
    from bench.store.base import StoreBase

_LOG = logging.getLogger(__name__)

T = TypeVar("T")

#: Worker threads (each its own database connection): enough for 20 clients on reads of a few ms.
DEFAULT_WORKERS = 4


def open_read_store(url: str | None) -> StoreBase:
    """The store at ``url`` for reading: runs of dead processes are left as they are (read-only)."""
    from bench.store.connect import open_store

    return open_store(url, settle=False)


class StorePool:
    """``workers`` threads, each owning one store opened with ``opener``; reads run on them in turn."""

    def __init__(self, url: str | None, workers: int = DEFAULT_WORKERS,
                 opener: Callable[[str | None], StoreBase] = open_read_store) -> None:
        self.url = url
        self._opener = opener
        self._jobs: queue.Queue[tuple[Callable[[StoreBase], Any], Future[Any]] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name=f"bench-web-db-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        store: StoreBase | None = None
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, fut = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                if store is None:
                    store = self._opener(self.url)
                    fut.set_result(fn(store))
                else:
                    try:
                        fut.set_result(fn(store))
                    except EquipmentError as exc:  # a connection the server dropped (restarted): read once more anew
                        _LOG.info("%s (reading again on a new connection)", exc)
                        _close(store)
                        store = None
                        store = self._opener(self.url)
                        fut.set_result(fn(store))
            except BaseException as exc:
                if isinstance(exc, EquipmentError) and store is not None:
                    _LOG.warning("%s (reconnecting on the next read)", exc)
                    _close(store)
                    store = None
                fut.set_exception(exc)
        if store is not None:
            _close(store)

    def submit(self, fn: Callable[[StoreBase], T]) -> Future[T]:
        """Queue ``fn(store)`` for a worker; its future."""
        fut: Future[T] = Future()
        self._jobs.put((fn, fut))
        return fut

    async def run(self, fn: Callable[[StoreBase], T]) -> T:
        """``fn(store)`` on a worker, awaited."""
        return await asyncio.wrap_future(self.submit(fn))

    def close(self) -> None:
        """Stop the workers once the queued reads are done; each closes its store."""
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join(timeout=10)


def _close(store: StoreBase) -> None:
    try:
        store.close()
    except Exception as exc:  # closing a connection to a database that is gone
        _LOG.debug("closing the store: %s", exc)
