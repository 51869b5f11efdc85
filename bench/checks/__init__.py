"""The library of checks, found by name.

Built-in checks live in the modules listed in :data:`BUILTIN_MODULES`; each ends with a
``CHECKS`` tuple of :class:`~bench.checks.base.CheckSpec`. Third-party packages add
modules through the ``bench.checks`` entry-point group (``name = "package.module"``).
Modules are imported when the registry is first asked, never as a side effect of
importing :mod:`bench`.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from bench.checks.base import CheckSpec
from bench.errors import PlanError

_LOG = logging.getLogger(__name__)

BUILTIN_MODULES: tuple[str, ...] = (
    "bench.checks.unit",
    "bench.checks.power",
    "bench.checks.comms",
    "bench.checks.card",
    "bench.checks.printer",
    "bench.checks.keypad",
    "bench.checks.display",
    "bench.checks.msr",
)

_registry: dict[str, CheckSpec] | None = None


def _load_module(module_name: str, registry: dict[str, CheckSpec]) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            _LOG.debug("check module %s not present", module_name)
            return
        raise
    for spec in getattr(module, "CHECKS", ()):
        if spec.name in registry:
            _LOG.warning("check %s from %s shadows an earlier one", spec.name, module_name)
        registry[spec.name] = spec


def registry() -> dict[str, CheckSpec]:
    """All known checks by name (built-in, then entry points)."""
    global _registry
    if _registry is None:
        found: dict[str, CheckSpec] = {}
        for name in BUILTIN_MODULES:
            _load_module(name, found)
        for ep in entry_points(group="bench.checks"):
            _load_module(ep.value, found)
        _registry = found
    return _registry


def get(name: str) -> CheckSpec:
    """The check called ``name``; a :class:`PlanError` naming close matches when unknown."""
    checks = registry()
    spec = checks.get(name)
    if spec is None:
        import difflib

        close = difflib.get_close_matches(name, checks, n=3, cutoff=0.8)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known checks: {', '.join(sorted(checks))}"
        raise PlanError(f"unknown check {name!r}{hint}")
    return spec
