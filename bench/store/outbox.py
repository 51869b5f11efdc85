"""The outbox: where a bench keeps its runs while its PostgreSQL store cannot be reached.

One ordinary SQLite store file (the current schema) per database URL, next to the default
store in the user data directory: ``outbox-<hash of the URL>.db``, with a small
``outbox-<hash>.json`` saying which URL it is for (its password hidden). ``bench sync``
(:mod:`bench.store.sync`) uploads what it holds and removes both files once they are empty.

A process that writes into an outbox holds a shared ``flock`` on the file; ``bench sync``
removes an emptied outbox only under the exclusive lock, so it never unlinks a file a bench
is about to write (``docs/store.md``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_LOG = logging.getLogger(__name__)

_PREFIX = "outbox-"


@dataclass(frozen=True)
class Outbox:
    """The outbox of one database URL (its file may not exist)."""

    path: Path
    url: str  # the database's URL, password hidden

    @property
    def store_url(self) -> str:
        """The SQLite URL of the outbox file."""
        return f"sqlite:///{self.path}"

    @property
    def exists(self) -> bool:
        """Whether the outbox file is there."""
        return self.path.is_file()


def shown_url(url: str) -> str:
    """A database URL as the outbox names it: parsed, the driver's name dropped, the password hidden."""
    from bench.store.engine import parse_url

    parsed = parse_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def data_dir() -> Path:
    """The directory of the default store and the outboxes (created)."""
    import platformdirs

    directory = Path(platformdirs.user_data_dir("bench"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def for_url(url: str) -> Outbox:
    """The outbox of the database at ``url``.

    Raises:
        UsageError: a malformed URL.
    """
    shown = shown_url(url)
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return Outbox(data_dir() / f"{_PREFIX}{digest}.db", shown)


def every() -> list[Outbox]:
    """Every outbox file in the data directory, with the URL it is for (oldest file first)."""
    found = []
    for path in sorted(data_dir().glob(f"{_PREFIX}*.db"), key=lambda p: p.stat().st_mtime):
        try:
            url = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["url"]
        except (OSError, ValueError, KeyError, TypeError):
            url = ""
        found.append(Outbox(path, str(url)))
    return found


@contextlib.contextmanager
def held(box: Outbox) -> Iterator[None]:
    """Hold the outbox (a shared lock) while writing into it; creates its file and its URL note."""
    with locked(box.path, fcntl.LOCK_SH):
        note = box.path.with_suffix(".json")
        if not note.exists():
            note.write_text(json.dumps({"url": box.url}) + "\n", encoding="utf-8")
        yield


@contextlib.contextmanager
def locked(path: Path, how: int, *, remove: bool = False) -> Iterator[None]:
    """Hold an ``flock`` on ``path`` (created); with ``remove``, the file is deleted before the lock is let go.

    The lock is checked after it is taken: another process may have removed the file between our
    ``open`` and our lock, and then we take the new one.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, how)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        try:
            if remove:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        finally:
            os.close(fd)


def remove_if_empty(box: Outbox, is_empty: Callable[[], bool]) -> bool:
    """Remove the outbox's files when nobody holds it and ``is_empty()`` says so; whether it did."""
    try:
        fd = os.open(box.path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _LOG.debug("outbox %s: in use by a bench, left in place", box.path)
            return False
        if not _same_file(fd, box.path) or not is_empty():
            return False
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{box.path}{suffix}")
        box.path.unlink()
        with contextlib.suppress(FileNotFoundError):
            box.path.with_suffix(".json").unlink()
        return True
    finally:
        os.close(fd)


def pending_ids(box: Outbox) -> set[str]:
    """The ids of the runs in the outbox (none when it has no file, or is not a store yet)."""
    if not box.exists:
        return set()
    try:
        conn = sqlite3.connect(f"file:{box.path}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error:
        return set()
    try:
        return {str(r[0]) for r in conn.execute("SELECT id FROM runs")}
    except sqlite3.Error:  # an empty file: the bench that made it has not created the tables yet
        return set()
    finally:
        conn.close()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)
