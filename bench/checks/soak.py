"""The busy-hour soak as a check: seeded sales on the unit at the profile's rate, measured and judged.

``soak.sales`` reads a soak profile (:mod:`bench.soak.profile`), draws its arrivals
(:mod:`bench.soak.schedule`) and sends each as a test sale (``Unit.sale``) to the bench host at
its time, soak time running ``time_scale`` times faster on the simulated bench. One unit runs one
sale at a time, as at a till: when sales come faster than the unit serves them they queue, and the
lag shows. A unit that resets mid-soak (watchdog) is reconnected and the soak goes on, counting it;
a unit that does not come back ends the step. Every minute of soak time the unit's printer head
temperature and battery are sampled for the drift. The outcome (counts, latency percentiles per
stage, drift) becomes the step's measurements, judged against the profile's limits, and the summary
is attached as JSON for the report's charts (:mod:`bench.reports.soakchart`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bench.checks.base import CheckSpec, Param, StepContext
from bench.checks.txn import CAUSE_FAULTS as SALE_CAUSE_FAULTS
from bench.checks.txn import _same_pan, receipt_terminal
from bench.errors import BenchError, DeviceError, EquipmentError, PlanError
from bench.measure import Limit
from bench.soak.judge import FAULT_FAILURES
from bench.soak.profile import SoakProfile, load_profile
from bench.soak.record import SUMMARY_ATTACHMENT, SUMMARY_MIME, encode_summary
from bench.soak.schedule import Arrival, iter_arrivals
from bench.soak.stats import SoakTally
from drivers.i18n import N_
from drivers.interfaces import TxnRequest, TxnResult, Unit

_LOG = logging.getLogger(__name__)

RECONNECT_WAIT = 30.0  # seconds a reset unit has to answer HELLO again before the soak gives up
SAMPLE_EVERY = 60.0  # soak seconds between samples of the drift values
PROGRESS_EVERY = 0.25  # wall seconds between progress reports
MARGIN = 2.0  # seconds kept before the step's deadline to measure and judge


def soak(ctx: StepContext) -> None:
    """Run the profile's sales on the unit; judge counts, latencies and drift against its limits."""
    profile = load_profile(profile_path(str(ctx.params["profile"])))
    scale = float(ctx.params["time_scale"])
    unit = ctx.unit
    host = ctx.devices.get("host")
    host_url = str(getattr(host, "url", ""))
    if not host_url:
        raise EquipmentError(N_("this station has no bench host configured (role host)"), fault_code="BENCH-CONFIG")
    # Counted in one pass, drawn again as the soak goes: a 24-hour profile has up to a million arrivals
    # (150 MB as a list); the draw is seeded, so both passes give the same arrivals.
    planned = sum(1 for _ in iter_arrivals(profile))
    run = _Soak(ctx, unit, profile, scale, host_url, planned, host)
    run.sample(0.0)
    run.report_progress(force=True)
    try:
        for arrival in iter_arrivals(profile):
            if not run.wait_for(arrival):
                break
            run.sale(arrival)
    except DeviceError as exc:  # the unit ended the soak (gone after a reset, busy...): keep what it measured
        run.finish(stopped=exc)
        raise
    run.finish()


