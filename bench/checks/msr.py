"""Magstripe checks: N swipes of a test card, read rate, track format and LRC.

Track data never reaches this module: the unit driver checks each swipe when it arrives
and hands over an :class:`~drivers.interfaces.MsrSwipe` (verdicts and the masked PAN).
Measurements and notes carry only those.
"""

from __future__ import annotations

import contextlib
import logging
import time

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import BenchError
from bench.measure import Limit
from drivers.codecs import msr
from drivers.i18n import N_, join_texts
from drivers.interfaces import MsrSwipe, Unit

_LOG = logging.getLogger(__name__)


def _wait_swipe(unit: Unit, timeout: float) -> MsrSwipe | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = unit.next_event(min(0.2, left))
        if event is None:
            continue
        if event.kind == "card_swipe":
            swipe = event.data.get("swipe")
            if isinstance(swipe, MsrSwipe):
                return swipe
            return MsrSwipe(unit_ok=False)
        _LOG.debug("ignoring %s event while waiting for a swipe", event.kind)
    return None


def swipe(ctx: StepContext) -> None:
    """Swipe the test card N times; judge the read rate, the track format and the LRC."""
    unit = ctx.unit
    count = int(ctx.params["swipes"])
    card = str(ctx.params["card"])
    need = [int(t) for t in ctx.params["tracks"]]
    heads = unit.msr_enable(True)
    reads = lrc_errors = format_errors = 0
    pans: list[str] = []
    try:
        lacking = [t for t in need if t not in heads]
        if lacking:
            if heads:
                ctx.fail(N_("the unit's head reads track(s) {heads}; the plan needs track(s) {lacking}",
                            heads=", ".join(map(str, heads)), lacking=", ".join(map(str, lacking))), "MSR-NO-READ")
            ctx.fail(N_("the unit's head reads no track; the plan needs track(s) {lacking}",
                        lacking=", ".join(map(str, lacking))), "MSR-NO-READ")
        for i in range(1, count + 1):
            ctx.check_cancelled()
            ctx.operator.perform("swipe_card", N_("Swipe the magstripe test card ({i} of {count})", i=i, count=count),
                                 card=card)
            wait = min(float(ctx.params["swipe_timeout"]), max(0.0, ctx.remaining() - 1.0))
            got = _wait_swipe(unit, wait)
            if got is None:
                ctx.note(f"swipe {i}: no read (nothing from the reader within {wait:g} s)")
                continue
            tracks = [got.track(t) for t in need]
            if not all(t is not None and t.present for t in tracks):
                ctx.note(f"swipe {i}: no read ({msr.describe(got)})")
                continue
            reads += 1
            bad_lrc = any(t is not None and not t.lrc_ok for t in tracks)
            bad_format = any(t is not None and not t.format_ok for t in tracks) or not got.pans_agree
            lrc_errors += bad_lrc
            format_errors += bad_format
            if got.masked_pan and not bad_format:
                pans.append(got.masked_pan)
            ctx.note(f"swipe {i}: {msr.describe(got)}")
    finally:
        with contextlib.suppress(BenchError):
            unit.msr_enable(False)
    min_rate = float(ctx.params["min_success_rate"])
    ctx.measure("swipes", count)
    ctx.measure("reads", reads)
    rate = ctx.measure("read_rate", round(reads / count, 3) if count else 0.0,
                       limit=Limit(min=min_rate, fault="MSR-NO-READ"))
    lrc_m = ctx.measure("lrc_errors", lrc_errors)
    fmt_m = ctx.measure("format_errors", format_errors)
    if pans:
        ctx.measure("pan", pans[0])  # masked: first six, last four
        if len(set(pans)) > 1:
            ctx.note(f"swipes gave different PANs: {', '.join(sorted(set(pans)))}")
    problems: list[tuple[str, str]] = []
    if not lrc_m.passed or not fmt_m.passed:
        problems.append(("MSR-BAD-LRC", N_("{lrc} LRC and {format} format error(s) in {reads} read(s)", lrc=lrc_errors,
                                           format=format_errors, reads=reads)))
    if not rate.passed:
        problems.append(("MSR-NO-READ", N_("read {reads} of {count} swipes (at least {min_rate:.0%} needed)",
                                           reads=reads, count=count, min_rate=min_rate)))
    if problems:
        ctx.fail(join_texts([text for _, text in problems], separator=";"), problems[0][0])


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "msr.swipe",
        swipe,
        N_("magstripe: N swipes of a test card; read rate, ISO 7813 track format and LRC (PAN masked)"),
        devices=("unit",),
        params={
            "swipes": Param(int, 5, N_("how many times the operator swipes the card"), bounds=(1, 1000)),
            "min_success_rate": Param((int, float), 0.8, N_("fraction of swipes that must read"), bounds=(0, 1)),
            "card": Param(str, "msr-test", N_("the magstripe test card to swipe")),
            "tracks": Param(list, [1, 2], N_("tracks that must be read on every swipe")),
            "swipe_timeout": Param((int, float), 20.0, N_("seconds to wait for each swipe")),
        },
        measurements={
            "swipes": None,
            "reads": None,
            "read_rate": None,
            "lrc_errors": Limit(max=0, fault="MSR-BAD-LRC"),
            "format_errors": Limit(max=0, fault="MSR-BAD-LRC"),
            "pan": None,
        },
        fault="MSR-NO-READ",
    ),
)
