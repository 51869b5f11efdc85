"""The simulated unit's ISO 8583 client: authorisations and reversals with the acquirer host over TCP.

Framing and codec are the host's (:mod:`drivers.acquirer.wire`: a 2-byte big-endian length, then
one message in pyiso8583's ``default_ascii`` spec); the fields are those docs/iso8583.md lists.
The unit keeps one connection and opens a new one when the host closed it. An authorisation
the unit got no valid answer to (none in time, the connection closed, an answer that is not
ISO 8583) is reversed: a 0400 naming the original in field 90, on a fresh connection; a reversal
that could not be sent is sent before the next authorisation (store and forward). The STAN
(field 11) counts up per message and never repeats within the unit's process (:class:`Stans`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from drivers.sim.unitcardread import CardData

_LOG = logging.getLogger(__name__)

ENTRY_MODES = {"contact": "051", "contactless": "071", "msr": "901"}
CONNECT_TIMEOUT_S = 2.0


class Stans:
    """The unit's STAN counter: 1..999999, shared by every message of the unit's process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        """The next STAN."""
        with self._lock:
            self._last = self._last % 999_999 + 1
            return self._last


@dataclass
class Online:
    """How an authorisation went: ``how`` is answered, network, host-timeout, host-closed or host-garbage."""

    how: str
    stan: int
    response_code: str = ""
    approval: str = ""
    reversal_sent: bool = False
    reversal_acked: bool = False
    fields: dict[str, str] = field(default_factory=dict, repr=False)


def parse_host(url: str) -> tuple[str, int]:
    """``tcp://ADDR:PORT`` -> (addr, port); raises ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        raise ValueError(f"host must be tcp://ADDR:PORT, not {url!r}")
    return parts.hostname, parts.port


def terminal_id(serial: str) -> str:
    """Field 41 (8 characters) from the unit's serial: its last 8 letters and digits, zero-padded."""
    text = "".join(ch for ch in serial.upper() if ch.isascii() and ch.isalnum())
    return text[-8:].rjust(8, "0")


