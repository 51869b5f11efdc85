"""Where soak profiles are found: a file path, or a name looked up in ``soak/`` of each plan folder.

``bench soak busy-hour`` and a plan step ``params: {profile: busy-hour}`` both mean
``testplans/soak/busy-hour.yaml`` (the station's own folder first, then the stock profiles; see
:mod:`bench.planfind`).
"""

from __future__ import annotations

from pathlib import Path


def profile_dirs() -> list[Path]:
    """The folders searched for a profile named without a path: ``soak/`` in each plan folder."""
    from bench import planfind

    return [folder / "soak" for folder in planfind.plan_dirs()]


def find_profile(ref: str) -> Path | None:
    """The profile file ``ref`` means (a path, or ``NAME`` = ``soak/NAME.yaml`` in a plan folder)."""
    from bench import planfind

    path = Path(ref)
    if path.is_file() or not planfind.is_name(ref):
        return path
    file_name = ref if ref.endswith((".yaml", ".yml")) else f"{ref}.yaml"
    return next((d / file_name for d in profile_dirs() if (d / file_name).is_file()), None)


def all_profiles() -> list[Path]:
    """Every profile in :func:`profile_dirs`."""
    return [f for d in profile_dirs() if d.is_dir() for f in sorted(d.glob("*.yaml"))]
