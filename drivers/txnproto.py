"""The unit's test-transaction command set on the link: numbers and payload codecs (docs/protocol.md §5a).

Shared by the client (:mod:`drivers.unit`) and the simulated unit so both speak the same bytes.
A test sale: the bench sends TXN_START (amount, card, host), the unit answers at once, runs the
sale (amount on its keypad, card read, ISO 8583 with the host, reversal after a timeout, receipt)
and reports each stage with a ``txn_stage`` event and the end with a ``txn_result`` event.
TXN_STATUS asks again for a result (a lost event, a reconnect). The unit's own printer answers
PRINTER_STATUS. Card data never crosses the link in clear: the PAN is masked first-6/last-4 by the
unit, and a receipt line is what the customer's slip shows (masked).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.unitproto import CMD_PRINTER_STATUS as CMD_PRINTER_STATUS
from drivers.unitproto import CMD_TXN_START as CMD_TXN_START
from drivers.unitproto import CMD_TXN_STATUS as CMD_TXN_STATUS
from drivers.unitproto import EV_TXN_RESULT, EV_TXN_STAGE, Reader, Writer

TXN_CAPABILITY = "txn"

#: Stage numbers of a ``txn_stage`` event (the index is the code on the wire).
STAGES = ("amount", "card", "online", "reversal", "print", "done")
#: Outcome codes of a result (the index is the code on the wire).
OUTCOMES = ("approved", "declined", "failed", "running", "unknown")
#: Failure causes a unit reports in a result (``""`` when approved or declined).
CAUSES = (
    "amount-entry",   # the keypad could not enter the amount (dead key) or entered another one
    "card-read",      # no card, no ATR, no payment application, a misread swipe
    "network",        # no connection to the host (interface down, refused)
    "host-timeout",   # no answer from the host in the online timeout (a reversal follows)
    "host-closed",    # the host closed the connection before answering (a reversal follows)
    "host-garbage",   # the host's answer was not ISO 8583 (a reversal follows)
    "paper-out",      # approved, but the receipt could not be printed: no paper
    "printer",        # approved, but the printer failed otherwise
    "cancelled",      # the unit was rebooted or the sale was cancelled
)
FLAG_REVERSAL_SENT = 0x01
FLAG_REVERSAL_ACKED = 0x02
FLAG_PRINTED = 0x04
FLAG_RECEIPT_TRUNCATED = 0x08

PRN_PAPER_OUT = 0x01
PRN_NEAR_END = 0x02
PRN_COVER_OPEN = 0x04
PRN_HEAD_HOT = 0x08


@dataclass(frozen=True)
class TxnRequest:
    """TXN_START: one test sale.

    Attributes:
        txn_id: chosen by the bench, 1..2^32-1; the unit echoes it in every event and result.
        amount: minor units (cents), 1..999_999_999.
        currency: ISO 4217 numeric code, e.g. ``"978"`` (EUR), ``"840"``, ``"156"``.
        card: the test card to present: a card name of the bench's card library
            (``emv-visa-contact``, ``emv-unionpay-contactless``, ``msr-unionpay``...).
        host: where the unit sends its ISO 8583 messages, ``tcp://ADDR:PORT``; ``""`` = its own setting.
        online_timeout_ms: how long the unit waits for the host's answer before it reverses.
    """

    txn_id: int
    amount: int
    currency: str
    card: str
    host: str
    online_timeout_ms: int = 5000


@dataclass(frozen=True)
class TxnStage:
    """A ``txn_stage`` event: the sale entered ``stage`` ``elapsed_ms`` after TXN_START."""

    txn_id: int
    stage: str
    elapsed_ms: int


@dataclass(frozen=True)
class TxnResult:
    """A ``txn_result`` event, or the TXN_STATUS answer.

    ``outcome`` is approved, declined, failed, running (status only) or unknown (status of an id
    the unit does not know). ``stages_ms`` has ``amount``, ``card``, ``online``, ``print`` and
    ``total``, from the unit's clock. ``masked_pan`` is first six and last four digits.
    """

    txn_id: int
    outcome: str
    response_code: str = ""
    cause: str = ""
    masked_pan: str = ""
    aid: str = ""
    interface: str = ""  # contact, contactless, msr
    amount: int = 0  # the amount the unit sent to the host
    stan: int = 0
    flags: int = 0
    stages_ms: dict[str, int] = field(default_factory=dict)
    receipt: tuple[str, ...] = ()

    @property
    def reversal_sent(self) -> bool:
        """The unit sent a reversal for this sale."""
        return bool(self.flags & FLAG_REVERSAL_SENT)

    @property
    def reversal_acked(self) -> bool:
        """The host answered the reversal (0410)."""
        return bool(self.flags & FLAG_REVERSAL_ACKED)

    @property
    def printed(self) -> bool:
        """The receipt came out of the unit's printer."""
        return bool(self.flags & FLAG_PRINTED)


@dataclass(frozen=True)
class UnitPrinterState:
    """PRINTER_STATUS: the unit's own receipt printer."""

    paper_out: bool
    near_end: bool
    cover_open: bool
    head_hot: bool
    head_temp_c: float
    paper_left_mm: int
    receipts: int


_STAGE_KEYS = ("amount", "card", "online", "print", "total")


def encode_txn_start(req: TxnRequest) -> bytes:
    """TXN_START request: ``u32 id, u32 amount, str currency, str card, str host, u16 online timeout ms``."""
    return (Writer().u32(req.txn_id).u32(req.amount).str(req.currency).str(req.card).str(req.host)
            .u16(min(req.online_timeout_ms, 0xFFFF)).bytes())