class HostLink:
    """One unit's connection to the host (used by one sale at a time).

    Args:
        terminal: field 41.
        merchant: field 42 (15 characters).
        stans: the unit's STAN counter.
        unsent: the reversals the unit still owes the host (kept across its reboots, as in flash).
    """

    def __init__(self, terminal: str, merchant: str, stans: Stans, unsent: list[dict[str, str]] | None = None) -> None:
        self.terminal = terminal
        self.merchant = merchant[:15].ljust(15)
        self.stans = stans
        self._sock: socket.socket | None = None
        self._peer: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._unsent = unsent if unsent is not None else []

    def network_lost(self) -> None:
        """The unit's network went down: its connection is gone."""
        with self._lock:
            self._drop()

    def close(self) -> None:
        """Drop the connection; a sale blocked on it ends at once (the unit reboots)."""
        with self._lock:
            self._closed = True
            self._drop()

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _connection(self, peer: tuple[str, int], fresh: bool = False) -> socket.socket:
        with self._lock:
            if self._closed:
                raise OSError("the unit is restarting")
            if self._sock is not None and (fresh or peer != self._peer or _closed_by_peer(self._sock)):
                self._drop()
            if self._sock is None:
                sock = socket.create_connection(peer, timeout=CONNECT_TIMEOUT_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sock, self._peer = sock, peer
            return self._sock

    def authorise(self, host: str, card: CardData, amount: int, currency: str, timeout_s: float,
                  on_reversal: Callable[[], object] | None = None) -> Online:
        """Send a 0100 for ``amount`` with ``card``; reverse it when no valid answer came
        (``on_reversal`` is called as the reversal starts)."""
        peer = parse_host(host)
        stan = self.stans.next()
        now = time.time()
        fields = {"t": "0100", "3": "000000", "4": f"{amount:012d}", "7": time.strftime("%m%d%H%M%S", time.gmtime(now)),
                  "11": f"{stan:06d}", "12": time.strftime("%H%M%S", time.localtime(now)),
                  "13": time.strftime("%m%d", time.localtime(now)), "22": ENTRY_MODES[card.interface],
                  "41": self.terminal, "42": self.merchant, "49": currency}
        if card.interface == "msr":
            fields["35"] = card.track2
        else:
            fields["2"] = card.pan
            fields["35"] = card.track2
            fields["55"] = _icc_data(card.aid, amount, currency, now)
        try:
            sock = self._connection(peer)
        except OSError as exc:
            _LOG.info("no connection to the host: %s", exc)
            return Online("network", stan)
        while self._unsent:  # owed reversals first, as a terminal's payment application does
            if not isinstance(self._exchange(sock, self._unsent[0], "0410", timeout_s), dict):
                return Online("network", stan)
            self._unsent.pop(0)
        answer = self._exchange(sock, fields, "0110", timeout_s)
        if isinstance(answer, dict):
            return Online("answered", stan, answer.get("39", ""), answer.get("38", ""), fields=answer)
        with self._lock:
            if self._sock is sock:
                self._drop()
        result = Online(answer, stan)
        if on_reversal is not None:
            on_reversal()
        result.reversal_sent, result.reversal_acked = self._reverse(peer, fields, timeout_s)
        return result

    def _reverse(self, peer: tuple[str, int], original: dict[str, str], timeout_s: float) -> tuple[bool, bool]:
        """Send the 0400 for ``original`` on a fresh connection: (sent, answered)."""
        stan = self.stans.next()
        fields = {"t": "0400", "3": original["3"], "4": original["4"],
                  "7": time.strftime("%m%d%H%M%S", time.gmtime()), "11": f"{stan:06d}", "41": self.terminal,
                  "42": self.merchant, "49": original["49"],
                  "90": f"0100{original['11']}{original['7']}".ljust(42, "0")}
        try:
            sock = self._connection(peer, fresh=True)
        except OSError as exc:
            _LOG.info("reversal of STAN %s not sent now, kept for later: %s", original["11"], exc)
            self._unsent.append(fields)
            return False, False
        answer = self._exchange(sock, fields, "0410", timeout_s)
        if not isinstance(answer, dict):
            with self._lock:
                if self._sock is sock:
                    self._drop()
            if answer == "network":
                self._unsent.append(fields)
            return answer != "network", False
        return True, True

    def _exchange(self, sock: socket.socket, fields: dict[str, str], want: str, timeout_s: float) -> dict[str, str] | str:
        """Send ``fields`` and wait for the answer with the same STAN: its fields, or why not."""
        from drivers.acquirer import wire  # here: the unit process starts without pyiso8583 and asyncio

        try:
            sock.sendall(wire.frame(wire.encode(fields)))
        except OSError:
            return "network"
        deadline = time.monotonic() + timeout_s
        buf = bytearray()
        while True:
            while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                size = int.from_bytes(buf[:2], "big")
                body, buf = bytes(buf[2 : 2 + size]), buf[2 + size :]
                try:
                    answer = wire.decode(body)
                except wire.DecodeError:
                    return "host-garbage"
                if answer.get("t") == want and answer.get("11") == fields["11"]:
                    return answer
                _LOG.debug("skipped a stale %s answer", answer.get("t"))
            if len(buf) >= 2 and not 0 < int.from_bytes(buf[:2], "big") <= wire.MAX_FRAME:
                return "host-garbage"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "host-timeout"
            try:
                sock.settimeout(remaining)
                chunk = sock.recv(4096)
            except TimeoutError:
                return "host-timeout"
            except OSError:
                return "host-closed"
            if not chunk:
                return "host-closed"
            buf += chunk


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the host closed an idle connection (or it broke)."""
    try:
        sock.settimeout(0)  # with a timeout set, Python would wait for data before peeking
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _icc_data(aid: str, amount: int, currency: str, now: float) -> str:
    """Field 55: the chip data the unit sends (AID 4F, amount 9F02, currency 5F2A, date 9A, type 9C), hex."""
    from drivers.codecs import tlv

    data = (tlv.build(0x4F, bytes.fromhex(aid)) + tlv.build(0x9F02, bytes.fromhex(f"{amount:012d}"))
            + tlv.build(0x5F2A, bytes.fromhex(currency.rjust(4, "0"))) + tlv.build(0x9A, bytes.fromhex(
                time.strftime("%y%m%d", time.localtime(now)))) + tlv.build(0x9C, b"\x00"))
    return data.hex().upper()
