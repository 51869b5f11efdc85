"""PC/SC card readers through pyscard: ``pcsc://<reader name pattern>``.

The pattern is an fnmatch pattern, URL-decoded (``pcsc://Virtual%20PCD*``); the first
reader that matches is used. Every call has a timeout. T=0 transport details (``61xx``
GET RESPONSE, ``6Cxx`` re-issue with the right Le) are handled once, in
:func:`exchange`, which is transport-free so it is unit-tested against a virtual card.

pyscard results are mapped onto :mod:`bench.errors`:

* pcscd not running, no reader -> :class:`EquipmentError` (ICC-NO-READER)
* no card -> :class:`CardError` (ICC-NO-CARD)
* card present but no (valid) answer to reset -> :class:`CardError` (ICC-NO-ATR)
* card pulled mid-APDU -> :class:`CardError` (ICC-REMOVED)

APDUs are logged at DEBUG through :func:`drivers.codecs.pan.redact`: never a full PAN or track data.

APDUs go out on the calling thread. PC/SC has no way to abandon an ``SCardTransmit`` in
flight: ``SCardCancel`` does not reach it, and calls from another context queue behind it
until the card answers (measured with a virtual card that takes 20 s). Running the exchange
on a helper thread under a timeout, as this driver once did, only handed the check an error
sooner while the reader stayed busy, and the hand-off cost 15% of every APDU. So an answer
later than ``timeout`` is an ICC-SLOW error once it arrives, and a card that does not answer
at all is bounded by the runner's step timeout: :meth:`CardReaderClient.pending` tells the
runner which command was still waiting, and the step is reported as ICC-SLOW with it.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from drivers.codecs.iso7816 import get_response, sw_hex, sw_text, with_le
from drivers.codecs.pan import redact
from drivers.errors import CardError, EquipmentError
from drivers.i18n import N_
from drivers.interfaces import ApduResponse, CardEvent, CardInfo, CardReader, Pending

_LOG = logging.getLogger(__name__)

SCHEME = "pcsc://"
_POLL = 0.25  # seconds per SCardGetStatusChange slice, so close() and deadlines are honoured
MAX_CHAIN = 64  # GET RESPONSE / re-issue rounds before giving up

# pcsc-lite return codes (winscard.h), kept here so error mapping needs no pyscard import
SCARD_S_SUCCESS = 0x00000000
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

STATE_CHANGED = 0x0002
STATE_UNKNOWN = 0x0004
STATE_UNAVAILABLE = 0x0008
STATE_EMPTY = 0x0010
STATE_PRESENT = 0x0020
STATE_MUTE = 0x0200

_NO_SERVICE = {SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED}
_NO_READER = {SCARD_E_NO_READERS_AVAILABLE, SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE}
_REMOVED = {SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, SCARD_W_RESET_CARD, SCARD_E_NOT_TRANSACTED,
            SCARD_E_INVALID_HANDLE}
_MUTE = {SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD}


_PULLED = "the card was pulled out while the bench was talking to it"
_MUTE_CARD = "the card does not respond when powered (no answer to reset)"


def pcsc_error(hresult: int, action: str, *, reader: str = "", during_apdu: bool = False) -> Exception:
    """Map a PC/SC return code onto the bench error a technician can act on.

    Args:
        hresult: the PC/SC code (pyscard returns them unsigned).
        action: what was being done, for the message ("connect", "transmit SELECT").
        reader: the reader's name, when known.
        during_apdu: the card was connected and a command was in flight.
    """
    hresult &= 0xFFFFFFFF
    text = _error_text(hresult)
    where = f" on {reader!r}" if reader else ""
    if hresult in _NO_SERVICE:
        return EquipmentError(N_("pcscd is not running ({text}); start it (sudo pcscd) and retry", text=text),
                              fault_code="ICC-NO-READER")
    if hresult in _NO_READER:
        return EquipmentError(N_("card reader{where} is not available ({text})", where=where, text=text), fault_code="ICC-NO-READER")
    if during_apdu and hresult in _REMOVED:
        return CardError(_PULLED, fault_code="ICC-REMOVED", detail=f"card removed during {action}{where}")
    if hresult in _MUTE:
        return CardError(_MUTE_CARD, fault_code="ICC-NO-ATR", detail=f"card{where} does not answer reset: {text}")
    if hresult in (SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD):
        return CardError(N_("no card in the reader{where}", where=where), fault_code="ICC-NO-CARD")
    if hresult == SCARD_E_TIMEOUT:
        return CardError(N_("no card answered in time"), fault_code="ICC-NO-CARD", detail=f"{action}{where}: timed out")
    return CardError(N_("the card reader could not talk to the card"), fault_code="ICC-ERROR",
                     detail=f"{action}{where} failed: {text} (0x{hresult:08X})")


def wrap_pyscard_exception(exc: BaseException, action: str, *, reader: str = "") -> Exception:
    """Map a high-level pyscard exception (``smartcard.Exceptions``) onto a bench error."""
    hresult = getattr(exc, "hresult", None)
    if isinstance(hresult, int) and hresult not in (0, -1):
        return pcsc_error(hresult, action, reader=reader, during_apdu="transmit" in action)
    name = type(exc).__name__
    if name in ("EstablishContextException", "ListReadersException", "NoReadersException",
                "CardServiceStoppedException", "CardServiceNotFoundException"):
        return EquipmentError(N_("pcscd is not reachable: {exc}", exc=exc), fault_code="ICC-NO-READER")
    if name == "NoCardException":
        return CardError(N_("no card in the reader {reader!r}", reader=reader), fault_code="ICC-NO-CARD")
    if name == "CardConnectionException":
        return CardError(_PULLED, fault_code="ICC-REMOVED", detail=f"card removed during {action} ({exc})")
    return CardError(N_("the card reader could not talk to the card"), fault_code="ICC-ERROR",
                     detail=f"{action} failed: {exc}")


def _error_text(hresult: int) -> str:
    try:
        from smartcard import scard

        return str(scard.SCardGetErrorMessage(hresult)).strip().rstrip(".")
    except Exception:  # pyscard missing or the code unknown: the number says it all
        return f"PC/SC error 0x{hresult:08X}"


def describe_apdu(apdu: bytes) -> str:
    """A short name for a command APDU, for messages (``SELECT``, ``READ RECORD``...)."""
    if len(apdu) < 2:
        return "APDU"
    return {0xA4: "SELECT", 0xB2: "READ RECORD", 0xC0: "GET RESPONSE", 0xA8: "GET PROCESSING OPTIONS",
            0xCA: "GET DATA", 0xB0: "READ BINARY"}.get(apdu[1], f"INS {apdu[1]:02X}")


def exchange(raw: Callable[[bytes], bytes], apdu: bytes, *, max_rounds: int = MAX_CHAIN) -> ApduResponse:
    """Send ``apdu`` through ``raw`` and follow T=0 transport answers to the final response.

    ``61xx``: issue GET RESPONSE for ``xx`` bytes and append the data (repeating while the
    card says more is available). ``6Cxx``: re-issue the same command with ``Le = xx``.
    ``raw`` takes a command APDU and returns the response APDU (data + SW1 SW2).

    Raises:
        CardError: a response shorter than a status word, or a card that keeps chaining.
    """
    data = b""
    command = apdu
    rounds = 0
    while True:
        rounds += 1
        if rounds > max_rounds:
            raise CardError(N_("the card never finishes its answer"), fault_code="ICC-ERROR",
                            detail=f"{describe_apdu(apdu)}: card keeps answering 61xx/6Cxx after {max_rounds} rounds")
        resp = raw(command)
        if len(resp) < 2:
            raise CardError(N_("the card gave an incomplete answer"), fault_code="ICC-ERROR",
                            detail=f"{describe_apdu(apdu)}: response of {len(resp)} byte(s), no status word")
        body, sw1, sw2 = resp[:-2], resp[-2], resp[-1]
        if sw1 == 0x6C:
            command = with_le(command, sw2)
            continue
        data += body
        if sw1 == 0x61:
            cla = apdu[0] & 0x03  # keep the logical channel
            command = bytes([cla]) + get_response(sw2)[1:]
            continue
        return ApduResponse(data, sw1, sw2, rounds)


class CardReaderClient(CardReader):
    """A PC/SC reader opened by name pattern.

    Args:
        pattern: fnmatch pattern of the reader name (already URL-decoded).
        url: the URL it was opened from (for messages and the logger name).
        timeout: default seconds for calls that take no explicit timeout.

    Raises:
        EquipmentError: pcscd not running, or no reader matches (ICC-NO-READER).
    """

    def __init__(self, pattern: str, *, url: str = "", timeout: float = 5.0) -> None:
        from smartcard import scard

        self._scard: Any = scard
        self.url = url or SCHEME + pattern
        self.pattern = pattern
        self.timeout = timeout
        self.log = logging.getLogger(f"{__name__}.{pattern}")
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._card: int | None = None
        self._protocol = 0
        self._info: CardInfo | None = None
        self._in_flight: tuple[bytes, float] | None = None  # (command APDU, monotonic start)
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != SCARD_S_SUCCESS:
            raise pcsc_error(hr, "connect to pcscd")
        self._ctx: int = ctx
        try:
            self.reader_name = self._resolve()
        except BaseException:
            self._release_context()
            raise
        self.log.debug("opened reader %r for %s", self.reader_name, self.url)

    # -- readers
    def list_readers(self) -> list[str]:
        """Names of every reader pcscd lists now ([] when none)."""
        hr, readers = self._scard.SCardListReaders(self._ctx, [])
        if hr == SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != SCARD_S_SUCCESS:
            raise pcsc_error(hr, "list readers")
        return list(readers)

    def _resolve(self) -> str:
        readers = self.list_readers()
        for name in readers:
            if fnmatch.fnmatchcase(name, self.pattern):
                return name
        shown = ", ".join(repr(r) for r in readers) or "none"
        raise EquipmentError(N_("no card reader matches {pattern!r} (readers: {shown})", pattern=self.pattern, shown=shown),
                             fault_code="ICC-NO-READER")

    # -- card state
    def _state(self, timeout: float = 0.0, current: int = 0) -> tuple[int, bytes]:
        """Reader event state and ATR, waiting up to ``timeout`` for a change from ``current``."""
        if self._closed.is_set():
            raise EquipmentError(N_("card reader {url} is closed", url=self.url), fault_code="ICC-NO-READER")
        hr, states = self._scard.SCardGetStatusChange(self._ctx, int(timeout * 1000),
                                                      [(self.reader_name, current)])
        if hr in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED):
            return current, b""
        if hr != SCARD_S_SUCCESS:
            raise pcsc_error(hr, "read reader state", reader=self.reader_name)
        _, event, atr = states[0]
        if event & (STATE_UNKNOWN | STATE_UNAVAILABLE):
            raise EquipmentError(N_("card reader {reader_name!r} went away", reader_name=self.reader_name), fault_code="ICC-NO-READER")
        return event & ~STATE_CHANGED, bytes(atr)

    def card_present(self) -> bool:
        """True when a card (even a mute one) is in the reader."""
        event, _ = self._state()
        return bool(event & STATE_PRESENT)

    def _wait(self, want_present: bool, timeout: float) -> float:
        t0 = time.monotonic()
        deadline = t0 + timeout
        event, _ = self._state()
        while bool(event & STATE_PRESENT) != want_present:
            left = deadline - time.monotonic()
            if left <= 0:
                message = (N_("no card inserted within {timeout:g} s", timeout=timeout) if want_present
                           else N_("card not removed within {timeout:g} s", timeout=timeout))
                raise CardError(message,
                                fault_code="ICC-NO-CARD" if want_present else "ICC-ERROR",
                                detail=f"reader {self.reader_name!r}")
            event, _ = self._state(min(_POLL, left), event & 0xFFFF)
        return time.monotonic() - t0

    def wait_for_insert(self, timeout: float) -> float:
        """Wait for a card; seconds waited (0 when already there); CardError ICC-NO-CARD on timeout."""
        took = self._wait(True, timeout)
        self.log.debug("card present after %.0f ms", took * 1000)
        return took

    def wait_for_remove(self, timeout: float) -> float:
        """Wait until the reader is empty; seconds waited; CardError on timeout."""
        with self._lock:
            self._drop_card()
        took = self._wait(False, timeout)
        self.log.debug("card removed after %.0f ms", took * 1000)
        return took

    def wait_for_change(self, timeout: float) -> CardEvent | None:
        """The next insertion or removal, or None when nothing changes within ``timeout``."""
        deadline = time.monotonic() + timeout
        event, _ = self._state()
        present = bool(event & STATE_PRESENT)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            event, atr = self._state(min(_POLL, left), event & 0xFFFF)
            if bool(event & STATE_PRESENT) != present:
                if not event & STATE_PRESENT:
                    kind = "removed"
                elif event & STATE_MUTE or not _plausible_atr(atr):
                    kind = "mute"
                else:
                    kind = "inserted"
                return CardEvent(kind, self.reader_name, atr, time.monotonic())

    # -- session
    def connect(self, timeout: float = 5.0) -> CardInfo:
        """Wait for a card, power it, negotiate T=0/T=1; returns the ATR and protocol.

        Raises:
            CardError: ICC-NO-CARD (none within ``timeout``), ICC-NO-ATR (mute card).
        """
        with self._lock:
            if self._card is not None and self._info is not None:
                return self._info
            self._wait(True, timeout)
            event, atr = self._state()
            if event & STATE_MUTE or not _plausible_atr(atr):
                raise CardError(_MUTE_CARD, fault_code="ICC-NO-ATR",
                                detail=f"reader {self.reader_name!r}: ATR {atr.hex(' ').upper() or 'empty'}")
            s = self._scard
            # Right after insertion pcscd may report the card present before it has powered
            # it; "unpowered" then means "not yet", so retry for a moment before calling it mute.
            settle = time.monotonic() + min(1.0, timeout)
            while True:
                hr, card, protocol = s.SCardConnect(self._ctx, self.reader_name, s.SCARD_SHARE_SHARED,
                                                    s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
                if hr != SCARD_W_UNPOWERED_CARD or time.monotonic() >= settle:
                    break
                time.sleep(0.05)
            if hr != SCARD_S_SUCCESS:
                raise pcsc_error(hr, "connect", reader=self.reader_name)
            self._card, self._protocol = card, protocol
            hr, _, _, _, atr_list = s.SCardStatus(card)
            atr = bytes(atr_list) if hr == SCARD_S_SUCCESS else atr
            name = {s.SCARD_PROTOCOL_T0: "T=0", s.SCARD_PROTOCOL_T1: "T=1"}.get(protocol, "?")
            self._info = CardInfo(self.reader_name, atr, name)
            self.log.debug("connected %s, ATR %s", name, atr.hex().upper())
            return self._info

    @property
    def info(self) -> CardInfo | None:
        """The connected card, or None."""
        return self._info

    def atr(self) -> bytes:
        """The ATR of the card in the reader (from the reader state; no connection needed)."""
        _, atr = self._state()
        return atr

    def _raw(self, apdu: bytes) -> bytes:
        """One SCardTransmit on the calling thread."""
        card = self._card
        if card is None:
            raise CardError(N_("no card is connected"), fault_code="ICC-NO-CARD", detail="transmit without a connected card")
        debug = self.log.isEnabledFor(logging.DEBUG)  # redacting costs more than the APDU itself
        if debug:
            self.log.debug("> %s", redact(apdu.hex().upper()))
            t0 = time.monotonic()
        hr, resp = self._scard.SCardTransmit(card, self._protocol, list(apdu))
        if hr != SCARD_S_SUCCESS:
            self._card, self._info = None, None
            raise pcsc_error(hr, f"transmit {describe_apdu(apdu)}", reader=self.reader_name, during_apdu=True)
        out = bytes(resp)
        if len(out) < 2 and self._gone_within(0.6):
            self._card, self._info = None, None
            raise CardError(_PULLED, fault_code="ICC-REMOVED",
                            detail=f"card removed during {describe_apdu(apdu)} on {self.reader_name!r}")
        if debug:
            self.log.debug("< %s (%.1f ms)", redact(out.hex().upper()), (time.monotonic() - t0) * 1000)
        return out

    def _gone_within(self, seconds: float) -> bool:
        """True when the reader reports no card within ``seconds`` (pcscd polls every 0.4 s)."""
        try:
            self._wait(False, seconds)
        except CardError:
            return False
        return True

    def transmit(self, apdu: bytes, timeout: float = 5.0) -> ApduResponse:
        """Send a command APDU; GET RESPONSE and Le re-issue happen here.

        Raises:
            CardError: ICC-REMOVED (card pulled), ICC-SLOW (answered after ``timeout``; the
                card stays connected), ICC-NO-CARD (not connected).
        """
        with self._lock:
            if self._card is None:
                self.connect(timeout)
            t0 = time.monotonic()
            self._in_flight = (apdu, t0)
            try:
                resp = exchange(self._raw, apdu)
            finally:
                self._in_flight = None
            took = time.monotonic() - t0
            if took > timeout:
                raise CardError(N_("the card took {took:.1f} s to answer (limit {timeout:g} s)", took=took, timeout=timeout), fault_code="ICC-SLOW",
                                detail=f"{describe_apdu(apdu)} on {self.reader_name!r}")
            if not resp.ok:
                self.log.debug("%s -> %s (%s)", describe_apdu(apdu), sw_hex(resp.sw1, resp.sw2),
                               sw_text(resp.sw1, resp.sw2))
            return resp

    def pending(self) -> Pending | None:
        """The command APDU still waiting for the card's answer, if any (read from any thread)."""
        in_flight = self._in_flight
        if in_flight is None:
            return None
        apdu, since = in_flight
        return Pending(f"the card's answer to {describe_apdu(apdu)}", time.monotonic() - since, "ICC-SLOW")

    def _drop_card(self) -> None:
        card, self._card, self._info = self._card, None, None
        if card is not None:
            hr = self._scard.SCardDisconnect(card, self._scard.SCARD_UNPOWER_CARD)
            if hr != SCARD_S_SUCCESS:
                self.log.debug("disconnect: %s", _error_text(hr))

    def disconnect(self) -> None:
        """Release (and unpower) the card; harmless when not connected."""
        with self._lock:
            self._drop_card()

    # -- lifecycle
    def _release_context(self) -> None:
        ctx, self._ctx = getattr(self, "_ctx", 0), 0
        if ctx:
            self._scard.SCardReleaseContext(ctx)

    def close(self) -> None:
        """Release the card and the PC/SC context; safe from another thread and twice."""
        if self._closed.is_set():
            return
        self._closed.set()
        ctx = getattr(self, "_ctx", 0)
        if ctx:
            self._scard.SCardCancel(ctx)  # wake a waiting SCardGetStatusChange

        def release() -> None:
            with self._lock:
                try:
                    self._drop_card()
                finally:
                    self._release_context()

        worker = threading.Thread(target=release, name="pcsc-close", daemon=True)
        worker.start()
        # A transmit in flight holds the reader until the card answers and nothing can cut it
        # short (see the module docstring): then the release finishes in the background.
        worker.join(0.05 if self._in_flight is not None else self.timeout)
        self.log.debug("closed")


def _plausible_atr(atr: bytes) -> bool:
    """An ATR starts with TS 3B or 3F; anything else means the card did not answer reset."""
    return len(atr) >= 2 and atr[0] in (0x3B, 0x3F)


def open_card_reader(url: str, **options: Any) -> CardReaderClient:
    """Open ``pcsc://<reader name pattern>`` (fnmatch, URL-decoded; first match).

    Raises:
        ConfigError: not a ``pcsc://`` URL.
        EquipmentError: pcscd not running or no matching reader (ICC-NO-READER).
    """
    from drivers.errors import ConfigError

    if not url.startswith(SCHEME):
        raise ConfigError(N_("card reader URL must start with {SCHEME}: {url!r}", SCHEME=SCHEME, url=url))
    pattern = unquote(url[len(SCHEME) :]) or "*"
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        raise EquipmentError(N_("pyscard is not installed ({exc}): pip install pyscard", exc=exc),
                             fault_code="ICC-NO-READER") from exc
    return CardReaderClient(pattern, url=url, timeout=float(options.get("timeout", 5.0)))
