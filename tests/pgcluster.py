"""A throw-away PostgreSQL cluster for tests: initdb + pg_ctl on a free port under a temp dir.

Usage::

    from pgcluster import start_pg_cluster

    with start_pg_cluster() as url:   # "postgresql+psycopg://bench@127.0.0.1:PORT/bench"
        ...

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system
user (through ``runuser``, else ``setpriv``), with the data directory owned by it. Without
root it runs as the current user. The binaries come from ``$PG_BIN``, else the newest
``/usr/lib/postgresql/*/bin``, else ``$PATH``.

:class:`PgUnavailable` says why a cluster cannot be started (no binaries, no user to run
as); a fixture skips on it only when not root (as root, CI, it must fail instead).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

_LOG = logging.getLogger(__name__)

#: The system user the server runs as when we are root.
PG_SYSTEM_USER = "postgres"


class PgUnavailable(RuntimeError):
    """A PostgreSQL cluster cannot be started here (the message says why)."""


def find_pg_bin() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Raises:
        PgUnavailable: none found.
    """
    env = os.environ.get("PG_BIN")
    candidates = [Path(env)] if env else []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    raise PgUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): install Debian 'postgresql' or set PG_BIN"
    )


def _as_user_prefix() -> tuple[list[str], int | None, int | None]:
    """The command prefix to run a server binary, and the uid/gid that must own its files."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError as exc:
        raise PgUnavailable(
            f"running as root and there is no {PG_SYSTEM_USER!r} user to run PostgreSQL"
        ) from exc
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", PG_SYSTEM_USER, "--"], pw.pw_uid, pw.pw_gid
    setpriv = shutil.which("setpriv")
    if setpriv:
        prefix = [setpriv, f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
        return prefix, pw.pw_uid, pw.pw_gid
    raise PgUnavailable("running as root and neither runuser nor setpriv is available to drop privileges")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], *, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}".rstrip()
        )


@contextlib.contextmanager
def start_pg_cluster(
    *, user: str = "bench", dbname: str = "bench", max_connections: int = 100
) -> Iterator[str]:
    """Start a private PostgreSQL cluster and yield a ``postgresql+psycopg://`` URL to it.

    The cluster trusts local connections (no password), listens on 127.0.0.1 on a free
    port and its own socket directory, runs with ``fsync=off``, and is stopped (immediate
    mode) and deleted on exit.

    Raises:
        PgUnavailable: no binaries, or no way to run them as a non-root user.
        RuntimeError: initdb or the server failed (with their output).
    """
    with pg_cluster(user=user, dbname=dbname, max_connections=max_connections) as cluster:
        yield cluster.url


class PgCluster:
    """A running private cluster: its URL, and :meth:`stop` / :meth:`start` to take it away and back."""

    def __init__(self, bindir: Path, prefix: list[str], data: Path, sock: Path, logfile: Path,
                 env: dict[str, str], max_connections: int, fsync: bool = False) -> None:
        self.bindir, self.prefix, self.data, self.sock, self.logfile = bindir, prefix, data, sock, logfile
        self.env, self.max_connections, self.fsync = env, max_connections, fsync
        self.port = 0
        self.running = False
        self.url = ""

    def _pg_ctl(self, *args: str) -> None:
        _run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], env=self.env)

    def start(self) -> None:
        """Start the server (on its port: the URL stays valid) and wait until it accepts connections."""
        durability = "" if self.fsync else "-c fsync=off -c full_page_writes=off "
        opts = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 {durability}"
            f"-c max_connections={self.max_connections}"
        )
        self._pg_ctl("-l", str(self.logfile), "-o", opts, "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: connections are cut, as when a database server goes down)."""
        self._pg_ctl("-m", mode, "-w", "stop")
        self.running = False


@contextlib.contextmanager
def pg_cluster(*, user: str = "bench", dbname: str = "bench", max_connections: int = 100,
               fsync: bool = False) -> Iterator[PgCluster]:
    """:func:`start_pg_cluster`, yielding the :class:`PgCluster` (a test may stop and restart it).

    ``fsync``: commits reach the disk as on a production server (the benchmarks); tests run without.
    """
    bindir = find_pg_bin()
    prefix, uid, gid = _as_user_prefix()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data, sock, logfile = tmp / "data", tmp / "sock", tmp / "server.log"
    sock.mkdir()
    if uid is not None and gid is not None:
        for path in (tmp, sock):
            os.chown(path, uid, gid)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    cluster = PgCluster(bindir, prefix, data, sock, logfile, env, max_connections, fsync)
    try:
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            env=env,
        )
        for attempt in range(5):
            cluster.port = _free_port()
            try:
                cluster.start()
            except RuntimeError:
                if attempt == 4:
                    log = logfile.read_text(errors="replace") if logfile.exists() else ""
                    raise RuntimeError(f"PostgreSQL did not start; server log:\n{log}") from None
                continue
            break
        port = cluster.port
        _run(
            [*prefix, str(bindir / "createdb"), "-h", str(sock), "-p", str(port), "-U", user, dbname], env=env
        )
        _LOG.info("PostgreSQL cluster in %s on port %d", tmp, port)
        cluster.url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/{dbname}"
        yield cluster
    finally:
        if cluster.running:
            try:
                cluster.stop("immediate")
            except RuntimeError as exc:
                _LOG.warning("stopping the PostgreSQL cluster failed: %s", exc)
        shutil.rmtree(tmp, ignore_errors=True)


def pg_reason_to_skip() -> str | None:
    """Why PostgreSQL tests may be skipped here, or ``None`` when they must run.

    As root (CI) they never skip: a missing server is a failure. Without root they skip
    when there are no server binaries.
    """
    if os.geteuid() == 0:
        return None
    try:
        find_pg_bin()
    except PgUnavailable as exc:
        return str(exc)
    return None


def create_database(url: str, name: str) -> str:
    """Create database ``name`` on the cluster at ``url`` and return the URL to it."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)
