"""Where test plans are found: a file path, or a plan's name looked up in a short list of folders.

``bench run pos-full --sim`` works from any directory: a name (no folder, with or without
``.yaml``) is looked up in ``./testplans`` (the station's own plans, first) and then in the
stock plans that ship with bench. The stock plans have one source, ``testplans/`` at the top
of the repository: a wheel carries them as ``bench/testplans/`` (``pyproject.toml`` maps that
package folder onto the repository's one), and a source checkout (an editable install) reads
the repository's folder itself. Only the standard library is imported, so ``bench --help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path

import bench

#: The folder, relative to the working directory, that holds a station's own plans.
LOCAL_DIR = Path("testplans")


def stock_dir() -> Path | None:
    """The folder of the stock plans shipped with bench, or None when this install has none."""
    package = Path(bench.__file__).resolve().parent
    for candidate in (package / "testplans", package.parent / "testplans"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


def plan_dirs() -> list[Path]:
    """The folders searched for a plan named without a path, in order (each once)."""
    dirs: list[Path] = [LOCAL_DIR]
    stock = stock_dir()
    if stock is not None and not (LOCAL_DIR.is_dir() and LOCAL_DIR.resolve() == stock):
        dirs.append(stock)
    return dirs


def describe_dirs(dirs: list[Path] | None = None) -> str:
    """The searched folders on one line, for messages: ``./testplans, /usr/lib/.../bench/testplans``."""
    return ", ".join(f"./{d}" if not d.is_absolute() else str(d) for d in (dirs if dirs is not None else plan_dirs()))


def is_name(ref: str) -> bool:
    """True when ``ref`` names a plan rather than a file: no folder in it."""
    return bool(ref) and "/" not in ref and "\\" not in ref and ref not in (".", "..")


def find_plan(ref: str | Path) -> Path | None:
    """The plan file ``ref`` means: itself when it is a file or has a folder in it, else the first
    ``NAME.yaml`` in :func:`plan_dirs`; None for a name found nowhere."""
    text = str(ref)
    path = Path(text)
    if path.is_file() or not is_name(text):
        return path
    file_name = text if text.endswith((".yaml", ".yml")) else f"{text}.yaml"
    for folder in plan_dirs():
        candidate = folder / file_name
        if candidate.is_file():
            return candidate
    return None


def all_plans() -> list[Path]:
    """Every plan file in :func:`plan_dirs`; a name in an earlier folder hides the same name later."""
    seen: set[str] = set()
    found: list[Path] = []
    for folder in plan_dirs():
        for f in sorted(folder.glob("*.yaml")):
            if f.name not in seen:
                seen.add(f.name)
                found.append(f)
    return found


__all__ = ["LOCAL_DIR", "all_plans", "describe_dirs", "find_plan", "is_name", "plan_dirs", "stock_dir"]
