"""Test sales end to end: ``txn.sale`` runs one sale per card through the unit against the bench host.

Each sale (docs/protocol.md §5a) goes through :meth:`drivers.interfaces.Unit.sale` with the
bench host's URL: amount on the unit's keypad, the card read, the authorisation with the
host, a reversal when the host did not answer, the receipt. The check judges it from both
ends: the unit's result (approved, printed, the amount, its stage times) and what the host
recorded for that STAN (the amount it saw, its findings, a reversal it still waits for).

Card data never reaches this module in clear: the unit's result carries the PAN masked, the
host's exchanges are masked, and both go through :func:`drivers.codecs.pan.redact` again
before they become notes or evidence.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import DeviceError, EquipmentError
from bench.measure import Limit
from drivers.acquirer.device import HostDevice
from drivers.acquirer.records import Exchange
from drivers.codecs.pan import redact, redact_data
from drivers.i18n import N_
from drivers.interfaces import TxnRequest, TxnResult, TxnStage

_LOG = logging.getLogger(__name__)

DEFAULT_CARDS = ["emv-visa-contact", "emv-mastercard-contact", "emv-unionpay-contact", "emv-unionpay-contactless",
                 "msr-unionpay"]
#: The unit's failure causes (drivers.txnproto.CAUSES) and the fault each one is.
CAUSE_FAULTS = {
    "amount-entry": "TXN-AMOUNT",
    "card-read": "TXN-CARD-READ",
    "network": "TXN-NETWORK",
    "host-timeout": "TXN-HOST-TIMEOUT",
    "host-closed": "TXN-HOST-TIMEOUT",
    "host-garbage": "TXN-HOST-TIMEOUT",
    "paper-out": "TXN-PAPER-OUT",
    "printer": "TXN-PRINTER",
    "cancelled": "LINK-REBOOT",
}
#: Causes after which the unit owes the host a reversal.
_REVERSING = ("host-timeout", "host-closed", "host-garbage")
_TID = re.compile(r"\bTID[:\s]+([0-9A-Za-z]{1,8})\b")
_STAGES = ("card_ms", "online_ms", "print_ms", "total_ms")
_SAYS = {
    "TXN-DECLINED": N_("the bench host declined the sale"),
    "TXN-TIMEOUT": N_("the unit gave no result for the sale in time"),
}


@dataclass
class Sale:
    """One card's sale: the unit's result (None: none came) and what the bench host recorded for it."""

    card: str
    result: TxnResult | None
    bench_ms: float
    exchanges: list[Exchange] = field(default_factory=list)
    host_findings: list[str] = field(default_factory=list)  # ISO-... codes for this sale
    reversal_missing: bool = False
    host_amount: int | None = None  # field 4 of its authorisation, as the host saw it
    error: str = ""  # why there is no result
    terminal: str = ""  # field 41 of its authorisation at the host

    @property
    def outcome(self) -> str:
        """``approved``, ``declined 51``, ``failed host-timeout``, ``no result``."""
        r = self.result
        if r is None:
            return "no result"
        if r.outcome == "declined":
            return f"declined {r.response_code}".strip()
        if r.outcome == "approved" and not r.cause:
            return "approved"
        return f"{r.outcome} {r.cause}".strip()

    @property
    def fault(self) -> str | None:
        """The fault of the sale's outcome (None when approved with nothing wrong)."""
        r = self.result
        if r is None:
            return "TXN-TIMEOUT"
        if r.cause:
            return CAUSE_FAULTS.get(r.cause, "UNIT-FAULT")
        if r.outcome == "declined":
            return "TXN-DECLINED"
        return None if r.outcome == "approved" else "TXN-TIMEOUT"

    def evidence(self) -> dict[str, Any]:
        """This sale's part of the step's JSON attachment (masked)."""
        r = self.result
        return {"card": self.card, "outcome": self.outcome, "masked_pan": redact(r.masked_pan) if r else "",
                "stan": r.stan if r else None, "bench_ms": round(self.bench_ms, 1),
                "stages_ms": dict(r.stages_ms) if r else {}, "host_findings": self.host_findings,
                "reversal_missing": self.reversal_missing, "exchanges": [e.to_dict() for e in self.exchanges]}


def run_sale(ctx: StepContext, host: HostDevice, card: str, terminal: str = "") -> Sale:
    """Sell ``card`` once through the unit; the unit's result and the host's record of it."""
    request = TxnRequest(txn_id=secrets.randbelow(2**32 - 1) + 1, amount=int(ctx.params["amount"]),
                         currency=str(ctx.params["currency"]), card=card, host=host.url,
                         online_timeout_ms=round(float(ctx.params["online_timeout"]) * 1000))

    def stage(event: TxnStage) -> None:
        _LOG.debug("%s: stage %s at %d ms", card, event.stage, event.elapsed_ms)

    since = time.time()
    t0 = time.perf_counter()
    try:
        result = ctx.unit.sale(request, ctx.budget(float(ctx.params["sale_timeout"])), stage)
    except DeviceError as exc:
        if exc.fault_code != "TXN-TIMEOUT":
            raise
        return Sale(card, None, (time.perf_counter() - t0) * 1000, error=str(exc))
    sale = Sale(card, result, (time.perf_counter() - t0) * 1000)
    _host_side(sale, host, since, terminal)
    return sale


