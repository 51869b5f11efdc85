"""Benchmark 12: the fleet dashboard (``bench serve``) under 20 clients while 16 benches write runs.

A fresh PostgreSQL cluster (tests/pgcluster.py) holds a fleet's store (tests/fleetdata.py: 2,000
runs over ten days, benches, a lot). ``bench serve`` runs as a user starts it (its own process,
default settings). 16 writer processes act as benches: each writes runs of 20 steps through the
store's API as the runner does (start, a committed step every 0.25 s, finish). 20 clients
(threads in this process, ``http.client``, keep-alive), each with the live stream (``/events``) open
as a browser has it, load the dashboard's pages in turn: overview, a bench, a model, a unit, a run
and its report, the lots, a search. The figure is the p95 of every page's time (request sent to
last byte) over a 15-second window, with each client pausing 0.5 s between pages (people, and
screens on live refresh, ask far less often); then the same 20 clients asking back to back, which
is what the dashboard serves at most. The reference is the same pages from one client alone.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import uuid

from benchmarks.common import ROOT, Row, Series, cli, percentile95

sys.path.append(str(ROOT / "tests"))

CLIENTS = 20
BENCHES = 16
WINDOW_S = 15.0
STEP_EVERY_S = 0.25
THINK_S = 0.5
FLEET_RUNS = 2000

_WRITER = textwrap.dedent(
    """
    import sys, time
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    sys.path.append(sys.argv[3])
    import fleetdata
    from bench.record import UnitInfo
    from bench.store.engine import Store

    url, bench, pace, stop = sys.argv[1], sys.argv[2], float(sys.argv[4]), float(sys.argv[5])
    store = Store.open(url)
    print("up", flush=True)
    n = steps = 0
    while time.time() < stop:
        now = datetime.now(UTC)
        rec = fleetdata.make_run(station=bench, model="PT-500", serial=f"W-{bench}-{n:05d}", started=now,
                                 fault="ICC-NO-ATR" if n % 7 == 3 else None)
        store.start_run(rec)
        store.set_unit(rec.run_id, UnitInfo("PT-500", rec.unit.serial))
        for i in range(20):
            step = rec.steps[i % len(rec.steps)]
            store.add_step(rec.run_id, replace(step, index=i, name=f"s{i}", started_at=datetime.now(UTC)))
            steps += 1
            time.sleep(pace)
        store.finish_run(rec.run_id, rec.verdict, datetime.now(UTC), rec.summary, rec.findings)
        n += 1
    print(n, steps, flush=True)
    """
)


def _pages(written: object) -> list[str]:
    serial = written.serials[1]  # type: ignore[attr-defined]
    run_id = written.running_id  # type: ignore[attr-defined]
    return ["/", "/benches/bench-1", "/models/PT-300", f"/units/{serial}", f"/runs/{run_id}",
            f"/runs/{run_id}/report", "/lots", "/search?q=SN001"]


def _client(port: int, pages: list[str], stop: float, times: list[float], errors: list[str], think: float) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    events = socket.create_connection(("127.0.0.1", port))
    events.sendall(b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    i = 0
    while time.monotonic() < stop:
        if i and think:
            time.sleep(think)
        page = pages[i % len(pages)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", page)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{page}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status not in (200, 303):
            errors.append(f"{page}: HTTP {resp.status}")
    conn.close()
    events.close()


def _load(port: int, pages: list[str], clients: int, seconds: float, think: float = 0.0
          ) -> tuple[list[float], list[str]]:
    times: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(port, pages[k % len(pages):] + pages[:k % len(pages)], stop,
                                                       times, errors, think)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors




def run(reps: int) -> list[Row]:
    import fleetdata
    from pgcluster import create_database, start_pg_cluster

    from bench.store.engine import Store

    loaded: list[float] = []
    alone: list[float] = []
    busy: list[float] = []
    rates: list[float] = []
    notes: list[str] = []
    with start_pg_cluster(max_connections=200) as pg:
        url = create_database(pg, f"dash_{uuid.uuid4().hex[:8]}")
        t0 = time.monotonic()
        with Store.open(url) as store:
            written = fleetdata.fill(store, FLEET_RUNS)
        notes.append(f"store filled with {FLEET_RUNS} runs in {time.monotonic() - t0:.0f} s")
        serve = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--db", url, "--port", "0", "--json"],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert serve.stdout is not None
            port = int(json.loads(serve.stdout.readline())["port"])
            pages = _pages(written)
            _load(port, pages, 1, 2.0)  # warm-up: imports, templates, connections
            for _ in range(reps):
                times, errors = _load(port, pages, 1, WINDOW_S / 3)
                assert not errors, errors[:3]
                alone.append(percentile95(times))
                stop = time.time() + 2 * WINDOW_S + 4  # writing through both windows
                writers = [subprocess.Popen([sys.executable, "-c", _WRITER, url, f"bench-w{b}", str(ROOT / "tests"),
                                             str(STEP_EVERY_S), str(stop)], cwd=ROOT, stdout=subprocess.PIPE,
                                            text=True) for b in range(BENCHES)]
                for w in writers:  # every bench started (imports, connection) and writing
                    assert w.stdout is not None and w.stdout.readline().strip() == "up"
                times, errors = _load(port, pages, CLIENTS, WINDOW_S, THINK_S)
                assert not errors, errors[:3]
                loaded.append(percentile95(times))
                notes.append(f"{len(times)} pages, median {statistics.median(times):.1f} ms")
                times, errors = _load(port, pages, CLIENTS, WINDOW_S)
                assert not errors, errors[:3]
                busy.append(percentile95(times))
                rates.append(len(times) / WINDOW_S)
                wrote = [w.communicate(timeout=120)[0].split()[-2:] for w in writers]
                assert all(w.returncode == 0 for w in writers), "a writer failed"
                steps = sum(int(s) for _, s in wrote)
                notes.append(f"back to back: median {statistics.median(times):.0f} ms; benches wrote "
                             f"{sum(int(n) for n, _ in wrote)} runs, {steps} steps ({steps / (2 * WINDOW_S + 4):.0f} steps/s)")
        finally:
            serve.terminate()
            serve.wait(30)
    ours, ref, sat = Series("ms", loaded), Series("ms", alone), Series("ms", busy)
    what = (f"`bench serve` on PostgreSQL: p95 page time, {CLIENTS} clients (live stream open, {THINK_S} s between "
            f"pages) while {BENCHES} benches write runs (a step every {STEP_EVERY_S} s each)")
    return [
        Row("12", what, ours, ref, "one client alone", ours.median / ref.median, "loaded/alone",
            "p95 ≤ 100 ms", ours.median <= 100, note="; ".join(notes)),
        Row("12", f"`bench serve`: p95 page time, the {CLIENTS} clients back to back (saturated) while the benches write",
            sat, ref, "one client alone", sat.median / ref.median, "saturated/alone", "reported", None),
        Row("12", "`bench serve`: pages answered per second, saturated, while the benches write",
            Series("pages/s", rates), None, "", None, "", "reported", None),
    ]


def main() -> None:
    cli("Benchmark 12: the fleet dashboard under 20 clients while 16 benches write", run, default_reps=3)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
