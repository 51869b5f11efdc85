"""Click parameter types of the bench CLI (only click and the standard library at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from drivers.i18n import _


class PlanRef(click.ParamType):
    """A test plan: a file, or a plan's name (``pos-full``) looked up where :mod:`bench.planfind` says."""

    name = "plan"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        """The plan's file; a name found nowhere fails here, naming the folders searched."""
        from bench import planfind

        if isinstance(value, Path):
            value = str(value)
        found = planfind.find_plan(value)
        if found is None:
            import difflib

            names = [f.stem for f in planfind.all_plans()]
            close = difflib.get_close_matches(value.removesuffix(".yaml"), names, n=1)
            hint = _("; did you mean {name}?").format(name=close[0]) if close else ""
            self.fail(_("no plan named {name!r} (looked for {file} in: {dirs})").format(
                name=value, file=f"{value.removesuffix('.yaml')}.yaml", dirs=planfind.describe_dirs()) + hint, param, ctx)
        return found


PLAN = PlanRef()

__all__ = ["PLAN", "PlanRef"]
