"""How many vpcd slots pcscd serves, how long it takes to start with them, and what pcsc_scan makes of them.

``sudo python -m benchmarks.pcscd_slots``: for 2, 4, 8, 14, 16, 18 and 20 configured slots,
the readers pcscd lists, the time from its start until it lists them all (median of 7), and
whether ``pcsc_scan`` can watch them. It runs in a mount and network namespace of its own
(``unshare``: a private ``/run/pcscd`` and loopback), so the machine's pcscd and the benches
using it are left alone. Root only (pcscd and unshare are).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLOTS = (2, 4, 8, 14, 16, 18, 20)
REPEATS = 7
_INSIDE = "BENCH_PCSCD_SLOTS_NS"


def _measure(slots: int) -> tuple[int, float, bool]:
    """Readers listed, median seconds until listed, and whether pcsc_scan watches them."""
    from drivers.sim.pcscd import MAX_SLOTS, _vpcd_readers, list_readers_now, write_config

    times, listed, scan_ok = [], 0, False
    for i in range(REPEATS):
        root = Path(tempfile.mkdtemp(prefix="bench-pcscd-"))
        t0 = time.perf_counter()
        proc = subprocess.Popen(["pcscd", "--foreground", "-c", str(write_config(root, slots))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            want = min(slots + slots % 2, MAX_SLOTS)
            while len(_vpcd_readers(list_readers_now() or [])) < want:
                time.sleep(0.001)
            times.append(time.perf_counter() - t0)
            listed = len(_vpcd_readers(list_readers_now() or []))
            if i == 0:
                out = subprocess.run(["timeout", "3", "pcsc_scan", "-n"], capture_output=True, text=True, check=False)
                scan_ok = "Invalid parameter" not in out.stdout + out.stderr and "Card state" in out.stdout
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(root, ignore_errors=True)
    return listed, statistics.median(times), scan_ok


def main() -> int:
    """Re-run inside a namespace of its own, then print one line per slot count."""
    if os.environ.get(_INSIDE) != "1":
        if os.geteuid() != 0:
            sys.stderr.write("pcscd_slots: run as root (it starts pcscd in a namespace of its own)\n")
            return 2
        script = 'mount -t tmpfs tmpfs /run/pcscd && ip link set lo up && exec "$@"'
        env = {**os.environ, _INSIDE: "1"}
        return subprocess.call(["unshare", "--mount", "--net", "sh", "-c", script, "sh", sys.executable, "-m",
                                "benchmarks.pcscd_slots"], env=env)
    print("slots asked  readers listed  start (median of 7)  pcsc_scan")
    for slots in SLOTS:
        listed, seconds, scan_ok = _measure(slots)
        print(f"{slots:>11}  {listed:>14}  {seconds * 1000:>16.1f} ms  {'ok' if scan_ok else 'fails'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
