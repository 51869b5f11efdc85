"""The host's session on the framed link to the unit (docs/protocol.md §3, §6).

:class:`Link` opens any pyserial URL and does stop-and-wait request/response with sequence
numbers, ACK/NAK, bounded retransmission and timeouts, and queues the unit's unsolicited
event frames. The bytes of a frame are :mod:`drivers.codecs.linkframe`'s job; the command set is
:mod:`drivers.unitproto`'s: the link knows frames, not commands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import serial

from drivers.codecs.linkframe import (
    ERR_BAD_PAYLOAD,
    ERR_UNSUPPORTED,
    ERROR_NAMES,
    MAX_PAYLOAD,
    RESPONSE_BIT,
    T_ACK,
    T_ERROR,
    T_EVENT,
    T_NAK,
    Frame,
    FrameDecoder,
    encode_frame,
)
from drivers.errors import DeviceError, EquipmentError, LinkTimeout, ProtocolError
from drivers.i18n import N_
from drivers.linkstats import LinkStats, ReceivedEvent
from drivers.netport import RECONNECT_S, ServerUnreachable, is_network, open_port, reopen, server_of

_LOG = logging.getLogger(__name__)

_POLL = 0.05  # seconds: read granularity, so close() and deadlines are noticed promptly
_MAX_DROPS = 3  # reconnects within one request before the link is given up as lost
_NAKED = object()  # what one try got: a NAK


class _PortLost(Exception):
    """Internal: the port reported an error (a pty closed, a USB device gone, a serial server hung up)."""


class UnitErrorAnswer(DeviceError):
    """The unit answered ERROR with a code other than "unsupported" or "bad payload" (busy, refused).

    ``code`` and ``text`` are the ERROR frame's, so a caller that knows the command can say more
    than UNIT-FAULT (a refused firmware image names its reason, docs/protocol.md §5b).
    """

    def __init__(self, message: str, *, code: int, text: str, fault_code: str | None = "UNIT-FAULT") -> None:
        super().__init__(message, fault_code=fault_code)
        self.code = code
        self.text = text


class Link:
    """Request/response link to a unit over any pyserial URL.

    Args:
        url: pyserial URL or device path (``/dev/ttyUSB0``, a pty path, ``socket://``,
            ``rfc2217://``, ``loop://``).
        baudrate: line speed (ignored by network and loop URLs).
        timeout: seconds to wait for the first answer (response, ERROR, ACK or NAK) per try;
            an answer whose first bytes came in time is read to its end.
        retries: retransmissions after the first try.
        busy_timeout: seconds to wait for the response once the unit has ACKed (a unit
            ACKs only a command it cannot answer at once; the response stands for the ACK).
        max_payload: largest payload to send or accept; the handshake announces it to the
            unit and lowers it to the unit's maximum (:meth:`drivers.unit.UnitClient.handshake`).
        reconnect_wait: on a network URL (a serial server), seconds to wait for the server to
            take the connection again when it dropped it; the request in flight is then sent
            again (same SEQ: the unit does not execute it twice). Default
            :data:`drivers.netport.RECONNECT_S`. A server still away then is BENCH-NET; a server
            that answers but no longer has the unit's port (the unit's own USB port gone) is the
            unit's doing, as a local port that goes away is (which ends the call at once).
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        timeout: float = 0.5,
        retries: int = 3,
        busy_timeout: float = 10.0,
        max_payload: int = MAX_PAYLOAD,
        reconnect_wait: float | None = None,
    ) -> None:
        self.url = url
        self.reconnect_wait = (RECONNECT_S if is_network(url) else 0.0) if reconnect_wait is None else reconnect_wait
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.busy_timeout = busy_timeout
        self.max_payload = max_payload
        self._log = _LOG.getChild(url)
        self._serial: serial.Serial | None = None
        self._decoder = FrameDecoder(MAX_PAYLOAD)
        self._stats = LinkStats()
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._frames: deque[Frame] = deque()
        self._events: deque[ReceivedEvent] = deque()
        self._last_event: tuple[int, bytes] | None = None
        self._event_index = 0
        self._seq = 0
        self._last_control: bytes | None = None  # the ACK/NAK, when it was the last frame we wrote

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> Self:
        """Open the port (exclusively where the platform supports it).

        Raises:
            EquipmentError: BENCH-PORT when the port does not exist, is busy or the URL is bad;
                BENCH-NET when its serial server cannot be reached (:mod:`drivers.netport`).
        """
        self._serial = self._open_port()
        self._closing.clear()
        self._last_control = None
        self._log.debug("opened at %s baud", self.baudrate)
        return self

    def _open_port(self) -> serial.Serial:
        if is_network(self.url):
            return open_port(self.url, baudrate=self.baudrate, timeout=_POLL)
        try:
            port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=_POLL, write_timeout=2.0, exclusive=True
            )
            port.reset_input_buffer()
        except (serial.SerialException, OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            raise EquipmentError(
                N_("cannot open unit port {url}: {reason}", url=self.url, reason=reason), fault_code="BENCH-PORT"
            ) from exc
        return port

    def _reconnect(self, lost: _PortLost) -> None:
        """A network port dropped: open it again (:func:`drivers.netport.reopen`), or raise."""
        cause = lost.__cause__ if isinstance(lost.__cause__, Exception) else lost
        if self.reconnect_wait <= 0 or self._closing.is_set():
            raise self._lost(cause) from cause
        self._log.info("the serial server %s dropped the link (%s); reconnecting for up to %g s",
                       server_of(self.url), " ".join(str(cause).split()), self.reconnect_wait)
        self._drop_port()
        try:
            port = reopen(self.url, baudrate=self.baudrate, timeout=_POLL, wait=self.reconnect_wait, stop=self._closing)
        except ServerUnreachable:
            raise
        except EquipmentError as exc:  # the server answers, the unit's port behind it is gone: as a local port gone
            raise self._lost(exc) from exc
        if port is None:  # the bench closed the link meanwhile
            raise self._lost(cause) from cause
        self._serial = port
        self._decoder.expire()  # a frame cut by the drop is gone; the unit sends it again when asked
        self._last_control = None
        self._stats.reconnects += 1

    def _drop_port(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:  # closing a dead port
                self._log.debug("close: %s", exc)

    def close(self) -> None:
        """Close the port. Safe from another thread: a blocked call ends with LinkTimeout."""
        self._closing.set()
        acquired = self._lock.acquire(timeout=2.0)
        try:
            if self._serial is not None:
                self._drop_port()
                self._log.debug("closed")
        finally:
            if acquired:
                self._lock.release()

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._serial is not None and not self._closing.is_set()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> LinkStats:
        """A snapshot of the link counters."""
        stats = LinkStats(**self._stats.as_dict())
        stats.crc_errors = self._decoder.crc_errors
        stats.resyncs = self._decoder.resyncs
        stats.garbage_bytes = self._decoder.discarded
        return stats

    # ------------------------------------------------------------------ requests

    def request(
        self,
        command: int,
        payload: bytes = b"",
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        busy_timeout: float | None = None,
    ) -> Frame:
        """Send one command and return its response frame (type ``command | 0x80``).

        Raises:
            LinkTimeout: no answer after every retry, the link was closed meanwhile, or the
                port went away (unit powered off, cable pulled).
            ProtocolError: only garbage came back.
            DeviceError: LINK-NAK-STORM when the unit NAKed most tries; LINK-UNSUPPORTED
                when the unit answered "unsupported command"; UNIT-FAULT for its other errors.
            EquipmentError: the link is not open.
        """
        label = name or f"0x{command:02X}"
        started = time.monotonic()
        error: BaseException | None = None
        try:
            with self._lock:
                return self._request(command, payload, label, timeout, retries, busy_timeout)
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._log.debug(
                "%s (%d bytes) -> %s in %.1f ms",
                label,
                len(payload),
                "ok" if error is None else f"{type(error).__name__}: {error}",
                (time.monotonic() - started) * 1000,
            )

    def _request(
        self,
        command: int,
        payload: bytes,
        label: str,
        timeout: float | None,
        retries: int | None,
        busy_timeout: float | None,
    ) -> Frame:
        self._require_open()
        if len(payload) > self.max_payload:
            raise ValueError(f"{label}: payload of {len(payload)} bytes exceeds {self.max_payload}")
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        busy_timeout = self.busy_timeout if busy_timeout is None else busy_timeout
        self._seq = (self._seq + 1) & 0xFF
        seq = self._seq
        frame = encode_frame(seq, command, payload)
        self._stats.requests += 1
        tries = naks = drops = 0
        valid_before = self._decoder.frames
        garbage_before = self._decoder.discarded + self._decoder.crc_errors
        while tries <= retries:
            if tries:
                self._stats.retransmissions += 1
                self._log.debug("%s seq=%d: retransmission %d", label, seq, tries)
            tries += 1
            try:
                answer = self._try(frame, seq, command, timeout, busy_timeout, label)
            except _PortLost as lost:
                drops += 1
                if drops > _MAX_DROPS:  # a server that takes the connection and drops it again at once
                    raise self._lost(lost) from lost
                self._reconnect(lost)
                tries -= 1  # the server's drop, not the unit's silence: that try does not count
                continue
            if answer is _NAKED:
                self._stats.naks_received += 1
                naks += 1
            elif isinstance(answer, Frame):
                return answer
        if naks * 2 > tries:
            raise DeviceError(
                N_("the unit rejects what the bench sends on its diagnostic port"),
                fault_code="LINK-NAK-STORM",
                detail=f"{label}: unit on {self.url} rejected {naks} of {tries} tries (NAK storm)",
            )
        got_valid = self._decoder.frames > valid_before
        got_garbage = self._decoder.discarded + self._decoder.crc_errors > garbage_before
        if got_garbage and not got_valid:
            raise ProtocolError(N_("the unit answers garbage on its diagnostic port"),
                                detail=f"{label}: unit on {self.url} answered only garbage ({tries} tries)")
        raise LinkTimeout(N_("the unit stopped answering on its diagnostic port"),
                          detail=f"{label}: no answer from unit on {self.url} after {tries} tries of {timeout:g} s")

    def _try(self, frame: bytes, seq: int, command: int, timeout: float, busy_timeout: float,
             label: str) -> Frame | object | None:
        """Send the request once; its response, :data:`_NAKED`, or None when no answer came in time.

        Raises:
            _PortLost: the port reported an error.
            DeviceError: the unit answered ERROR.
        """
        self._write(frame)
        self._last_control = None
        # The timeout counts once the request is on the line: flush() may return while it is
        # still going out (a pty, a USB adapter's FIFO), and at a low baud rate that matters.
        deadline = time.monotonic() + timeout + len(frame) * 10 / self.baudrate
        while True:
            answer = self._next_frame(deadline, label)
            if answer is None:
                self._stats.timeouts += 1
                return None
            if answer.type == T_NAK:
                return _NAKED
            if answer.seq != seq:
                continue  # stale answer to an earlier request, or our own echo
            if answer.type == T_ACK:  # a slow command: the response comes later
                deadline = time.monotonic() + busy_timeout
            elif answer.type == command | RESPONSE_BIT:  # with or without an ACK before it
                return answer
            elif answer.type == T_ERROR:
                raise self._unit_error(label, answer)

    @staticmethod
    def _unit_error(label: str, frame: Frame) -> DeviceError:
        code = frame.payload[1] if len(frame.payload) > 1 else 0
        text = ""
        if len(frame.payload) > 2:
            text = frame.payload[3 : 3 + frame.payload[2]].decode("utf-8", "replace")
        what = ERROR_NAMES.get(code, f"error 0x{code:02X}")
        message = (N_("{label}: unit answered {what}: {text}", label=label, what=what, text=text) if text
                   else N_("{label}: unit answered {what}", label=label, what=what))
        if code == ERR_UNSUPPORTED:
            return DeviceError(message, fault_code="LINK-UNSUPPORTED")
        if code == ERR_BAD_PAYLOAD:
            return ProtocolError(message)
        return UnitErrorAnswer(message, code=code, text=text)

    # ------------------------------------------------------------------ events

    def next_event(
        self, timeout: float, match: Callable[[bytes], bool] | None = None
    ) -> ReceivedEvent | None:
        """Return the next queued event (the first one ``match`` accepts), or None after ``timeout``.

        Events the predicate rejects stay queued.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._require_open()
            while True:
                for event in self._events:
                    if match is None or match(event.payload):
                        self._events.remove(event)
                        return event
                if not self._pump_or_reconnect(deadline, "next_event"):
                    return None
                self._frames.clear()  # no request in flight: any answer is stale

    def pending_events(self) -> list[ReceivedEvent]:
        """The events received and not yet taken, oldest first (the queue is not changed)."""
        return list(self._events)

    def poll(self) -> None:
        """Read whatever the unit sent already (queues events, answers them with ACK)."""
        with self._lock:
            self._require_open()
            self._pump_or_reconnect(time.monotonic(), "poll")
            self._frames.clear()

    # ------------------------------------------------------------------ I/O

    def _require_open(self) -> None:
        if self._serial is None or self._closing.is_set():
            raise EquipmentError(N_("unit link {url} is closed", url=self.url), fault_code="BENCH-ERROR")

    def _lost(self, exc: Exception) -> LinkTimeout:
        reason = " ".join(str(exc).split())
        return LinkTimeout(N_("the unit's diagnostic port went away (unit powered off or cable pulled)"),
                           detail=f"link to unit on {self.url} lost: {reason}")

    def _write(self, data: bytes) -> None:
        port = self._serial
        if port is None or self._closing.is_set():
            raise LinkTimeout(N_("the bench closed its link to the unit"), detail=f"link to {self.url} closed while sending")
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise _PortLost(str(exc)) from exc
        self._stats.frames_sent += 1

    def _pump_or_reconnect(self, deadline: float, label: str) -> bool:
        """:meth:`_pump`, outside a request: a network port that dropped is reconnected (bounded)."""
        drops = 0
        while True:
            try:
                return self._pump(deadline, label)
            except _PortLost as lost:
                drops += 1
                if drops > _MAX_DROPS:
                    raise self._lost(lost) from lost
                self._reconnect(lost)

    def _next_frame(self, deadline: float, label: str) -> Frame | None:
        while not self._frames:
            if not self._pump(deadline, label):
                return None
        return self._frames.popleft()

    def _pump(self, deadline: float, label: str) -> bool:
        """Read once (at most one poll interval); return False when the deadline passed."""
        port = self._serial
        if port is None or self._closing.is_set():
            raise LinkTimeout(N_("the bench closed its link to the unit"),
                              detail=f"{label}: link to {self.url} closed while waiting for the unit")
        try:
            waiting = port.in_waiting
            if time.monotonic() >= deadline and not waiting and not self._decoder.pending:
                # A frame that started arriving in time is read to its end (or until the line
                # goes idle and the decoder drops it): at a low baud rate a long response takes
                # longer on the wire than the first-answer timeout, with or without an ACK.
                return False
            data = port.read(waiting or 1)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            if self._closing.is_set():
                raise LinkTimeout(N_("the bench closed its link to the unit"),
                              detail=f"{label}: link to {self.url} closed while waiting for the unit") from exc
            raise _PortLost(str(exc)) from exc
        lost_before = self._decoder.crc_errors + self._decoder.discarded
        if data:
            frames = self._decoder.feed(data)
        elif self._decoder.pending:
            frames = self._decoder.expire()  # idle line with a partial frame: resync
        else:
            frames = []
        if self._decoder.crc_errors + self._decoder.discarded > lost_before:
            # A frame was damaged or lost: ask the unit to send its last frame again.
            self._send_control(T_NAK, 0)
            self._stats.naks_sent += 1
        for frame in frames:
            self._stats.frames_received += 1
            if frame.type == T_EVENT:
                self._accept_event(frame)
            elif frame.type == T_NAK and self._last_control is not None:
                # The unit got our last frame damaged, and that was an ACK or NAK, not the
                # request: send it again now (a lost event ACK would stall the unit's events).
                self._stats.naks_received += 1
                self._write(self._last_control)
            else:
                self._frames.append(frame)
        return True

    def _send_control(self, ftype: int, seq: int) -> None:
        frame = encode_frame(seq, ftype)
        self._write(frame)
        self._last_control = frame

    def _accept_event(self, frame: Frame) -> None:
        self._send_control(T_ACK, frame.seq)
        key = (frame.seq, frame.payload)
        if key == self._last_event:
            self._log.debug("duplicate event seq=%d dropped", frame.seq)
            return
        if self._last_event is not None and frame.seq != 0:  # SEQ 0 is a new boot's first event
            gap = (frame.seq - self._last_event[0] - 1) & 0xFF
            if gap:
                self._stats.events_missed += gap
                self._log.info("%d event(s) from the unit never arrived (SEQ %d after %d)",
                               gap, frame.seq, self._last_event[0])
        self._last_event = key
        self._event_index += 1
        self._stats.events += 1
        self._events.append(ReceivedEvent(frame.seq, frame.payload, time.monotonic(), self._event_index))
        # Kind and length only: an event's payload can be card data (a magstripe swipe).
        self._log.debug("event seq=%d kind=%s (%d bytes)", frame.seq, frame.payload[:1].hex(), len(frame.payload))


def open_link(url: str, **options: Any) -> Link:
    """Open a :class:`Link` on ``url`` (options as for :class:`Link`)."""
    return Link(url, **options).open()