def _host_side(sale: Sale, host: HostDevice, since: float, terminal: str) -> None:
    """Fill in what the host recorded for the sale's STAN since it started.

    The units of a multi-up station share the host and may use the same STAN at the same time:
    the sale's authorisation is the one from the terminal its receipt names (``TID ...``), else
    from ``terminal`` (the one an earlier sale of this unit used), else with the sale's masked PAN.
    """
    r = sale.result
    if r is None or not r.stan:
        return
    stan = f"{r.stan:06d}"
    recent = [e for e in host.host.exchanges() if e.at >= since - 1.0]
    auths = [e for e in recent if e.direction == "in" and e.mti == "0100" and e.fields.get("11") == stan]
    terminal = receipt_terminal(r.receipt) or terminal
    if len(auths) > 1 and terminal:
        auths = [e for e in auths if e.fields.get("41") == terminal] or auths
    if len(auths) > 1:
        auths = [e for e in auths if _same_pan(e.fields.get("2", "") or e.fields.get("35", ""), r.masked_pan)] or auths
    if not auths:
        return
    auth = auths[-1]
    sale.terminal = terminal = auth.fields.get("41", "")
    reversals = [e for e in recent if e.direction == "in" and e.reverses == stan and e.fields.get("41") == terminal]
    mine = {(auth.connection, stan)} | {(e.connection, e.fields.get("11", "")) for e in reversals}
    sale.exchanges = [e for e in recent if (e.connection, e.fields.get("11", "")) in mine]
    sale.host_findings = sorted({code for e in sale.exchanges for code in e.findings})
    amount = auth.fields.get("4", "")
    sale.host_amount = int(amount) if amount.isdigit() else None
    sale.reversal_missing = any(f.stan == stan and f.terminal == terminal for f in host.host.missing_reversals())


def receipt_terminal(receipt: tuple[str, ...]) -> str:
    for line in receipt:
        found = _TID.search(line)
        if found:
            return found.group(1)
    return ""


def _same_pan(host_pan: str, masked: str) -> bool:
    a, b = [c for c in host_pan if c.isdigit()], [c for c in masked if c.isdigit()]
    return len(a) >= 10 and a[:6] == b[:6] and a[-4:] == b[-4:]


def judge_sale(ctx: StepContext, sale: Sale) -> None:
    """Record the sale's measurements; each problem is a failed measurement naming its fault."""
    card, r, amount = sale.card, sale.result, int(ctx.params["amount"])
    fault = sale.fault
    ctx.measure(f"{card}.outcome", sale.outcome, limit=Limit(equals="approved", fault=fault or "UNIT-FAULT"),
                says=_says(sale))
    ctx.measure(f"{card}.bench_ms", round(sale.bench_ms, 1), unit="ms", limit=ctx.limits.get("bench_ms"),
                judged=fault is None)
    if r is None:
        return
    clean = fault is None
    for name in _STAGES:
        value = r.stages_ms.get(name.removesuffix("_ms"))
        if value is not None:
            ctx.measure(f"{card}.{name}", value, unit="ms", limit=ctx.limits.get(name), judged=clean)
    if r.outcome == "approved" and not r.cause:
        ctx.measure(f"{card}.printed", r.printed, limit=Limit(equals=True, fault="TXN-PRINTER"),
                    says=N_("the sale was approved but no receipt came out"))
    if r.amount or r.outcome == "approved":
        ctx.measure(f"{card}.amount_sent", r.amount, limit=Limit(equals=amount, fault="TXN-AMOUNT"),
                    says=N_("the unit sent {sent} for a sale of {amount} (minor units)", sent=r.amount, amount=amount))
    if sale.host_amount is not None:
        ctx.measure(f"{card}.host_amount", sale.host_amount, limit=Limit(equals=amount, fault="TXN-AMOUNT"),
                    says=N_("the host was asked to authorise {asked} for a sale of {amount}", asked=sale.host_amount,
                       amount=amount))
    answered = r.outcome in ("approved", "declined") or r.cause in _REVERSING
    if answered:
        seen = bool(sale.exchanges)
        ctx.measure(f"{card}.host_saw_sale", seen, limit=Limit(equals=True, fault="TXN-MALFORMED"),
                    says=N_("the bench host has no authorisation with STAN {stan:06d} from this unit", stan=r.stan))
    if sale.exchanges:
        ctx.measure(f"{card}.host_findings", len(sale.host_findings), limit=Limit(max=0, fault="TXN-MALFORMED"),
                    says=N_("the bench host found the sale's messages badly formed: {findings}",
                            findings=", ".join(sale.host_findings)))
    if r.cause in _REVERSING or sale.reversal_missing:
        reversed_ = r.reversal_sent and not sale.reversal_missing
        ctx.measure(f"{card}.reversed", reversed_, limit=Limit(equals=True, fault="TXN-REVERSAL-MISSING"),
                    says=N_("the sale got no valid answer from the host ({cause}) and was never reversed",
                            cause=r.cause or "late"))


