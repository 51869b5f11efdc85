"""The bench acquirer host: a TCP server answering ISO 8583 authorisations, reversals and echoes.

One asyncio loop on its own thread serves every connection (a multi-up station: one unit per
slot, up to ``max_connections`` at once). Each request is decoded (:mod:`.wire`), checked
(:mod:`.checks`), answered per its behaviour (:mod:`.behaviours`) and kept as masked
:class:`~drivers.acquirer.records.Exchange` records, with the findings, for the run's evidence.

Bad bytes never stop the server: a length of 0 or over the bound, or a frame cut short or
stalled, is a finding and that connection is closed (the stream is out of step); a well-framed
message that does not decode is a finding and is answered 39=30 (format error) when its MTI
is one the host answers, else the connection is closed; an unknown MTI likewise closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from drivers.acquirer import wire
from drivers.acquirer.behaviours import Behaviour, Behaviours
from drivers.acquirer.checks import Finding, Session
from drivers.acquirer.records import Exchange
from drivers.codecs.pan import redact
from drivers.errors import EquipmentError
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

#: The fields an answer carries over from its request.
_ECHO = {"0110": ("3", "4", "7", "11", "12", "13", "41", "42", "49"),
         "0410": ("3", "4", "7", "11", "41", "42", "49", "90"),
         "0810": ("7", "11", "70")}
#: The body sent by the ``garbage`` behaviour: framed, not ISO 8583.
GARBAGE = b"\x00\xff\x13GARBAGE\x7f\xfe"
_FORMAT_ERROR = Behaviour("decline", "30")


class AcquirerHost:
    """An ISO 8583 host on ``host:port`` (port 0: any free port); :meth:`start`, :meth:`stop`.

    Args:
        behaviours: how to answer (default: approve everything).
        listener: called (on the host's thread) with each :class:`Exchange` as it is recorded.
        finding_listener: called with each :class:`Finding` as it is recorded (:meth:`stop` too).
        max_connections: connections served at once; the next one is a finding and closed.
        frame_timeout: seconds a frame may take to arrive once its length came.
        max_records: exchanges kept (the oldest go first; :attr:`dropped` counts them).
    """

    def __init__(self, behaviours: Behaviours | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 listener: Callable[[Exchange], None] | None = None,
                 finding_listener: Callable[[Finding], None] | None = None, max_connections: int = 64,
                 frame_timeout: float = 10.0, max_records: int = 200_000) -> None:
        self.behaviours = behaviours or Behaviours()
        self._bind = (host, port)
        self._listener = listener
        self._finding_listener = finding_listener
        self._max_connections = max_connections
        self._frame_timeout = frame_timeout
        self._lock = threading.Lock()
        self._exchanges: deque[Exchange] = deque(maxlen=max_records)
        self._findings: list[Finding] = []
        self.dropped = 0
        self._session = Session()
        self._counts: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._rrn = itertools.count(1)
        self._open = 0
        self._address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # one per connection
        self._late: set[asyncio.Task[Any]] = set()  # answers that wait
        self._writers: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------ public API
    def start(self) -> AcquirerHost:
        """Bind and serve; raises :class:`EquipmentError` when the address is taken or not ours."""
        if self._thread is not None:
            return self
        host, port = self._bind
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            sock = socket.socket(infos[0][0], socket.SOCK_STREAM)
        except OSError as exc:
            raise EquipmentError(N_("bench host: cannot listen on {host}:{port}: {value}", host=host, port=port, value=exc.strerror or exc)) from exc
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            why = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise EquipmentError(N_("bench host: cannot listen on {host}:{port}: {why}", host=host, port=port, why=why)) from exc
        self._address = sock.getsockname()[:2]
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sock, ready), name="acquirer-host", daemon=True)
        self._thread.start()
        ready.wait()
        _LOG.info("bench host listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection, and record a finding per missing reversal."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = None
        for code, message, terminal, stan in self._session.missing_reversals():
            self._finding(Finding(code, message, "0100", stan, terminal))

    def missing_reversals(self) -> list[Finding]:
        """The authorisations so far that expect a reversal and have none yet (what :meth:`stop` records)."""
        loop = self._loop
        if self._thread is not None and loop is not None:
            async def ask() -> list[tuple[str, str, str, str]]:
                return self._session.missing_reversals()

            with contextlib.suppress(RuntimeError, TimeoutError):  # the loop stopped meanwhile: read it here
                rows = asyncio.run_coroutine_threadsafe(ask(), loop).result(5.0)
                return [Finding(code, message, "0100", stan, terminal) for code, message, terminal, stan in rows]
        return [Finding(code, message, "0100", stan, terminal)
                for code, message, terminal, stan in self._session.missing_reversals()]

    def __enter__(self) -> AcquirerHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) it listens on, once started."""
        if self._address is None:
            raise RuntimeError("the host is not started")
        return self._address

    @property
    def url(self) -> str:
        """``tcp://HOST:PORT``, for a station file's ``host =``."""
        host, port = self.address
        return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"

    def exchanges(self) -> list[Exchange]:
        """Every message handled so far (masked), oldest first."""
        with self._lock:
            return list(self._exchanges)

    def findings(self) -> list[Finding]:
        """Every finding so far (after :meth:`stop`: the missing reversals too)."""
        with self._lock:
            return list(self._findings)

    # ------------------------------------------------------------------ the loop
    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(sock, ready))
        finally:
            ready.set()
            loop.close()

    async def _main(self, sock: socket.socket, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, sock=sock)
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(self._late):
                task.cancel()
            for writer in list(self._writers):  # each connection reads its end and finishes
                writer.close()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=5.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        cid = next(self._ids)
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        self._open += 1
        self._writers.add(writer)
        try:
            if self._open > self._max_connections:
                self._finding(Finding("ISO-CONN-LIMIT", f"more than {self._max_connections} connections at once; "
                                      "this one was closed", peer=peer))
                return
            while await self._one_frame(reader, writer, cid, peer):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._open -= 1
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _one_frame(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cid: int,
                         peer: str) -> bool:
        """Read and handle one frame; False when the connection is done."""
        try:
            header = await reader.readexactly(2)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self._finding(Finding("ISO-FRAME-SHORT", "the connection ended inside a frame's length", peer=peer))
            return False
        size = wire.frame_length(header)
        if not 0 < size <= wire.MAX_FRAME:
            self._finding(Finding("ISO-FRAME-LENGTH", f"a frame announced {size} bytes (1-{wire.MAX_FRAME} "
                                  "expected); connection closed", peer=peer))
            return False
        try:
            body = await asyncio.wait_for(reader.readexactly(size), self._frame_timeout)
        except asyncio.IncompleteReadError as exc:
            self._finding(Finding("ISO-FRAME-SHORT", f"a frame announced {size} bytes and the connection ended "
                                  f"after {len(exc.partial)}", peer=peer))
            return False
        except TimeoutError:
            self._finding(Finding("ISO-FRAME-SHORT", f"a frame announced {size} bytes and stalled for "
                                  f"{self._frame_timeout:g} s; connection closed", peer=peer))
            return False
        return await self._handle(body, writer, cid, peer, time.perf_counter())

    async def _handle(self, body: bytes, writer: asyncio.StreamWriter, cid: int, peer: str, t0: float) -> bool:
        try:
            fields = wire.decode(body)
        except wire.DecodeError as exc:
            partial = {k: v for k, v in exc.doc_dec.items() if k != exc.field}
            mti = partial.get("t", "")
            self._record_in(cid, peer, partial, [("ISO-MALFORMED", f"message does not decode: {exc}")],
                            _FORMAT_ERROR.describe() if mti in wire.ANSWERS else "close")
            if mti not in wire.ANSWERS:
                return False
            await self._answer(writer, cid, peer, partial, "30", t0)
            return True
        mti = fields["t"]
        if mti not in wire.ANSWERS:
            self._record_in(cid, peer, fields, [("ISO-MTI-UNKNOWN", f"message type {mti!r} is not one the host "
                                                 "answers; connection closed")], "close")
            return False
        found, missing, reverses = self._session.check(fields)
        if missing:
            behaviour = _FORMAT_ERROR
        else:
            self._counts[mti] = nth = self._counts.get(mti, 0) + 1
            amount = fields.get("4", "")
            behaviour = self.behaviours.choose(mti, wire.pan_prefix(fields), wire.aid(fields),
                                               int(amount) if amount.isascii() and amount.isdigit() else None, nth)
        if mti == "0100" and not missing:
            self._session.note_auth(fields, behaviour.describe(), behaviour.expect_reversal)
        self._record_in(cid, peer, fields, found, behaviour.describe(), reverses)
        return await self._act(behaviour, writer, cid, peer, fields, t0)

    async def _act(self, behaviour: Behaviour, writer: asyncio.StreamWriter, cid: int, peer: str,
                   fields: dict[str, str], t0: float) -> bool:
        answer = behaviour.answer
        if answer in ("approve", "decline"):
            await self._answer(writer, cid, peer, fields, behaviour.code, t0)
        elif answer == "late":
            task = asyncio.create_task(self._answer_late(behaviour, writer, cid, peer, fields, t0))
            self._late.add(task)
            task.add_done_callback(self._late.discard)
        elif answer == "garbage":
            self._record(Exchange(time.time(), "out", cid, peer, "", {}, "garbage",
                                  latency_ms=(time.perf_counter() - t0) * 1000))
            writer.write(wire.frame(GARBAGE))
            await writer.drain()
        elif answer == "close":
            return False
        return True  # never: no answer, the connection stays

    async def _answer_late(self, behaviour: Behaviour, writer: asyncio.StreamWriter, cid: int, peer: str,
                    fields: dict[str, str], t0: float) -> None:
        await asyncio.sleep(behaviour.delay)
        if not writer.is_closing():
            with contextlib.suppress(ConnectionError, OSError):
                await self._answer(writer, cid, peer, fields, behaviour.code, t0)

    async def _answer(self, writer: asyncio.StreamWriter, cid: int, peer: str, fields: dict[str, str], code: str,
                      t0: float) -> None:
        out = answer_fields(fields, code, next(self._rrn))
        try:
            body = wire.encode(out)
        except wire.EncodeError:  # a field of a malformed request we cannot echo
            out = {"t": out["t"], "39": code}
            body = wire.encode(out)
        data = wire.frame(body)
        # Recorded before it is written: once the unit has the answer, the evidence has it too.
        self._record(Exchange(time.time(), "out", cid, peer, out["t"], wire.masked(out),
                              latency_ms=(time.perf_counter() - t0) * 1000))
        writer.write(data)
        await writer.drain()

    # ------------------------------------------------------------------ evidence
    def _record_in(self, cid: int, peer: str, fields: dict[str, str], found: list[tuple[str, str]],
                   behaviour: str, reverses: str = "") -> None:
        mti = fields.get("t", "")
        terminal, stan = redact(fields.get("41", "")), fields.get("11", "")
        self._record(Exchange(time.time(), "in", cid, peer, mti, wire.masked(fields), behaviour,
                              tuple(code for code, _ in found), reverses=reverses))
        for code, message in found:
            self._finding(Finding(code, redact(message), mti, redact(stan), terminal, peer))

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            if len(self._exchanges) == self._exchanges.maxlen:
                self.dropped += 1
            self._exchanges.append(exchange)
        if _LOG.isEnabledFor(logging.INFO):
            _LOG.info("%s", exchange.line())
        if self._listener is not None:
            try:
                self._listener(exchange)
            except Exception:  # the listener's trouble is not the unit's
                _LOG.exception("bench host listener failed")

    def _finding(self, finding: Finding) -> None:
        with self._lock:
            self._findings.append(finding)
        _LOG.info("bench host finding %s: %s", finding.code, finding.message)
        if self._finding_listener is not None:
            try:
                self._finding_listener(finding)
            except Exception:
                _LOG.exception("bench host listener failed")


def answer_fields(request: dict[str, str], code: str, rrn: int) -> dict[str, str]:
    """The answer to ``request``: its answer MTI, the echoed fields, 39 = ``code``; 37 and 38 on a 0110."""
    mti = wire.ANSWERS[request["t"]]
    out = {"t": mti}
    for key in _ECHO[mti]:
        if request.get(key):
            out[key] = request[key]
    if mti == "0110":
        out["37"] = f"{rrn % 10**12:012d}"
        if code == "00":
            out["38"] = f"A{rrn % 10**5:05d}"
    out["39"] = code
    return out
