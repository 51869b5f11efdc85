"""The library of checks, found by name.

Built-in checks live in the modules listed in :data:`BUILTIN_MODULES`; each ends with a
``CHECKS`` tuple of :class:`~bench.checks.base.CheckSpec`, and a built-in check ``X.name``
lives in ``bench.checks.X``. Third-party packages add modules through the ``bench.checks``
entry-point group (``name = "package.module"``).

Modules are imported when asked for, never as a side effect of importing :mod:`bench`:
:func:`get` imports only the built-in module its name points to (a plan loads the modules
of the checks it uses, not all ten), and reads the entry points only for a name no
built-in module has. :func:`registry` (``bench list``) imports everything. A built-in check
keeps its name: a third-party check of the same name is ignored, with a warning.
"""

from __future__ import annotations

import importlib
import logging

from bench.checks.base import CheckSpec
from bench.errors import PlanError
from drivers.i18n import N_

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
    "bench.checks.soak",
    "bench.checks.txn",
    "bench.checks.intake",
)

_registry: dict[str, CheckSpec] | None = None
#: Built-in checks of the modules :func:`get` imported so far, and those modules.
_builtin: dict[str, CheckSpec] = {}
_builtin_loaded: set[str] = set()


def _load_module(module_name: str, registry: dict[str, CheckSpec], keep: frozenset[str] = frozenset()) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            _LOG.debug("check module %s not present", module_name)
            return
        raise
    for spec in getattr(module, "CHECKS", ()):
        if spec.name in keep:
            _LOG.warning("check %s from %s ignored: a built-in check has that name", spec.name, module_name)
            continue
        if spec.name in registry:
            _LOG.warning("check %s from %s shadows an earlier one", spec.name, module_name)
        registry[spec.name] = spec


def _load_builtin(module_name: str) -> None:
    if module_name not in _builtin_loaded:
        _load_module(module_name, _builtin)
        _builtin_loaded.add(module_name)


def registry() -> dict[str, CheckSpec]:
    """All known checks by name (built-in, then entry points); imports every check module."""
    global _registry
    if _registry is None:
        from importlib.metadata import entry_points

        for name in BUILTIN_MODULES:
            _load_builtin(name)
        found = dict(_builtin)
        builtin = frozenset(found)
        for ep in entry_points(group="bench.checks"):
            _load_module(ep.value, found, builtin)
        _registry = found
    return _registry


def _find(name: str) -> CheckSpec | None:
    if _registry is None:
        module_name = f"bench.checks.{name.partition('.')[0]}"
        if module_name in BUILTIN_MODULES:
            _load_builtin(module_name)
            spec = _builtin.get(name)
            if spec is not None:
                return spec
    return registry().get(name)


def get(name: str) -> CheckSpec:
    """The check called ``name``; a :class:`PlanError` naming close matches when unknown."""
    spec = _find(name)
    if spec is None:
        checks = registry()
        import difflib

        close = difflib.get_close_matches(name, checks, n=3, cutoff=0.8)
        if close:
            raise PlanError(N_("unknown check {name!r}; did you mean {close}?", name=name, close=", ".join(close)))
        raise PlanError(N_("unknown check {name!r}; known checks: {known}", name=name, known=", ".join(sorted(checks))))
    return spec