def _says(sale: Sale) -> str:
    r = sale.result
    if r is None:
        return N_("{what} ({why})", what=_SAYS["TXN-TIMEOUT"], why=sale.error) if sale.error else _SAYS["TXN-TIMEOUT"]
    if r.outcome == "declined":
        return N_("{what} (response code {code})", what=_SAYS["TXN-DECLINED"], code=r.response_code or "?")
    return N_("the sale ended {outcome}", outcome=sale.outcome)


def note_sale(ctx: StepContext, sale: Sale) -> None:
    """One line for the step's log: the card, its outcome, the masked PAN, the times."""
    r = sale.result
    if r is None:
        ctx.note(f"{sale.card}: no result ({sale.error or 'timed out'})")
        return
    parts = [f"{sale.card}: {sale.outcome}"]
    if r.response_code and r.outcome != "declined":  # a decline's outcome names its code
        parts.append(f"code {r.response_code}")
    if r.masked_pan:
        parts.append(f"PAN {redact(r.masked_pan)}")
    if r.stan:
        parts.append(f"STAN {r.stan:06d}")
    if r.reversal_sent:
        parts.append("reversed" if r.reversal_acked else "reversal sent, not acknowledged")
    parts.append(f"total {r.stages_ms.get('total', 0)} ms, bench {sale.bench_ms:.0f} ms")
    if sale.host_findings:
        parts.append("host findings: " + ", ".join(sale.host_findings))
    ctx.note(", ".join(parts))


def sale_check(ctx: StepContext) -> None:
    """One sale per card in ``cards``: each approved, printed, well formed at the host, in time."""
    host = ctx.device("host", HostDevice)
    cards = ctx.params["cards"]
    if not cards or not all(isinstance(c, str) and c for c in cards):
        raise EquipmentError(N_("txn.sale: params.cards must list the test cards to sell with, by name"),
                             fault_code="BENCH-CONFIG")
    sales: list[Sale] = []
    for card in cards:
        ctx.check_cancelled()
        ctx.progress(len(sales), len(cards), {N_("approved"): sum(s.outcome == "approved" for s in sales)}, card)
        sale = run_sale(ctx, host, card, next((s.terminal for s in sales if s.terminal), ""))
        sales.append(sale)
        note_sale(ctx, sale)
        judge_sale(ctx, sale)
        if sale.result is None:  # the unit is still in that sale: the next would find it busy
            ctx.note(f"not sold, the unit being stuck in the last sale: {', '.join(cards[len(sales):]) or 'none'}")
            break
    ctx.measure("approvals", sum(s.outcome == "approved" for s in sales), judged=False)
    for name in (*_STAGES, "bench_ms"):
        values = [_figure(s, name) for s in sales if s.fault is None]
        if any(v is not None for v in values):
            ctx.measure(name, max(v for v in values if v is not None), unit="ms", judged=False)
    evidence = redact_data({"host": host.url, "sales": [s.evidence() for s in sales]})
    ctx.attach("host-exchanges.json", json.dumps(evidence, indent=1).encode(), "application/json")


def _figure(sale: Sale, name: str) -> float | None:
    if name == "bench_ms":
        return round(sale.bench_ms, 1)
    value = sale.result.stages_ms.get(name.removesuffix("_ms")) if sale.result is not None else None
    return None if value is None else float(value)


def _ms(most: float) -> Limit:
    return Limit(min=0, max=most, unit="ms", fault="TXN-SLOW")


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "txn.sale",
        sale_check,
        N_("test sales: one per card through the unit and the bench host; approved, printed, well formed, in time"),
        devices=("unit", "host"),
        params={
            "cards": Param(list, DEFAULT_CARDS, N_("test cards to sell with, one sale each (card library names)")),
            "amount": Param(int, 1234, N_("the sale's amount in minor units (1234 = 12.34)"), bounds=(1, 999_999_999)),
            "currency": Param(str, "978", N_("ISO 4217 numeric currency code (978 = EUR)")),
            "online_timeout": Param((int, float), 5.0, N_("seconds the unit waits for the host before it reverses"),
                                    bounds=(0.1, 60)),
            "sale_timeout": Param((int, float), 30.0, N_("seconds to wait for each sale's result"), bounds=(0.1, 600)),
        },
        measurements={
            "card_ms": _ms(5000),
            "online_ms": _ms(5000),
            "print_ms": _ms(5000),
            "total_ms": _ms(10000),
            "bench_ms": _ms(12000),
            "approvals": None,
        },
        fault="TXN-DECLINED",
    ),
)
