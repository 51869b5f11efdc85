"""A unit's port on the network: a serial server (ser2net, a Moxa NPort...) reached by URL.

``rfc2217://host:port`` is the serial server's Telnet COM-port control (RFC 2217) and
``socket://host:port`` its raw TCP mode; any other URL is a local port. This module opens a
network port the way :class:`drivers.link.Link` needs it, and says in one line why one did not
open: the server could not be reached (BENCH-NET), or it answered but would not give the port
(BENCH-PORT, with what the server said, e.g. ser2net's "Port already in use").

pyserial's RFC 2217 client needs three adjustments, made here: it refuses a write timeout;
it waits for the server to confirm DTR/RTS, which a server in front of a port without modem
lines (a pty, many USB adapters) answers differently or not at all, so ``ign_set_control`` is
added (the link protocol uses no modem line); and its reader thread dies with a traceback on
stderr when the server hangs up during the Telnet negotiation, so that thread's writes end
quietly instead (the failed open still says why).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast
from urllib.parse import urlsplit

import serial
from serial import rfc2217

from drivers.errors import EquipmentError
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: URL schemes whose port is reached over the network.
NETWORK_SCHEMES = ("rfc2217", "socket")
#: Seconds a link waits for a serial server that dropped the connection to take it again.
RECONNECT_S = 5.0


class ServerUnreachable(EquipmentError):
    """BENCH-NET: the serial server ``server`` (``host:port``) did not take the connection; ``reason`` says why."""

    def __init__(self, message: str, *, server: str, reason: str) -> None:
        super().__init__(message, fault_code="BENCH-NET")
        self.server = server
        self.reason = reason


def is_network(url: str) -> bool:
    """True for a port reached over the network (``rfc2217://``, ``socket://``)."""
    return url.split("://", 1)[0].lower() in NETWORK_SCHEMES if "://" in url else False


def server_of(url: str) -> str:
    """``host:port`` of a network port's URL (the URL itself when it has none)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}" if parts.hostname and parts.port else url
    except ValueError:
        return url


def open_port(url: str, *, baudrate: int, timeout: float) -> serial.Serial:
    """Open the network port ``url`` (as :func:`serial.serial_for_url` would, with the adjustments above).

    Raises:
        EquipmentError: BENCH-NET when the server cannot be reached, BENCH-PORT when it refused
            the port (or the URL is bad).
    """
    try:
        if url.lower().startswith("rfc2217://"):
            port: Any = _Rfc2217(None, baudrate=baudrate, timeout=timeout)
            port.port = _with_option(url, "ign_set_control")
            port.open()
        else:
            port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=2.0)
        port.reset_input_buffer()
    except (serial.SerialException, OSError, ValueError) as exc:
        raise open_error(url, exc) from exc
    return cast("serial.Serial", port)


def reopen(url: str, *, baudrate: int, timeout: float, wait: float, stop: threading.Event) -> serial.Serial | None:
    """Open a network port that dropped again, trying for up to ``wait`` seconds; None once ``stop`` is set.

    Raises:
        EquipmentError: the server did not take the connection again in time (the last try's
            error, saying so).
    """
    started = time.monotonic()
    while True:
        try:
            port = open_port(url, baudrate=baudrate, timeout=timeout)
        except EquipmentError as exc:
            waited = time.monotonic() - started
            if stop.is_set():
                return None
            if waited >= wait:
                message = N_("{error} (the link dropped and was not back within {seconds} s)",
                             error=exc.message, seconds=round(waited))
                if isinstance(exc, ServerUnreachable):
                    raise ServerUnreachable(message, server=exc.server, reason=exc.reason) from exc
                raise EquipmentError(message, fault_code=exc.fault_code) from exc
            stop.wait(0.2)
            continue
        if stop.is_set():
            port.close()
            return None
        _LOG.info("reconnected to the serial server %s after %.1f s", server_of(url), time.monotonic() - started)
        return port


def open_error(url: str, exc: BaseException) -> EquipmentError:
    """The one-line error for a network port that did not open."""
    server = server_of(url)
    context = exc.__context__
    if isinstance(exc, serial.SerialException) and isinstance(context, OSError) and not isinstance(
            context, BrokenPipeError | ConnectionResetError):
        why = _reason(context)
        return ServerUnreachable(N_("cannot reach the serial server {server} of unit port {url}: {reason}",
                                    server=server, url=url, reason=why), server=server, reason=why)
    said = getattr(exc, "server_said", "")
    reason: str = N_("it says {said!r}", said=said) if said else _reason(exc)
    return EquipmentError(N_("the serial server {server} would not give unit port {url}: {reason}",
                             server=server, url=url, reason=reason), fault_code="BENCH-PORT")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return " ".join(str(exc).split()) or type(exc).__name__


def _with_option(url: str, option: str) -> str:
    query = urlsplit(url).query
    if option in query.split("&"):
        return url
    return f"{url}{'&' if query else '?'}{option}"


class _Rfc2217(rfc2217.Serial):
    """pyserial's RFC 2217 client, quiet when the server hangs up, and telling what it said before it did."""

    def open(self) -> None:
        try:
            super().open()
        except (serial.SerialException, OSError) as exc:
            said = self._server_text()
            if said:
                exc.server_said = said  # type: ignore[attr-defined]
            raise

    def _internal_raw_write(self, data: bytes) -> None:
        try:
            super()._internal_raw_write(data)  # type: ignore[misc]
        except OSError as exc:
            if threading.current_thread() is not getattr(self, "_thread", None):
                raise
            # The reader thread answered an option on a connection the server closed: the read
            # ends it (its end of file), and the caller sees the link go away.
            _LOG.debug("serial server %s hung up: %s", server_of(str(self.portstr)), exc)

    def _server_text(self) -> str:
        """What the server wrote as plain text before it hung up (ser2net's "Port already in use")."""
        buffer = getattr(self, "_read_buffer", None)
        if buffer is None:
            return ""
        data = bytearray()
        while not buffer.empty():
            item = buffer.get_nowait()
            if item is not None:
                data += item
        return " ".join(data.decode("utf-8", "replace").split())[:200]
