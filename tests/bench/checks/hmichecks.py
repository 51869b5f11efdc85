"""Helpers for the keypad, display and magstripe check tests: run a check, start a simulated unit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import checks
from bench.checks.base import StepContext
from bench.errors import DeviceError
from bench.operator import ScriptedOperator
from drivers.interfaces import Unit


def run_check(name: str, unit: Unit, operator: ScriptedOperator | None = None, *, timeout: float = 30.0,
              **params: Any) -> tuple[StepContext, set[str]]:
    """Run check ``name`` like the runner does; return the context and every fault code it shows."""
    spec = checks.get(name)
    full = {k: p.default for k, p in spec.params.items()}
    full.update(params)
    ctx = StepContext(step=name, spec=spec, params=full, limits=dict(spec.measurements), devices={"unit": unit},
                      operator=operator or ScriptedOperator({"*": True}), deadline=time.monotonic() + timeout)
    faults: set[str] = set()
    try:
        spec.func(ctx)
    except DeviceError as exc:
        faults.add(exc.fault_code or spec.fault)
    faults |= {m.fault or spec.fault for m in ctx.measurements if not m.passed}
    return ctx, faults


@contextmanager
def sim_unit(**unit: Any) -> Iterator[tuple[Unit, dict[str, Callable[..., None]]]]:
    """The simulated unit as its own process on a pty, with the scripted operator's actions."""
    from drivers.sim.bench import SimBench
    from drivers.sim.scenario import parse_devices
    from drivers.unit import open_unit

    with SimBench(parse_devices({"unit": {"base": "good", **unit}}), ("unit",)) as sim:
        client = open_unit(sim.urls["unit"])
        try:
            yield client, dict(sim.actions)
        finally:
            client.close()
