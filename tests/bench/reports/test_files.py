"""Report files are written whole or not at all; destinations are checked before a run."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.reports.files import check_writable_dir, check_writable_file, write_atomic


def test_a_write_that_fails_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "junit.xml"
    target.write_text("<old/>")

    real_write = os.write

    def full(fd: int, data: bytes) -> int:  # the disk fills after the first 4 bytes
        if len(data) > 4:
            return real_write(fd, bytes(data[:4]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m, pytest.raises(OSError, match="No space left"):
        m.setattr(os, "write", full)
        write_atomic(target, "<testsuites/>")
    assert target.read_text() == "<old/>"  # not truncated to 0 bytes
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "new" / "report.html"
    write_atomic(target, "<p>é</p>\n")
    write_atomic(tmp_path / "new" / "a.png", b"\x89PNG")
    assert target.read_bytes() == "<p>é</p>\n".encode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.png", "report.html"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_checks_name_the_option_and_the_path(tmp_path: Path) -> None:
    check_writable_dir(tmp_path / "a" / "b", "--report")  # made, and writable
    assert (tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []
    check_writable_file(tmp_path / "c" / "junit.xml", "--junit")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match=r"^--junit .*/f/j\.xml: cannot create its folder .*: a file is in the way$"):
        check_writable_file(tmp_path / "f" / "j.xml", "--junit")
    with pytest.raises(UsageError, match="is a folder, not a file"):
        check_writable_file(tmp_path / "a", "--junit")
