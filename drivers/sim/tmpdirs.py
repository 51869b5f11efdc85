"""The simulated bench's temp folders: each names its owner, and the next start removes orphans.

A simulated bench keeps its unit's pty link and control socket in a ``bench-sim-*`` folder
under the temp directory and removes it when it closes. A process killed with ``kill -9`` (or
a power cut on a machine whose ``/tmp`` survives it) cannot: so every folder holds a
``.owner`` file naming the process that made it (:class:`drivers.owner.Owner`: pid, start
time, boot, host), and each new simulated bench removes the folders whose owner is gone.

Only folders this code made are touched: a directory (not a symlink) named ``bench-sim-*``,
owned by this user, holding a readable ``.owner`` file that names a process of this host
which is provably gone. Anything else is left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

from drivers import owner

_LOG = logging.getLogger(__name__)

PREFIX = "bench-sim-"
OWNER_FILE = ".owner"


def make(prefix: str = PREFIX, parent: Path | None = None) -> Path:
    """A new temp folder owned by this process (after removing the orphans of dead processes)."""
    sweep(prefix, parent)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (folder / OWNER_FILE).write_text(owner.me().to_text() + "\n")
    return folder


def sweep(prefix: str = PREFIX, parent: Path | None = None) -> list[Path]:
    """Remove the ``prefix*`` folders of processes that are gone; the folders removed."""
    where = Path(parent if parent is not None else tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(where))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(prefix) and _orphan(Path(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)
            if not os.path.lexists(entry.path):
                removed.append(Path(entry.path))
                _LOG.info("removed %s, left by a simulated bench whose process is gone", entry.path)
    return removed


def _orphan(folder: Path) -> bool:
    """Whether ``folder`` is one of ours whose owner is provably gone."""
    try:
        st = folder.lstat()
        if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            return False
        mark = folder / OWNER_FILE
        if not stat.S_ISREG(mark.lstat().st_mode):
            return False
        with open(mark, encoding="ascii", errors="replace") as f:
            found = owner.Owner.from_text(f.read(200))
    except OSError:
        return False
    return found is not None and owner.alive(found) is False
