"""The simulated unit's test sales (docs/protocol.md §5a): one sale at a time, on a worker thread.

:class:`TxnEngine` is what TXN_START, TXN_STATUS, PRINTER_STATUS and BATTERY see. A sale runs on
its own thread so the link keeps being served: amount typed on the keypad model (``dead_keys``,
``stuck_keys``), card read (:mod:`.unitcardread`), ISO 8583 with the host and the reversal
(:mod:`.unitpay`), receipt (:mod:`.unitreceipt`). The worker only queues its ``txn_stage`` and
``txn_result`` events; the link session takes them with :meth:`TxnEngine.due_events` from its
poll and sends them, and ``notify`` (set by the pty process) wakes its serve loop at once.

A reboot (:meth:`TxnEngine.reboot`) ends a running sale without a result and forgets every
result: TXN_STATUS of an older id then answers ``unknown``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any

from drivers.codecs.pan import mask_pan
from drivers.sim.unitcardread import CardData, CardReadError, ReaderModel, known_card
from drivers.sim.unitpay import HostLink, Stans, parse_host, terminal_id
from drivers.sim.unitreceipt import ReceiptPrinter, receipt_lines
from drivers.txnproto import (
    FLAG_PRINTED,
    FLAG_REVERSAL_ACKED,
    FLAG_REVERSAL_SENT,
    TxnRequest,
    TxnResult,
    TxnStage,
    UnitPrinterState,
)

_LOG = logging.getLogger(__name__)

RESULTS_KEPT = 256  # results TXN_STATUS can still answer (the oldest are forgotten first)
MAX_AMOUNT_DIGITS = 9


class TxnRefused(Exception):
    """TXN_START refused: ``code`` is the link ERROR code (0x02 bad request, 0x03 busy)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


def key_amount(amount: int, keys: list[str], dead: list[str], stuck: list[str]) -> int | None:
    """The amount the keypad enters for ``amount`` then ENTER; None when it cannot.

    A dead or missing key the amount needs (or ENTER) makes entry impossible. A stuck digit key
    is read once more as ENTER is pressed: the amount carries an extra digit at its end.
    """
    needed = [*str(amount), "ENTER"]
    if any(key in dead or key not in keys for key in needed):
        return None
    digits = str(amount) + "".join(k for k in stuck if k.isdigit() and k in keys)[:1]
    if len(digits) > MAX_AMOUNT_DIGITS:
        return None
    return int(digits)


class _Sale:
    def __init__(self, request: TxnRequest, generation: int) -> None:
        self.request = request
        self.generation = generation
        self.stage = ""  # the stage announced last (what the unit is doing, for the bench's supply)
        self.started = time.monotonic()
        self.cancel = threading.Event()

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


