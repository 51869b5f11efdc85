"""Plug a :class:`~drivers.sim.vcard.VirtualCard` into pcscd's ``vpcd`` reader driver.

vpcd listens on TCP ``35963 + slot``; the card connects out to it (127.0.0.1 only).
Every message both ways is a 2-byte big-endian length and a payload. A 1-byte payload
from vpcd is control: ``00`` power off, ``01`` power on, ``02`` reset (no reply),
``04`` get ATR (reply: the ATR). Any other payload is a command APDU, answered with the
response APDU. Connecting is inserting the card; closing the socket is removing it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time

from drivers.errors import EquipmentError
from drivers.i18n import N_
from drivers.sim.vcard import CardRemoved, VirtualCard

_LOG = logging.getLogger(__name__)

VPCD_BASE_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04


def vpcd_port(slot: int) -> int:
    """TCP port of vpcd slot ``slot`` (readers configured two slots apart, from 35963)."""
    return VPCD_BASE_PORT + slot


class VpcdCardClient:
    """A virtual card inserted into one vpcd slot, served by a background thread.

    Args:
        card: the card state machine.
        port: vpcd's TCP port for the slot.
        host: where vpcd listens (always local in simulation).
    """

    def __init__(self, card: VirtualCard, port: int, host: str = "127.0.0.1") -> None:
        self.card = card
        self.port = port
        self.host = host
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.gone = threading.Event()  # set when the card left the reader (removed or pulled)

    # -- lifecycle
    def insert(self, timeout: float = 3.0) -> None:
        """Connect to vpcd (retrying until ``timeout``) and start answering.

        Raises:
            EquipmentError: vpcd does not accept the connection (pcscd not running with vpcd).
        """
        deadline = time.monotonic() + timeout
        last: OSError | None = None
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=min(1.0, timeout))
                break
            except OSError as exc:
                last = exc
                if time.monotonic() >= deadline:
                    raise EquipmentError(
                        N_("vpcd does not accept a card on {host}:{port} ({last}); is pcscd running with vpcd?", host=self.host, port=self.port, last=last),
                        fault_code="ICC-NO-READER",
                    ) from exc
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()
        _LOG.debug("card %s inserted on vpcd port %d", self.card.profile.name, self.port)

    def remove(self, timeout: float = 2.0) -> None:
        """Take the card out (close the socket) and wait for the thread; harmless twice."""
        self._stop.set()
        self._close_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.gone.set()

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    # -- wire
    @staticmethod
    def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                chunk = sock.recv(n - len(buf))
                # vpcd writes the length and the payload separately; without an immediate ACK,
                # Nagle on its side plus delayed ACK on ours adds ~40 ms to every message.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    @staticmethod
    def _send(sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self) -> None:
        sock = self._sock
        try:
            while sock is not None and not self._stop.is_set():
                head = self._recv_exact(sock, 2)
                if head is None:
                    break
                (length,) = struct.unpack(">H", head)
                payload = self._recv_exact(sock, length) if length else b""
                if payload is None:
                    break
                if len(payload) == 1:
                    self._control(sock, payload[0])
                    continue
                if self.card.delay and self._stop.wait(self.card.delay):
                    break
                try:
                    answer = self.card.process(payload)
                except CardRemoved as exc:
                    _LOG.info("virtual card %s: %s", self.card.profile.name, exc)
                    break
                self._send(sock, answer)
        except OSError as exc:
            if not self._stop.is_set():
                _LOG.warning("vpcd connection on port %d failed: %s", self.port, exc)
        finally:
            self._close_socket()
            self.gone.set()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_OFF:
            self.card.power_off()
        elif code == CTRL_ON:
            self.card.power_on()
        elif code == CTRL_RESET:
            self.card.reset()
        elif code == CTRL_ATR:
            self._send(sock, self.card.answer_atr())
        else:
            _LOG.warning("vpcd sent unknown control byte %02X", code)
