"""Benchmark 7: the bench acquirer host's authorisations per second and round trip, vs a bare pyiso8583 loop.

One client on localhost sends ``N`` authorisations (0100) one after another on one TCP
connection, each framed by a 2-byte length, and waits for each answer (0110).
Ours: :class:`drivers.acquirer.AcquirerHost` with a behaviour file of three rules that do not
match (so every request is checked, matched against every rule, approved, masked and recorded).
Floor: the same asyncio stream server on its own thread, same framing and same client, that only
decodes the request with pyiso8583 and encodes a 0110 with 39=00 (no checks, no records).
Figures per repetition: transactions per second, and p50 / p99 round trip; the bench-side
overhead is ours minus the floor. Targets (issue 15): ≥ 50 tx/s per unit, p99 overhead ≤ 2 ms.
Not wired into run_all yet. ``python -m benchmarks.bench_host [--reps N] [--n N]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import threading
import time
from collections.abc import Callable

import iso8583
from iso8583.specs import default_ascii

from benchmarks.common import Row, Series, cli
from drivers.acquirer import AcquirerHost, parse_behaviours_text

N = int(os.environ.get("BENCH_HOST_N", "2000"))
RULES = """
rules:
  - card: "999999"
    answer: decline
    code: "51"
  - amount: 99999999
    answer: never
  - nth: 999999
    answer: close
"""


def _auth(stan: int) -> bytes:
    fields = {"t": "0100", "2": "4761739001010010", "3": "000000", "4": f"{1000 + stan % 1000:012d}",
              "7": "1207012345", "11": f"{stan % 1000000:06d}", "12": "012345", "13": "1207", "22": "051",
              "41": "TERM0001", "42": "MERCHANT0000001", "49": "978"}
    raw, _ = iso8583.encode(fields, default_ascii)
    return len(raw).to_bytes(2, "big") + bytes(raw)


class _Floor:
    """The bare loop: asyncio streams, decode, encode an approval."""

    def __init__(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        self.address = sock.getsockname()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sock, ready), daemon=True)
        self._thread.start()
        ready.wait()

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    fields, _ = iso8583.decode(await reader.readexactly(size), default_ascii)
                    out = {"t": "0110", "11": fields["11"], "39": "00"}
                    raw, _ = iso8583.encode(out, default_ascii)
                    writer.write(len(raw).to_bytes(2, "big") + bytes(raw))
                    await writer.drain()
            writer.close()

        async def main() -> None:
            self._stopping = asyncio.Event()
            server = await asyncio.start_server(serve, sock=sock)
            ready.set()
            await self._stopping.wait()
            server.close()

        self._loop.run_until_complete(main())
        self._loop.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()


def _client(address: tuple[str, int], n: int, first: int = 1) -> tuple[float, list[float]]:
    """(seconds for n authorisations, STANs from ``first``, each round trip in ms)."""
    frames = [_auth(first + i) for i in range(n)]
    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        trips = []
        start = time.perf_counter()
        for data in frames:
            t0 = time.perf_counter()
            sock.sendall(data)
            header = b""
            while len(header) < 2:
                header += sock.recv(2 - len(header))
            size, body = int.from_bytes(header, "big"), b""
            while len(body) < size:
                body += sock.recv(size - len(body))
            trips.append((time.perf_counter() - t0) * 1000)
        return time.perf_counter() - start, trips


def _measure(start: Callable[[], tuple[tuple[str, int], Callable[[], None]]], reps: int, n: int
             ) -> tuple[list[float], list[float], list[float]]:
    rates, p50s, p99s = [], [], []
    for _ in range(reps):
        address, stop = start()
        try:
            _client(address, 200, first=900000)  # warm-up, own connection, its own STANs
            seconds, trips = _client(address, n)
        finally:
            stop()
        rates.append(n / seconds)
        p50s.append(statistics.median(trips))
        p99s.append(statistics.quantiles(trips, n=100)[98])
    return rates, p50s, p99s


def _ours() -> tuple[tuple[str, int], Callable[[], None]]:
    host = AcquirerHost(parse_behaviours_text(RULES)).start()
    return host.address, host.stop


def _floor() -> tuple[tuple[str, int], Callable[[], None]]:
    floor = _Floor()
    return floor.address, floor.stop


def run(reps: int) -> list[Row]:
    ours = _measure(_ours, reps, N)
    ref = _measure(_floor, reps, N)
    rate, rate_ref = Series("tx/s", ours[0]), Series("tx/s", ref[0])
    p99, p99_ref = Series("ms", ours[2]), Series("ms", ref[2])
    p50, p50_ref = Series("ms", ours[1]), Series("ms", ref[1])
    overhead = p99.median - p99_ref.median
    what = f"{N} authorisations 0100/0110, one client, localhost TCP, 2-byte framing"
    return [
        Row("7", f"bench host: {what}: throughput", rate, rate_ref, "bare pyiso8583 loop", rate.median / rate_ref.median,
            "ours/floor", "≥ 50 tx/s per unit", rate.median >= 50),
        Row("7", f"bench host: {what}: p99 round trip", p99, p99_ref, "bare pyiso8583 loop",
            p99.median / p99_ref.median, "ours/floor", "p99 overhead ≤ 2 ms", overhead <= 2.0,
            note=f"p99 overhead (ours - floor, medians) {overhead:.3f} ms; p50 ours {p50.median:.3f} ms, "
                 f"floor {p50_ref.median:.3f} ms (overhead {p50.median - p50_ref.median:.3f} ms)"),
    ]


def main() -> None:
    cli("Benchmark 7: bench acquirer host vs a bare pyiso8583 loop", run, default_reps=3)


if __name__ == "__main__":
    main()