class _Soak:
    """One soak in progress on one unit."""

    def __init__(self, ctx: StepContext, unit: Unit, profile: SoakProfile, scale: float, host_url: str,
                 planned: int, host: Any = None) -> None:
        self.ctx, self.unit, self.profile, self.scale, self.host_url = ctx, unit, profile, scale, host_url
        self.planned = planned
        self.tally = SoakTally(seed=profile.seed)
        self.t0 = time.monotonic()
        self.next_id = 1
        self.done = 0
        self.reboots = 0
        self.max_lag_s = 0.0
        self.cut_short = ""
        self.failed_cards: dict[str, int] = {}  # failed sales by the card they were paid with
        self.terminal = ""  # the unit's terminal id at the host (field 41), from its receipts
        self._probes: list[tuple[str, str]] = []  # (STAN, masked PAN) of sales without a receipt naming it
        self.host = host
        self._next_sample = SAMPLE_EVERY
        self._progress_at = 0.0
        self.online_timeout_ms = round(profile.online_timeout_s * 1000)
        # A sale's own bound: amount entry, card read, the online wait and a reversal's, and printing.
        self.sale_timeout = 2 * profile.online_timeout_s + 20.0

    # -- time
    def soak_now(self) -> float:
        """Soak seconds since the start (wall seconds times the scale)."""
        return (time.monotonic() - self.t0) * self.scale

    def wait_for(self, arrival: Arrival) -> bool:
        """Sleep until ``arrival`` is due; False when the step must stop (its deadline is near)."""
        due = self.t0 + arrival.at_s / self.scale
        while True:
            self.ctx.check_cancelled()
            now = time.monotonic()
            if self.ctx.deadline - now < MARGIN + self.sale_timeout * 0.1:
                self.cut_short = N_("the step's time ran out after {done} of {planned} sales ({minutes:.1f} min of "
                                    "soak time)", done=self.done, planned=self.planned, minutes=self.soak_now() / 60)
                return False
            if now >= due:
                self.max_lag_s = max(self.max_lag_s, (now - due) * self.scale)
                return True
            self.ctx.cancel.wait(min(due - now, 0.2))
            self._maybe_sample()

    # -- one sale
    def sale(self, arrival: Arrival) -> None:
        """Send one sale, tally it, sample drift values when due, report progress."""
        txn_id = self.next_id
        self.next_id += 1
        request = TxnRequest(txn_id, arrival.amount, arrival.currency, arrival.card, self.host_url,
                             self.online_timeout_ms)
        at = self.soak_now()
        t = time.perf_counter()
        result: TxnResult | None = None
        cause = ""
        try:
            result = self.unit.sale(request, timeout=min(self.sale_timeout, max(1.0, self.ctx.remaining() - MARGIN)))
        except DeviceError as exc:
            cause = self._after_error(exc, txn_id)
        wall_ms = (time.perf_counter() - t) * 1000
        if result is None:
            self.tally.add(at, "failed", cause, {"total_ms": wall_ms})
        elif result.outcome != "failed" and (result.cause or result.amount != arrival.amount):
            # Approved or declined, yet not a good sale: no receipt (paper out), or another amount than keyed.
            self.tally.add(at, "failed", result.cause or "amount-entry", reversal_sent=result.reversal_sent,
                           reversal_acked=result.reversal_acked)
        else:
            self.tally.add_result(at, result, max(0.0, wall_ms - float(result.stages_ms.get("total", 0))))
        if result is None or result.outcome == "failed" or result.cause or result.amount != arrival.amount:
            self.failed_cards[arrival.card] = self.failed_cards.get(arrival.card, 0) + 1
        if result is not None and not self.terminal:
            self.terminal = receipt_terminal(result.receipt)
            if result.stan and len(self._probes) < PROBES_KEPT:
                self._probes.append((f"{result.stan:06d}", result.masked_pan))
        self.done += 1
        self._maybe_sample()
        self.report_progress()

    def _after_error(self, exc: DeviceError, txn_id: int) -> str:
        """A sale that ended in an error: reconnect a unit that reset; the failure's cause."""
        if exc.fault_code == "LINK-REBOOT":
            self._unit_reset("a sale")
            self._settle(txn_id)
            return "unit-reset"
        if exc.fault_code == "TXN-TIMEOUT":
            self._settle(txn_id)  # the unit may still be in that sale: the next TXN_START would find it busy
            return "unit-timeout"
        if exc.fault_code in ("LINK-NO-RESPONSE", "LINK-GARBAGE", "LINK-NAK-STORM"):
            self.tally.reconnect(self.soak_now())
            self._reconnect()
            return "unit-link"
        raise exc

    def _unit_reset(self, during: str) -> None:
        self.reboots += 1
        self.tally.reboot(self.soak_now())
        self.ctx.note(f"the unit reset during {during} at {self.soak_now() / 60:.1f} min of soak time; reconnecting")
        self._reconnect()

    def _settle(self, txn_id: int) -> None:
        """After a reset: a sale the unit began after its boot (a TXN_START sent again) runs to its end first."""
        deadline = time.monotonic() + min(self.sale_timeout, max(0.0, self.ctx.remaining() - MARGIN))
        while time.monotonic() < deadline:
            self.ctx.check_cancelled()
            try:
                if self.unit.txn_status(txn_id).outcome != "running":
                    return
            except DeviceError as exc:
                if exc.fault_code == "LINK-REBOOT":
                    self._unit_reset("a status query")
                    continue
                _LOG.debug("TXN_STATUS after a reset: %s", exc)
            self.ctx.cancel.wait(0.05)

    def _reconnect(self) -> None:
        """Wait (bounded) for the unit to answer HELLO again; a unit that does not come back ends the step."""
        deadline = time.monotonic() + min(RECONNECT_WAIT, max(0.0, self.ctx.remaining() - MARGIN))
        last: BenchError | None = None
        while time.monotonic() < deadline:
            self.ctx.check_cancelled()
            try:
                self.unit.identify()
                return
            except BenchError as exc:  # still booting: it ignores the line until it is up
                last = exc
                self.ctx.cancel.wait(0.2)
        raise DeviceError(N_("the unit did not answer again within {seconds:.0f} s after it reset mid-soak",
                             seconds=RECONNECT_WAIT),
                          fault_code="LINK-REBOOT", detail=str(last) if last else None)

    # -- drift samples and progress
    def _maybe_sample(self) -> None:
        now = self.soak_now()
        if now >= self._next_sample:
            self._next_sample = (now // SAMPLE_EVERY + 1) * SAMPLE_EVERY
            self.sample(now)

    def sample(self, at: float) -> None:
        """Record the unit's printer head temperature and battery charge (what it can tell)."""
        values: dict[str, float] = {}
        for name, read in _SAMPLERS.items():
            try:
                values[name] = read(self.unit)
            except DeviceError as exc:  # a unit without a printer or a battery: nothing to sample
                if exc.fault_code == "LINK-REBOOT":  # it reset between two sales: the soak goes on
                    self._unit_reset("a reading")
                    continue
                _LOG.debug("no %s sample: %s", name, exc)
        if values:
            self.tally.sample(at, **values)

    def report_progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._progress_at < PROGRESS_EVERY:
            return
        self._progress_at = now
        counts = self.tally.counts()
        self.ctx.progress(self.done, self.planned, {
            N_("approved"): counts.get("approved", 0), N_("declined"): counts.get("declined", 0),
            N_("failed"): counts.get("failed", 0), N_("resets"): self.reboots,
        }, N_("soak {done:.1f}/{total:.0f} min", done=self.soak_now() / 60, total=self.profile.duration_s / 60))

    # -- the end
    def finish(self, stopped: DeviceError | None = None) -> None:
        """Measure, judge against the profile's limits, attach the summary (``stopped``: the error that
        ended the soak early; the caller raises it after this)."""
        self.report_progress(force=True)
        ctx = self.ctx
        if stopped is None:
            self.sample(self.soak_now())
        else:
            ctx.note(f"the soak stopped after {self.done} of {self.planned} sales: {stopped}")
        summary = self.tally.summary()
        summary.update(unit_resets=self.reboots, max_lag_s=round(self.max_lag_s, 3), planned=self.planned,
                       time_scale=self.scale, profile=self.profile.to_dict(),
                       failures_by_card=dict(sorted(self.failed_cards.items(), key=lambda kv: -kv[1])))
        if self.failed_cards:
            ctx.note("failed sales by card: " + _causes_text(self.failed_cards))
        ctx.attach(SUMMARY_ATTACHMENT, encode_summary(summary), SUMMARY_MIME)
        ctx.measure("planned", self.planned, judged=False)
        ctx.measure("transactions", self.done, judged=False)
        ctx.measure("reversals", summary["reversals"]["sent"], judged=False)
        ctx.measure("unit_resets", self.reboots, judged=False)
        ctx.measure("max_lag_s", round(self.max_lag_s, 3), unit="s", judged=False)
        for name in ("p50", "p95", "p99"):
            ctx.measure(f"bench_ms.{name}", summary["latency_ms"]["bench_ms"][name], unit="ms", judged=False)
        causes: dict[str, int] = summary["failures_by_cause"]
        limits = self.profile.limits
        if limits.failures_max is None:  # every sale is judged: a failed sale fails the soak unless the profile allows it
            limits = replace(limits, failures_max=0)
        for m in self.tally.judge(limits):
            if not m.passed and m.fault == FAULT_FAILURES and causes:
                # The most common cause says what to repair; "failures" alone does not.
                top = max(causes, key=lambda c: causes[c])
                m = replace(m, fault=CAUSE_FAULTS.get(top, FAULT_FAILURES),
                            message=N_("{message} ({causes})", message=m.message, causes=_causes_text(causes)))
            ctx.measurements.append(m)
        self._host_side()
        if stopped is not None:
            return
        if not self.planned:
            ctx.fail(N_("the profile's seed {seed} drew no sale: nothing was tested (raise the rate or change the "
                        "seed)", seed=self.profile.seed), "SOAK-INCOMPLETE")
        if self.cut_short:
            ctx.fail(self.cut_short, "SOAK-INCOMPLETE")

    def _host_side(self) -> None:
        """What the bench host saw of this unit: malformed messages, reversals owed; its last exchanges attached."""
        acquirer = getattr(self.host, "host", None)
        if acquirer is not None and not self.terminal:
            self.terminal = self._terminal_at_host(acquirer.exchanges())
        if acquirer is None or not self.terminal:
            self.ctx.note("no host-side figures: the bench host is not this bench's own, or no receipt named "
                          "the unit's terminal")
            return
        mine = [e for e in acquirer.exchanges() if e.fields.get("41") == self.terminal]
        bad = [e for e in mine if e.direction == "in" and e.findings]
        codes = sorted({code for e in bad for code in e.findings})
        missing = [f for f in acquirer.missing_reversals() if f.terminal == self.terminal]
        self.ctx.measure("host_messages", sum(e.direction == "in" for e in mine), judged=False)
        self.ctx.measure("host_findings", len(bad), limit=Limit(max=0, fault="TXN-MALFORMED"),
                         says=N_("the bench host found {count} badly formed message(s): {findings}", count=len(bad),
                                 findings=", ".join(codes)) if bad else None)
        self.ctx.measure("reversals_missing", len(missing), limit=Limit(max=0, fault="TXN-REVERSAL-MISSING"),
                         says=N_("{count} timed-out sale(s) never reversed", count=len(missing)) if missing else None)
        if not acquirer.dropped:  # every exchange kept: the host's approvals can be counted
            # As txn.sale's host_saw_sale: an approval the host never gave (a unit approving offline) is no sale.
            approved = self.tally.counts()["approved"]
            given = sum(e.direction == "out" and e.mti == "0110" and e.fields.get("39") == "00" for e in mine)
            unseen = max(0, approved - given)
            self.ctx.measure("approvals_not_at_host", unseen, limit=Limit(max=0, fault="TXN-MALFORMED"),
                             says=N_("the unit reported {approved} approved sale(s); the bench host approved {given}",
                                     approved=approved, given=given) if unseen else None)
        evidence = [e.to_dict() for e in mine[-EVIDENCE_KEPT:]]
        self.ctx.attach("host-exchanges.json", json.dumps(evidence, indent=1).encode(), "application/json")


    def _terminal_at_host(self, exchanges: list[Any]) -> str:
        """No receipt named the unit's terminal (no sale got that far): the one terminal whose
        authorisations carry the STANs and cards of this unit's sales; "" when none or several do."""
        wanted = {stan for stan, _ in self._probes}
        by_stan: dict[str, list[Any]] = {}  # one pass over the (up to 200 000) exchanges
        for e in exchanges:
            if e.direction == "in" and e.mti == "0100" and e.fields.get("11") in wanted:
                by_stan.setdefault(e.fields["11"], []).append(e)
        candidates: set[str] | None = None
        for stan, masked in self._probes:
            found = {e.fields.get("41", "") for e in by_stan.get(stan, ())
                     if _same_pan(e.fields.get("2", "") or e.fields.get("35", ""), masked)}
            candidates = found if candidates is None else candidates & found
        return next(iter(candidates)) if candidates and len(candidates) == 1 else ""


#: The fault that names what to repair, by the failure cause a unit (or the soak itself) reports.
CAUSE_FAULTS = {**SALE_CAUSE_FAULTS, "unit-reset": "LINK-REBOOT", "unit-timeout": "TXN-TIMEOUT",
                "unit-link": "LINK-NO-RESPONSE"}
EVIDENCE_KEPT = 200  # host exchanges of the unit attached to the step (the last ones)
PROBES_KEPT = 20  # sales without a receipt whose STAN and card find the unit's terminal at the host


def _causes_text(causes: dict[str, int]) -> str:
    return ", ".join(f"{n} {c}" for c, n in sorted(causes.items(), key=lambda kv: -kv[1])[:4])


def profile_path(ref: str) -> str:
    """The profile file ``ref`` means (a path, or a name looked up in ``testplans/soak/``)."""
    from bench.soak.find import find_profile

    found = find_profile(ref)
    if found is None:
        raise PlanError(N_("no soak profile named {ref!r} (a file, or a name in testplans/soak/)", ref=ref))
    return str(found)


def _check_profile(ref: object) -> None:
    """At plan load: the profile exists and is valid (a mistake is the plan's, exit 2, not the run's)."""
    load_profile(profile_path(str(ref)))


def _head_temp(unit: Unit) -> float:
    return unit.printer_status().head_temp_c


def _battery(unit: Unit) -> float:
    return float(unit.battery().charge_percent)


_SAMPLERS: dict[str, Callable[[Unit], float]] = {"head_temp_c": _head_temp, "battery_percent": _battery}


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "soak.sales",
        soak,
        N_("busy-hour soak: seeded sales at the profile's rate; counts, latency percentiles and drift against its "
           "limits"),
        devices=("unit", "host"),
        params={
            "profile": Param(str, help=N_("the soak profile: a file, or a name in testplans/soak/ (demo, busy-hour)"),
                             validate=_check_profile),
            "time_scale": Param((int, float), 1, N_("soak time runs this many times faster (simulated bench only)"),
                                bounds=(1, 3600)),
        },
        measurements={},
        fault="SOAK-FAILED",
    ),
)