class TxnEngine:
    """Test sales of one simulated unit, from its validated profile (``txn``, ``faults``, ``battery``)."""

    def __init__(self, profile: Mapping[str, Any], now: float | None = None) -> None:
        self.profile = profile
        self.spec: Mapping[str, Any] = profile["txn"]
        self.faults: Mapping[str, Any] = profile["faults"]
        self._t0 = time.monotonic() if now is None else now
        self._lock = threading.Lock()
        self._events: deque[tuple[str, dict[str, Any]]] = deque()
        self._results: OrderedDict[int, TxnResult] = OrderedDict()
        self._running: _Sale | None = None
        self._generation = 0
        self.notify: Callable[[], None] | None = None
        self.printer = ReceiptPrinter(self.spec["printer"], time.monotonic())
        self.reader = ReaderModel(self.faults)
        self.terminal = terminal_id(str(profile["serial"]))
        self._stans = Stans()
        self._unsent: list[dict[str, str]] = []
        self._host = self._new_host()
        self.battery_percent = float(profile["battery"]["charge_percent"])
        self.sales = 0

    # ------------------------------------------------------------------ what the link session calls

    @property
    def busy(self) -> bool:
        """True while a sale runs."""
        return self._running is not None

    @property
    def stage(self) -> str | None:
        """The running sale's stage (``card``, ``print``...), None without one."""
        running = self._running
        return None if running is None else running.stage

    def start(self, request: TxnRequest) -> None:
        """Start a sale (TXN_START); raises TxnRefused when the unit cannot."""
        if request.txn_id == 0 or not 1 <= request.amount <= 999_999_999:
            raise TxnRefused(0x02, "txn id must be 1..2^32-1 and the amount 1..999999999")
        if not (len(request.currency) == 3 and request.currency.isascii() and request.currency.isdigit()):
            raise TxnRefused(0x02, f"currency must be 3 digits (ISO 4217), not {request.currency!r}")
        if not known_card(request.card):
            raise TxnRefused(0x02, f"unknown card {request.card!r}")
        if not request.host:
            request = dataclasses.replace(request, host=str(self.spec["host"]))
        try:
            parse_host(request.host)
        except ValueError as exc:
            raise TxnRefused(0x02, str(exc) if request.host else "no host in TXN_START and none set") from exc
        with self._lock:
            if self._running is not None:
                raise TxnRefused(0x03, f"sale {self._running.request.txn_id} is running")
            sale = self._running = _Sale(request, self._generation)
            self._results.pop(request.txn_id, None)
            host = self._host
        threading.Thread(target=self._run, args=(sale, host), name=f"sale-{request.txn_id}", daemon=True).start()

    def status(self, txn_id: int) -> TxnResult:
        """TXN_STATUS: the result, ``running`` or ``unknown``."""
        with self._lock:
            if self._running is not None and self._running.request.txn_id == txn_id:
                return TxnResult(txn_id, "running")
            return self._results.get(txn_id) or TxnResult(txn_id, "unknown")

    def printer_state(self) -> UnitPrinterState:
        """PRINTER_STATUS."""
        with self._lock:
            return self.printer.state(time.monotonic())

    def battery(self) -> tuple[float, int]:
        """(volts, charge %) now: each sale on battery drains it a little, and the voltage follows."""
        b = self.profile["battery"]
        with self._lock:
            percent = self.battery_percent
        volts = float(b["voltage"]) - (float(b["charge_percent"]) - percent) * 0.012
        return max(0.0, volts), max(0, min(100, round(percent)))

    def due_events(self) -> list[tuple[str, dict[str, Any]]]:
        """The events the sale queued since the last call, oldest first."""
        with self._lock:
            out = list(self._events)
            self._events.clear()
        return out

    def next_time(self) -> float | None:
        """When the link session should poll: now when events wait; soon while a sale runs and nobody notifies."""
        with self._lock:
            if self._events:
                return 0.0
            if self._running is not None and self.notify is None:
                return time.monotonic() + 0.005
        return None

    def reboot(self) -> None:
        """The unit resets: a running sale ends without a result and every result is forgotten."""
        with self._lock:
            self._generation += 1
            if self._running is not None:
                self._running.cancel.set()
                self._running = None
            self._results.clear()
            self._events.clear()
            old, self._host = self._host, self._new_host()
        old.close()

    def _new_host(self) -> HostLink:
        return HostLink(self.terminal, str(self.spec["merchant_id"]), self._stans, self._unsent)

    def network_up(self, now: float | None = None) -> bool:
        """The unit's network: some interface has a link, and the ``network_flap`` fault has it up now."""
        if self.profile["comms"] and not any(iface["link"] for iface in self.profile["comms"].values()):
            return False
        flap = self.faults["network_flap"]
        if flap is None:
            return True
        now = time.monotonic() if now is None else now
        period = float(flap["up_s"]) + float(flap["down_s"])
        return (now - self._t0) % period < float(flap["up_s"])

    # ------------------------------------------------------------------ the sale (worker thread)

    def _emit(self, sale: _Sale, kind: str, data: dict[str, Any]) -> bool:
        with self._lock:
            if sale.generation != self._generation:
                return False
            self._events.append((kind, data))
        notify = self.notify
        if notify is not None:
            notify()
        return True

    def _stage(self, sale: _Sale, stage: str, delay_ms: int = 0) -> bool:
        """Announce ``stage`` and spend its delay; False when the sale was cancelled meanwhile."""
        sale.stage = stage
        if not self._emit(sale, "txn_stage", {"stage": TxnStage(sale.request.txn_id, stage, sale.elapsed_ms())}):
            return False
        return not (delay_ms and sale.cancel.wait(delay_ms / 1000.0))

    def _run(self, sale: _Sale, host: HostLink) -> None:
        try:
            result = self._sale(sale, host)
        except Exception:  # a bug in the simulator must not kill the unit: the sale fails
            _LOG.exception("sale %d failed inside the simulator", sale.request.txn_id)
            result = TxnResult(sale.request.txn_id, "failed", cause="cancelled")
        with self._lock:
            if sale.generation != self._generation:
                return
            self._running = None
            self._results[result.txn_id] = result
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
            if not self.profile["battery"]["charging"]:
                self.battery_percent = max(0.0, self.battery_percent - float(self.spec["battery_drain"]))
            self.sales += 1
        self._stage(sale, "done")
        self._emit(sale, "txn_result", {"result": result})

    def _sale(self, sale: _Sale, host: HostLink) -> TxnResult:
        req, spec = sale.request, self.spec
        stages: dict[str, int] = {}
        mark = time.monotonic()

        def lap(name: str) -> None:
            nonlocal mark
            now = time.monotonic()
            stages[name] = round((now - mark) * 1000)
            mark = now

        def ended(outcome: str, cause: str = "", **more: Any) -> TxnResult:
            stages["total"] = sale.elapsed_ms()
            return TxnResult(req.txn_id, outcome, cause=cause, stages_ms=dict(stages), **more)

        if not self._stage(sale, "amount", int(spec["amount_ms"])):
            return ended("failed", "cancelled")
        faults = self.faults
        amount = key_amount(req.amount, list(self.profile["keys"]), faults["dead_keys"], faults["stuck_keys"])
        lap("amount")
        if amount is None:
            return ended("failed", "amount-entry")
        if not self._stage(sale, "card", int(spec["card_ms"])):
            return ended("failed", "cancelled")
        try:
            with self._lock:
                reader = self.reader
            card: CardData = reader.read(req.card)
        except CardReadError as exc:
            lap("card")
            _LOG.info("sale %d: card %s not read: %s", req.txn_id, req.card, exc)
            return ended("failed", "card-read", amount=amount)
        lap("card")
        common: dict[str, Any] = {"masked_pan": mask_pan(card.pan), "aid": card.aid, "interface": card.interface,
                                  "amount": amount}
        if not self._stage(sale, "online"):
            return ended("failed", "cancelled", **common)
        if not self.network_up():
            host.network_lost()
            lap("online")
            return ended("failed", "network", **common)
        online = host.authorise(req.host, card, amount, req.currency, req.online_timeout_ms / 1000.0,
                                on_reversal=lambda: self._stage(sale, "reversal"))
        lap("online")
        if sale.cancel.is_set():
            return ended("failed", "cancelled", **common)
        flags = (FLAG_REVERSAL_SENT if online.reversal_sent else 0) | (FLAG_REVERSAL_ACKED if online.reversal_acked else 0)
        common["stan"] = online.stan
        if online.how != "answered":
            return ended("failed", online.how, flags=flags, **common)
        outcome = "approved" if online.response_code == "00" else "declined"
        lines = receipt_lines(merchant=str(spec["merchant"]), pan=card.pan, aid=card.aid, interface=card.interface,
                              amount=amount, currency=req.currency, outcome=outcome,
                              response_code=online.response_code, approval=online.approval, stan=online.stan,
                              terminal=self.terminal)
        if not self._stage(sale, "print", int(spec["print_ms"])):
            return ended("failed", "cancelled", **common)
        with self._lock:
            cause = self.printer.print_receipt(lines, time.monotonic())
        lap("print")
        if not cause:
            flags |= FLAG_PRINTED
        return ended(outcome, cause, response_code=online.response_code, flags=flags, receipt=lines, **common)
