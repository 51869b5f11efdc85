"""Debian's ser2net (4.x, YAML configuration) publishing a unit's serial port as ``rfc2217://HOST:PORT``, for tests.

Usage::

    from ser2net import Ser2net

    with Ser2net(Path("/tmp/x/unit0"), tmp_path) as server:   # a pty of a simulated unit
        url = server.url                                      # "rfc2217://127.0.0.1:PORT"
        server.kill()                                         # the link drops
        server.start()                                        # back, on the same port

:func:`config` is the one ``ser2net.yaml`` template: the tests run it, and docs/fleet.md shows
it (tests/drivers/test_netport_ser2net.py checks that the example there is this template's).
The port is a free one; a ser2net that could not listen on it keeps running without saying so,
so :meth:`Ser2net.start` waits until the listening socket is this process's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

SER2NET = shutil.which("ser2net") or "/usr/sbin/ser2net"
_START_S = 10.0


def require_ser2net() -> None:
    """Skip the test when ser2net is not installed and we are not root; as root (CI) fail instead, saying how."""
    import pytest

    if Path(SER2NET).exists():
        return
    if os.geteuid() == 0:
        pytest.fail("ser2net is not installed: `make sysdeps-test` installs it (Debian package ser2net)")
    pytest.skip("ser2net is not installed (Debian package ser2net; `make sysdeps-test` as root)")


def config(device: str, port: int, host: str = "127.0.0.1", name: str = "unit1", baud: int = 115200) -> str:
    """A ser2net 4.x ``ser2net.yaml`` publishing ``device`` with RFC 2217 on ``host:port``.

    ``kickolduser: false``: a second bench that connects to a unit in use is refused
    ("Port already in use"), it does not take the unit from the run in progress.
    """
    return (
        "%YAML 1.1\n"
        "---\n"
        f"connection: &{name}\n"
        f"    accepter: telnet(rfc2217),tcp,{host},{port}\n"
        "    enable: on\n"
        "    options:\n"
        "      kickolduser: false\n"
        f"    connector: serialdev,{device},{baud}n81,local\n"
    )


def free_port() -> int:
    """A TCP port nothing listens on now (another process may take it before ser2net: :meth:`Ser2net.start` retries)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Ser2net:
    """One ser2net process publishing ``device`` on 127.0.0.1, its files in ``folder``."""

    def __init__(self, device: Path, folder: Path) -> None:
        self.device = device
        self.folder = folder
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The unit's URL for a station file."""
        return f"rfc2217://127.0.0.1:{self.port}"

    def start(self) -> Ser2net:
        """Start ser2net (on the same port as before, after :meth:`kill`); return once it listens."""
        for _ in range(5):
            fresh = not self.port
            if fresh:
                self.port = free_port()
            cfg = self.folder / "ser2net.yaml"
            cfg.write_text(config(str(self.device), self.port))
            # -n: stay in the foreground; -u: no UUCP lock file (the pty is the simulator's)
            self.proc = subprocess.Popen([SER2NET, "-n", "-u", "-c", str(cfg), "-P", str(self.folder / "ser2net.pid")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._listening():
                return self
            self.kill()
            if not fresh:
                break
            self.port = 0
        raise RuntimeError(f"ser2net did not listen on 127.0.0.1:{self.port}")

    def _listening(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + _START_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            if _listens(self.proc.pid, self.port):
                return True
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled network cable would end it (its connections drop)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def __enter__(self) -> Ser2net:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on TCP ``port`` (IPv4)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False
