"""Network checks: the unit's own comms self-test on each interface."""

from __future__ import annotations

from bench.checks.base import CheckSpec, Param, StepContext
from bench.measure import Limit
from drivers.i18n import N_

INTERFACES = ("ethernet", "wifi", "cellular")


def selftest(ctx: StepContext) -> None:
    """Run the unit's comms self-test; no link, weak signal or slow round trip each fail."""
    results = {r.interface: r for r in ctx.unit.comms_test()}
    required = list(ctx.params["interfaces"]) or list(results)
    for name in required:
        r = results.get(name)
        if r is None:
            ctx.measure(f"{name}.link", False, limit=Limit(equals=True, fault="NET-NO-LINK"))
            ctx.note(f"{name}: not reported by the unit")
            continue
        signal = f", signal {r.signal_dbm} dBm" if r.signal_dbm is not None else ""
        rtt = f", round trip {r.rtt_ms:.0f} ms" if r.rtt_ms is not None else ""
        ctx.note(f"{name}: link {'up' if r.link else 'DOWN'}{signal}{rtt}")
        ctx.measure(f"{name}.link", r.link)
        if r.link and r.signal_dbm is not None:
            ctx.measure(f"{name}.signal_dbm", r.signal_dbm, unit="dBm")
        if r.link and r.rtt_ms is not None:
            ctx.measure(f"{name}.rtt_ms", r.rtt_ms, unit="ms")


def _measurements() -> dict[str, Limit | None]:
    out: dict[str, Limit | None] = {}
    for name in INTERFACES:
        out[f"{name}.link"] = Limit(equals=True, fault="NET-NO-LINK")
        out[f"{name}.rtt_ms"] = Limit(max=500, unit="ms", fault="NET-SLOW")
        if name != "ethernet":
            out[f"{name}.signal_dbm"] = Limit(min=-95, unit="dBm", fault="NET-WEAK-SIGNAL")
    return out


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "comms.selftest",
        selftest,
        N_("network self-test per interface: link, signal, round trip"),
        devices=("unit",),
        params={"interfaces": Param(list, [], N_("interfaces that must pass (default: all the unit reports)"))},
        measurements=_measurements(),
        fault="NET-NO-LINK",
    ),
)
