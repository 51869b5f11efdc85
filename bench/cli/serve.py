"""``bench serve``: the fleet dashboard in the browser (:mod:`bench.web`), read-only.

It listens on 127.0.0.1 unless told otherwise; listening anywhere else needs a token
(``--token`` or ``BENCH_SERVE_TOKEN``), or it refuses (exit 2): no open dashboard on a shop
network by accident. Only click is imported at module level (``bench --help`` stays fast).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from types import FrameType

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.errors import UsageError
from drivers.i18n import N_, _

TOKEN_ENV = "BENCH_SERVE_TOKEN"
DEFAULT_PORT = 8070


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help=N_("Address to listen on; any but the loopback needs --token (or BENCH_SERVE_TOKEN)."))
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help=N_("Port to listen on (0: any free port; the URL says which)."))
@click.option("--token", help=N_("Every request must carry it (Bearer header, or ?token= once). Default: $BENCH_SERVE_TOKEN."))
@click.option("--station", "station_file", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Station file whose store (db = ...) to show."))
@click.option("--db", help=N_("Results store URL (default: the station's, else the local SQLite store)."))
@click.option("--refresh", type=click.FloatRange(0.2, 600), default=2.0, show_default=True,
              help=N_("Seconds between two reads of the store's state for live refresh."))
@click.option("--root-path", default="",
              help=N_("The prefix a reverse proxy serves the dashboard under (e.g. /bench), the proxy taking it off."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the URL served on as JSON (one line) when listening."))
def serve(host: str, port: int, token: str | None, station_file: Path | None, db: str | None, refresh: float,
          root_path: str, as_json: bool) -> None:
    """Serve the fleet dashboard: yield, failure pareto, benches, runs in progress, units, runs and lots.

    Read-only (GET and HEAD only). Stop it with Ctrl-C.
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and token is None:
        raise UsageError(N_("--host {host} listens beyond this machine: give --token or set BENCH_SERVE_TOKEN "
                            "(or keep the default 127.0.0.1)", host=host))
    if station_file is not None:
        from bench.station import load_station

        db = db or load_station(station_file).db
    if db is not None:
        from bench.store.sqlite import sqlite_file

        found = sqlite_file(db)
        if found is not None and not found[0].exists():  # a path typed wrong: opening it would create a store
            raise UsageError(N_("no store at {path}: bench serve shows a store the benches write, and creates none",
                                path=found[0]))
    import socket

    import uvicorn

    from bench.store.connect import open_store
    from bench.web.app import create_app

    open_store(db, settle=False).close()  # a bad URL or an unreachable database: one line, exit 2/3, now
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio sets TCP_NODELAY only on sockets that say TCP (else each answer waits on a delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(N_("cannot listen on {host}:{port}: {error}", host=host, port=port,
                            error=exc.strerror or str(exc))) from exc
    bound = sock.getsockname()[1]
    # 0.0.0.0 and :: answer on every address: another machine opens the machine's name, not those.
    host_shown = socket.gethostname() if _is_ip(host) and ipaddress.ip_address(host).is_unspecified else host
    shown = f"[{host_shown}]" if family == socket.AF_INET6 and host_shown == host else host_shown
    url = f"http://{shown}:{bound}/"  # where it answers; behind a proxy, links carry --root-path
    app = create_app(db, token=token, interval=refresh)
    config = uvicorn.Config(app, log_level="warning", access_log=False, root_path=("/" + root_path.strip("/")) if root_path.strip("/") else "",
                            timeout_graceful_shutdown=2, proxy_headers=True, lifespan="on")

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            watcher = getattr(app.state, "watcher", None)
            if watcher is not None:  # open pages' event streams end, so Ctrl-C stops at once and quietly
                watcher.close_streams()
            super().handle_exit(sig, frame)

    server = _Server(config)
    sock.listen(128)  # before the URL is said: a client may connect at once (uvicorn accepts once started)
    if as_json:
        safe.echo_json(json.dumps({"url": url, "host": host, "port": bound, "token_required": token is not None}))
    else:
        said = (_("bench serve: dashboard on {url} (token required); Ctrl-C stops it") if token
                else _("bench serve: dashboard on {url}; Ctrl-C stops it"))
        safe.echo(said.format(url=url))
    server.run(sockets=[sock])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
