"""Report files on disk: whole or not at all, and destinations checked before a run starts.

:func:`write_atomic` writes a temp file beside the target and renames it over the target,
so a reader (CI picking up ``junit.xml``, a person opening ``report.html``) never sees half a
file, and a full disk or a vanished folder leaves the old file (or none), never an empty one.
It does not fsync: what must survive a power cut is the run in the store (committed with an
fsync per step by default); a report is a rendering of it, and ``bench report RUN`` writes it
again from the store. :func:`check_writable_dir` and :func:`check_writable_file` find out before the first
step whether a destination can be written at all.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from bench.errors import UsageError
from drivers.i18n import N_


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, newlines as they are) to ``path``, whole or not at all.

    The folder is created when missing.

    Raises:
        OSError: the file could not be written (nothing is left behind: no temp file, no partial file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable_dir(folder: Path, option: str) -> None:
    """``folder`` exists or can be made, and a file can be created in it.

    Raises:
        UsageError: one line naming the option, the path and the reason.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(N_("{option} {path}: cannot create this folder: {why}", option=option, path=str(folder),
                            why=_why(exc, folder))) from exc
    _probe(folder, option, folder)


def check_writable_file(path: Path, option: str) -> None:
    """``path`` can be written as a regular file (its folder exists or can be made, and is writable).

    Raises:
        UsageError: one line naming the option, the path and the reason.
    """
    if path.exists() or path.is_symlink():
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise UsageError(N_("{option} {path}: {why}", option=option, path=str(path), why=_why(exc, path))) from exc
        if stat.S_ISDIR(mode):
            raise UsageError(N_("{option} {path}: is a folder, not a file", option=option, path=str(path)))
        if not stat.S_ISREG(mode):
            raise UsageError(N_("{option} {path}: is not a regular file", option=option, path=str(path)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(N_("{option} {path}: cannot create its folder {folder}: {why}", option=option, path=str(path),
                            folder=str(path.parent), why=_why(exc, path.parent))) from exc
    _probe(path.parent, option, path)


def _probe(folder: Path, option: str, shown: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".bench-probe.", dir=folder)
    except OSError as exc:
        raise UsageError(N_("{option} {path}: cannot write in {folder}: {why}", option=option, path=str(shown),
                            folder=str(folder), why=_why(exc, folder))) from exc
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _why(exc: OSError, path: Path) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return N_("a file is in the way")
    return (exc.strerror or type(exc).__name__).lower()
