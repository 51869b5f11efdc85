"""Who owns something a process left behind (a stored run, a simulator's temp folder), and whether it lives.

A pid alone names a process only while it runs: after it exits the kernel hands the number to
the next process, and after a reboot every number starts over. An :class:`Owner` is the pid
plus the process's start time (``/proc/PID/stat`` field 22, clock ticks since boot), the boot
id (``/proc/sys/kernel/random/boot_id``) and the host name, so "is the owner alive?" is
answered right after pid reuse and after a reboot too.

Used by the harness's store (the runs) and by the simulated bench (its temp folders), hence here.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Owner:
    """A process, named so that its pid cannot be mistaken for a later process's."""

    pid: int
    start: int | None  # clock ticks after boot at which it started (None: not known, e.g. an old record)
    boot_id: str | None  # the boot it ran in (None: not known)
    host: str

    def to_text(self) -> str:
        """One line: ``pid start boot_id host`` (``-`` for what is not known)."""
        return f"{self.pid} {self.start if self.start is not None else '-'} {self.boot_id or '-'} {self.host}"

    @classmethod
    def from_text(cls, text: str) -> Owner | None:
        """What :meth:`to_text` wrote, or None when ``text`` is not that."""
        parts = text.split()
        if len(parts) != 4 or not parts[0].isdigit() or not (parts[1].isdigit() or parts[1] == "-"):
            return None
        return cls(int(parts[0]), int(parts[1]) if parts[1] != "-" else None,
                   None if parts[2] == "-" else parts[2], parts[3])


@functools.lru_cache(maxsize=1)
def boot_id() -> str | None:
    """This boot's id (Linux), or None where the system has none."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def host() -> str:
    """This machine's name, as the store records it."""
    return socket.gethostname()


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot), or None when it is not running or unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name, in parentheses, may hold spaces
    try:
        return int(fields[19])  # field 22 of the line; fields[0] is field 3 (the state)
    except (IndexError, ValueError):
        return None


def me() -> Owner:
    """This process."""
    pid = os.getpid()
    return Owner(pid, start_ticks(pid), boot_id(), host())


def alive(owner: Owner) -> bool | None:
    """Whether ``owner`` still runs: True, False, or None when this host cannot tell (another host).

    A zombie counts as gone; so does a process with the same pid that started at another time
    (the pid was reused) or in another boot.
    """
    if owner.host != host():
        return None
    if owner.boot_id is not None and boot_id() is not None and owner.boot_id != boot_id():
        return False
    if not pid_alive(owner.pid):
        return False
    if owner.start is not None:
        now = start_ticks(owner.pid)
        if now is not None and now != owner.start:
            return False
    return True


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
