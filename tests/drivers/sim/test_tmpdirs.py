"""The simulated bench's temp folders: the orphans of dead processes go, nothing else is touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from drivers import owner
from drivers.sim import tmpdirs


def _folder(parent: Path, name: str, owner_text: str | None) -> Path:
    folder = parent / f"bench-sim-{name}"
    folder.mkdir()
    (folder / "unit0").write_text("")
    if owner_text is not None:
        (folder / ".owner").write_text(owner_text + "\n")
    return folder


def test_only_folders_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    me = owner.me()
    gone = _folder(tmp_path, "gone", owner.Owner(dead.pid, None, me.boot_id, me.host).to_text())
    reused = _folder(tmp_path, "reused", owner.Owner(me.pid, (me.start or 0) + 1, me.boot_id, me.host).to_text())
    old_boot = _folder(tmp_path, "boot", owner.Owner(me.pid, me.start, "another-boot", me.host).to_text())
    alive = _folder(tmp_path, "alive", me.to_text())
    elsewhere = _folder(tmp_path, "elsewhere", owner.Owner(dead.pid, None, None, "other-host").to_text())
    unmarked = _folder(tmp_path, "unmarked", None)  # not provably ours
    garbage = _folder(tmp_path, "garbage", "rm -rf /")
    other_name = tmp_path / "something-else"
    other_name.mkdir()
    (other_name / ".owner").write_text(owner.Owner(dead.pid, None, None, me.host).to_text())
    link = tmp_path / "bench-sim-link"
    link.symlink_to(gone)

    removed = tmpdirs.sweep(parent=tmp_path)

    assert sorted(removed) == sorted([gone, reused, old_boot])
    for kept in (alive, elsewhere, unmarked, garbage, other_name):
        assert kept.is_dir(), kept
    assert link.is_symlink()


def test_a_new_folder_names_its_owner_and_sweeps_first(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = _folder(tmp_path, "orphan", owner.Owner(dead.pid, None, owner.boot_id(), owner.host()).to_text())
    made = tmpdirs.make(parent=tmp_path)
    assert made.name.startswith("bench-sim-") and not orphan.exists()
    assert owner.Owner.from_text((made / ".owner").read_text()) == owner.me()
    assert tmpdirs.sweep(parent=tmp_path) == [] and made.is_dir()