def decode_txn_start(payload: bytes) -> TxnRequest:
    """Inverse of :func:`encode_txn_start` (ProtocolError when malformed)."""
    r = Reader(payload, "TXN_START")
    return TxnRequest(r.u32(), r.u32(), r.str(), r.str(), r.str(), r.u16())


def encode_txn_accepted(txn_id: int) -> bytes:
    """TXN_START answer: ``u32 id`` (the sale runs; its events follow)."""
    return Writer().u32(txn_id).bytes()


def decode_txn_accepted(payload: bytes) -> int:
    """Inverse of :func:`encode_txn_accepted`."""
    return Reader(payload, "TXN_START answer").u32()


def encode_txn_status(txn_id: int) -> bytes:
    """TXN_STATUS request: ``u32 id``."""
    return Writer().u32(txn_id).bytes()


def decode_txn_status(payload: bytes) -> int:
    """Inverse of :func:`encode_txn_status`."""
    return Reader(payload, "TXN_STATUS").u32()


def encode_txn_stage(stage: TxnStage) -> bytes:
    """``txn_stage`` event payload: ``u8 kind 0x07, u32 id, u8 stage, u32 elapsed ms``."""
    return Writer().u8(EV_TXN_STAGE).u32(stage.txn_id).u8(STAGES.index(stage.stage)).u32(stage.elapsed_ms).bytes()


def decode_txn_stage(payload: bytes) -> TxnStage:
    """Inverse of :func:`encode_txn_stage` (the payload starts with the event kind)."""
    r = Reader(payload, "txn_stage event")
    r.u8()
    txn_id, code, elapsed = r.u32(), r.u8(), r.u32()
    stage = STAGES[code] if code < len(STAGES) else f"stage-{code}"
    return TxnStage(txn_id, stage, elapsed)


def encode_txn_result(result: TxnResult, max_payload: int = 1024, *, event: bool = True) -> bytes:
    """A result: ``[u8 kind 0x08,] u32 id, u8 outcome, str code, str cause, str masked PAN, str AID,
    str interface, u32 amount, u32 STAN, u8 flags, u32 amount/card/online/print/total ms, list<str> receipt``.

    Receipt lines that would take the payload past ``max_payload`` are left off and
    FLAG_RECEIPT_TRUNCATED is set. The TXN_STATUS answer is the same without the kind byte.
    """
    w = Writer()
    if event:
        w.u8(EV_TXN_RESULT)
    w.u32(result.txn_id).u8(OUTCOMES.index(result.outcome)).str(result.response_code).str(result.cause)
    w.str(result.masked_pan).str(result.aid).str(result.interface).u32(result.amount).u32(result.stan)
    head = w.bytes()
    lines: list[bytes] = []
    size = len(head) + 1 + 4 * len(_STAGE_KEYS) + 1
    flags = result.flags
    for line in result.receipt[:255]:
        item = Writer().str(line).bytes()
        if size + len(item) > max_payload:
            flags |= FLAG_RECEIPT_TRUNCATED
            break
        lines.append(item)
        size += len(item)
    tail = Writer().u8(flags)
    for key in _STAGE_KEYS:
        tail.u32(max(0, min(0xFFFFFFFF, int(result.stages_ms.get(key, 0)))))
    tail.u8(len(lines))
    return head + tail.bytes() + b"".join(lines)


def decode_txn_result(payload: bytes, *, event: bool = True) -> TxnResult:
    """Inverse of :func:`encode_txn_result` (ProtocolError when malformed)."""
    r = Reader(payload, "txn_result event" if event else "TXN_STATUS answer")
    if event:
        r.u8()
    txn_id, code = r.u32(), r.u8()
    outcome = OUTCOMES[code] if code < len(OUTCOMES) else "unknown"
    response_code, cause, pan, aid, interface = r.str(), r.str(), r.str(), r.str(), r.str()
    amount, stan, flags = r.u32(), r.u32(), r.u8()
    stages = {key: r.u32() for key in _STAGE_KEYS}
    receipt = tuple(r.str() for _ in range(r.u8()))
    return TxnResult(txn_id, outcome, response_code, cause, pan, aid, interface, amount, stan, flags, stages, receipt)


def encode_printer_state(state: UnitPrinterState) -> bytes:
    """PRINTER_STATUS answer: ``u8 flags, i16 head temperature in 0.1 °C, u32 paper left mm, u32 receipts``."""
    flags = ((PRN_PAPER_OUT if state.paper_out else 0) | (PRN_NEAR_END if state.near_end else 0)
             | (PRN_COVER_OPEN if state.cover_open else 0) | (PRN_HEAD_HOT if state.head_hot else 0))
    temp = max(-32768, min(32767, round(state.head_temp_c * 10)))
    return Writer().u8(flags).i16(temp).u32(max(0, state.paper_left_mm)).u32(state.receipts).bytes()


def decode_printer_state(payload: bytes) -> UnitPrinterState:
    """Inverse of :func:`encode_printer_state`."""
    r = Reader(payload, "PRINTER_STATUS")
    flags, temp, left, receipts = r.u8(), r.i16(), r.u32(), r.u32()
    return UnitPrinterState(bool(flags & PRN_PAPER_OUT), bool(flags & PRN_NEAR_END), bool(flags & PRN_COVER_OPEN),
                            bool(flags & PRN_HEAD_HOT), temp / 10, left, receipts)
