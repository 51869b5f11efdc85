"""Live refresh: one watcher reads the store's state every few seconds; pages hear of changes by SSE.

:class:`Watcher` runs :func:`bench.web.views.signature` on a pool worker every ``interval``
seconds (one read for the whole server, however many browsers watch) and counts a new version
whenever it changed. ``GET /events`` is a server-sent event stream of that counter
(``event: version``, at once and on each change, a comment every 15 s to keep proxies from closing
it). The page's script (``static/live.js``) fetches the page again when the version moves and
swaps the parts marked ``data-live`` whose content changed: no reload, no flicker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from bench.web import views
from bench.web.pool import StorePool

_LOG = logging.getLogger(__name__)

#: Seconds between two reads of the store's state.
DEFAULT_INTERVAL_S = 2.0
#: Seconds between keep-alive comments on an idle stream.
KEEPALIVE_S = 15.0


class Watcher:
    """The version counter: bumped when the store's state (:func:`views.signature`) changes."""

    def __init__(self, pool: StorePool, interval: float = DEFAULT_INTERVAL_S) -> None:
        self.pool = pool
        self.interval = interval
        self.version = 0
        self._last: Any = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        #: The server is stopping: the event streams end (else each holds up the shutdown, then is cancelled).
        self.closing = False

    def start(self) -> None:
        """Start watching (on the running event loop)."""
        self._changed = asyncio.Event()
        self._event_loop = asyncio.get_running_loop()
        self._task = self._event_loop.create_task(self._loop())

    def close_streams(self) -> None:
        """End every event stream now; callable from a signal handler or another thread."""
        def close() -> None:
            self.closing = True
            self._changed.set()

        if self._event_loop is not None and not self._event_loop.is_closed():
            self._event_loop.call_soon_threadsafe(close)

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self) -> None:
        """Read the state once; a new version when it changed."""
        now = datetime.now(UTC)
        sig = await self.pool.run(lambda store: views.signature(store, now))
        if sig != self._last:
            self._last = sig
            self.version += 1
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def _loop(self) -> None:
        failing = False
        while True:
            try:
                await self.check()
            except Exception as exc:  # the database away: the pages say so; keep trying, say it once
                _LOG.log(logging.DEBUG if failing else logging.WARNING, "live refresh: reading the store failed: %s",
                         exc)
                failing = True
            else:
                if failing:
                    _LOG.warning("live refresh: the store answers again")
                failing = False
            await asyncio.sleep(self.interval)

    async def wait(self, timeout: float) -> bool:
        """Wait for the next version (True) or ``timeout`` seconds (False)."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        return True


async def events(request: Request) -> StreamingResponse:
    """``GET /events``: the version counter as server-sent events."""
    watcher: Watcher = request.app.state.watcher

    async def stream() -> AsyncIterator[str]:
        yield f"retry: 3000\nevent: version\ndata: {watcher.version}\n\n"
        sent = watcher.version
        while not watcher.closing:
            if watcher.version != sent:
                sent = watcher.version
                yield f"event: version\ndata: {sent}\n\n"
            elif not await watcher.wait(KEEPALIVE_S):
                yield ": still here\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
