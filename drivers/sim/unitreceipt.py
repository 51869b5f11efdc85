"""The simulated unit's own receipt printer: a paper roll, a thermal head that warms, and the slip's lines.

Each receipt uses ``receipt_mm`` of the roll (``paper_mm`` long); when what is left is shorter
than a receipt the printer reports paper out and prints nothing. Each receipt raises the head
temperature by ``rise_c``; it cools back towards ``ambient_c`` exponentially (time constant
``cool_s``); at ``hot_c`` or more the printer refuses to print (cause ``printer``). Settings come
from the profile's ``txn.printer``. Not thread-safe: the sale engine holds its lock around it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from drivers.codecs.pan import mask_pan, redact
from drivers.txnproto import UnitPrinterState

#: ISO 4217 numeric -> alphabetic, for the slip (others print their number).
CURRENCIES = {"978": ("EUR", 2), "840": ("USD", 2), "826": ("GBP", 2), "156": ("CNY", 2), "392": ("JPY", 0),
              "756": ("CHF", 2)}


class ReceiptPrinter:
    """The printer's state; ``now`` is the unit's monotonic clock in seconds."""

    def __init__(self, spec: Mapping[str, Any], now: float) -> None:
        self.spec = spec
        self.paper_left_mm = int(spec["paper_mm"])
        self.receipts = 0
        self._temp = float(spec["ambient_c"])
        self._at = now

    def head_temp(self, now: float) -> float:
        """The head's temperature at ``now`` (°C)."""
        ambient = float(self.spec["ambient_c"])
        dt = max(0.0, now - self._at)
        return ambient + (self._temp - ambient) * math.exp(-dt / float(self.spec["cool_s"]))

    def print_receipt(self, lines: tuple[str, ...], now: float) -> str:
        """Print one receipt; return "" when it came out, else the cause (``paper-out``, ``printer``)."""
        if self.paper_left_mm < int(self.spec["receipt_mm"]):
            return "paper-out"
        temp = self.head_temp(now)
        if temp >= float(self.spec["hot_c"]):
            return "printer"
        self.paper_left_mm -= int(self.spec["receipt_mm"])
        self.receipts += 1
        self._temp = temp + float(self.spec["rise_c"])
        self._at = now
        return ""

    def state(self, now: float) -> UnitPrinterState:
        """What PRINTER_STATUS answers."""
        temp = self.head_temp(now)
        return UnitPrinterState(
            paper_out=self.paper_left_mm < int(self.spec["receipt_mm"]),
            near_end=self.paper_left_mm <= int(self.spec["near_end_mm"]),
            cover_open=False,
            head_hot=temp >= float(self.spec["hot_c"]),
            head_temp_c=round(temp, 1),
            paper_left_mm=self.paper_left_mm,
            receipts=self.receipts,
        )


def format_amount(amount: int, currency: str) -> str:
    """``EUR 12.34`` for 1234 minor units of 978."""
    name, decimals = CURRENCIES.get(currency, (currency, 2))
    if not decimals:
        return f"{name} {amount}"
    return f"{name} {amount // 10**decimals}.{amount % 10**decimals:0{decimals}d}"


def receipt_lines(*, merchant: str, pan: str, aid: str, interface: str, amount: int, currency: str,
                  outcome: str, response_code: str, approval: str, stan: int, terminal: str) -> tuple[str, ...]:
    """The slip: merchant, masked PAN, AID, amount, the host's answer, STAN. Never a full PAN."""
    lines = [merchant, "SALE", f"TID {terminal}", f"CARD {mask_pan(pan)} {interface.upper()}"]
    if aid:
        lines.append(f"AID {aid}")
    lines.append(f"AMOUNT {format_amount(amount, currency)}")
    if outcome == "approved":
        lines.append(f"APPROVED AUTH {approval or '------'}")
    else:
        lines.append(f"DECLINED {response_code}")
    lines.append(f"STAN {stan:06d}")
    return tuple(redact(line) for line in lines)
