"""The dashboard application (``bench serve``): routes, the store pool, the live watcher, the guard.

:func:`create_app` builds the Starlette app for a store URL; :mod:`bench.cli.serve` runs it under
uvicorn. Pages (each also as JSON with ``?format=json``): ``/`` overview, ``/benches/NAME``,
``/models/NAME``, ``/units/SERIAL``, ``/runs/ID`` (and ``/runs/ID/report``, the report itself),
``/lots``, ``/search?q=``; ``/events`` is the live stream (:mod:`bench.web.live`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bench.web import live, pages
from bench.web.pool import DEFAULT_WORKERS, StorePool
from bench.web.security import Guard


def create_app(db: str | None, *, token: str | None = None, interval: float = live.DEFAULT_INTERVAL_S,
               workers: int = DEFAULT_WORKERS, pool: StorePool | None = None) -> Starlette:
    """The dashboard on the store at ``db`` (``None``: the local SQLite store).

    Args:
        db: the store URL.
        token: when given, every request must carry it (:mod:`bench.web.security`).
        interval: seconds between two reads of the store's state for live refresh.
        workers: database connections (threads) serving reads.
        pool: a pool already open (tests); closed with the app.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = pool or StorePool(db, workers)
        app.state.watcher = live.Watcher(app.state.pool, interval)
        app.state.watcher.start()
        try:
            yield
        finally:
            await app.state.watcher.stop()
            app.state.pool.close()

    routes = [
        Route("/", pages.overview),
        Route("/benches/{name:path}", pages.bench),
        Route("/models/{name:path}", pages.model),
        Route("/units/{serial:path}", pages.unit),
        Route("/runs/{run_id}", pages.run),
        Route("/runs/{run_id}/report", pages.run_report),
        Route("/lots", pages.lots),
        Route("/search", pages.search),
        Route("/events", live.events),
        Route("/favicon.ico", pages.favicon),
        Mount("/static", StaticFiles(directory=str(files("bench.web") / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(Guard, token=token)])
    app.state.templates = pages.environment()
    return app
