"""Make sure pcscd runs with vpcd reader slots for the simulated bench.

The machine has one pcscd (its socket path is compiled in), so :func:`ensure_pcscd`
reuses a running one when it lists vpcd readers, and otherwise starts
``pcscd --foreground -c CONFDIR`` (root only) with a reader.conf of ``slots`` vpcd
slots, waits until the readers are listed, and stops only what it started.

Facts this relies on (checked on pcsc-lite 1.9.9, vsmartcard-vpcd 0.8):

* ``-c DIR`` replaces ``/etc/reader.conf.d``; pcscd parses *every* regular file in DIR,
  so DIR holds nothing but the reader.conf (logs go elsewhere).
* One vpcd reader entry has two slots (ports ``CHANNELID`` and ``CHANNELID + 1``). Two
  entries that load the same ``libifdvpcd.so`` share its globals and neither sees a card;
  each further entry therefore loads its own copy of the library.
* Reader names are ``FRIENDLYNAME`` + `` 00 0<slot>``; see :func:`reader_name`.
* pcscd serves at most 16 readers (``PCSCLITE_MAX_READERS_CONTEXTS``): with 18 or 20 slots
  configured it lists the first 16 and ignores the rest without a word, even in its log.
  Its start takes the same ~15 ms for 2, 4, 16 or 20 slots (``python -m benchmarks.pcscd_slots``).
* A client's ``SCardGetStatusChange`` takes at most 16 reader states, the PnP pseudo-reader
  included: with 16 readers, ``pcsc_scan`` (every reader plus PnP) fails with "Invalid
  parameter given" and sees no card. So pcscd is started with :data:`DEFAULT_SLOTS` (14,
  readers come in pairs) unless the bench starting it needs more (up to :data:`MAX_SLOTS`).
  SIGUSR1 does not make pcscd 1.9.9 re-read its reader.conf: the count is fixed at start.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import EquipmentError
from drivers.i18n import N_

_LOG = logging.getLogger(__name__)

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_BASE_PORT = 35963
MAX_SLOTS = 16
"""Readers pcsc-lite 1.9.9 serves (PCSCLITE_MAX_READERS_CONTEXTS): the most vpcd slots pcscd can have."""
DEFAULT_SLOTS = 14
"""Slots pcscd is started with unless more are needed: the most that pcsc_scan-like clients still watch."""
_SETTLE = 0.5  # seconds a started pcscd's reader count must hold still before fewer than asked will do


def reader_name(slot: int) -> str:
    """PC/SC reader name of vpcd slot ``slot`` as configured by :func:`write_config`."""
    entry, sub = divmod(slot, 2)
    friendly = "Virtual PCD" if entry == 0 else f"Virtual PCD {chr(ord('A') + entry)}"
    return f"{friendly} 00 {sub:02X}"


def slot_port(slot: int) -> int:
    """vpcd's TCP port for ``slot``."""
    return VPCD_BASE_PORT + slot


def write_config(root: Path, slots: int, lib: Path = VPCD_LIB) -> Path:
    """Write ``root/reader.conf.d/vpcd`` (and library copies in ``root/lib``); return the conf dir."""
    confdir = root / "reader.conf.d"
    libdir = root / "lib"
    confdir.mkdir(parents=True, exist_ok=True)
    libdir.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for entry in range((slots + 1) // 2):
        path = lib
        if entry:
            path = libdir / f"libifdvpcd-{entry}.so"
            shutil.copyfile(lib, path)
        channel = VPCD_BASE_PORT + 2 * entry
        friendly = reader_name(2 * entry)[: -len(" 00 00")]
        lines += [
            f'FRIENDLYNAME "{friendly}"',
            f"DEVICENAME   /dev/null:0x{channel:04X}",
            f"LIBPATH      {path}",
            f"CHANNELID    0x{channel:04X}",
            "",
        ]
    (confdir / "vpcd").write_text("\n".join(lines), encoding="ascii")
    return confdir


def list_readers_now() -> list[str] | None:
    """Readers pcscd lists now; None when pcscd is not reachable; [] when it lists none."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return None
    try:
        hr, readers = scard.SCardListReaders(ctx, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != scard.SCARD_S_SUCCESS:
            return None
        return list(readers)
    finally:
        scard.SCardReleaseContext(ctx)


@dataclass
class Pcscd:
    """A pcscd this process uses: started by us (``process`` set) or reused."""

    slots: int
    readers: list[str]
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    log_path: Path | None = None
    start_seconds: float = 0.0
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def started(self) -> bool:
        """True when this object started the daemon (and so will stop it)."""
        return self.process is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the daemon if we started it; a reused one is left running."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
            _LOG.info("stopped pcscd (pid %d)", proc.pid)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _vpcd_readers(readers: list[str]) -> list[str]:
    return [r for r in readers if r.startswith("Virtual PCD")]


def ensure_pcscd(slots: int = DEFAULT_SLOTS, timeout: float = 10.0) -> Pcscd:
    """Reuse a running pcscd that lists vpcd readers, or start one with ``slots`` vpcd slots.

    ``slots`` is capped at :data:`MAX_SLOTS`. A reused pcscd has the slots it was started
    with (``Pcscd.slots``), maybe fewer than ``slots``: the caller that needs more says so.
    A pcsc-lite built for fewer readers than asked is accepted once its count holds still.

    Raises:
        EquipmentError: (ICC-NO-READER) pcscd runs without vpcd readers, is not running and
            cannot be started (not root, not installed), or does not list readers in time.
    """
    readers = list_readers_now()
    if readers is not None:
        vpcd = _vpcd_readers(readers)
        if not vpcd:
            raise EquipmentError(
                N_("pcscd is running but lists no 'Virtual PCD' reader; "
                "install vsmartcard-vpcd and restart pcscd"),
                fault_code="ICC-NO-READER",
            )
        _LOG.info("reusing the running pcscd (%d vpcd slots)", len(vpcd))
        return Pcscd(slots=len(vpcd), readers=readers)
    exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if exe is None:
        raise EquipmentError(N_("pcscd is not running and not installed (apt-get install pcscd)"),
                             fault_code="ICC-NO-READER")
    if not VPCD_LIB.exists():
        raise EquipmentError(N_("vpcd driver {VPCD_LIB} missing (apt-get install vsmartcard-vpcd)", VPCD_LIB=VPCD_LIB),
                             fault_code="ICC-NO-READER")
    if os.geteuid() != 0:
        raise EquipmentError(N_("pcscd is not running and only root can start it: run 'sudo pcscd' first"),
                             fault_code="ICC-NO-READER")
    slots = max(1, min(slots, MAX_SLOTS))
    tmp = tempfile.TemporaryDirectory(prefix="bench-pcscd-")
    root = Path(tmp.name)
    confdir = write_config(root, slots)
    log_path = root / "pcscd.log"
    t0 = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [exe, "--foreground", "-c", str(confdir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    handle = Pcscd(slots=slots, readers=[], process=proc, workdir=root, log_path=log_path, _tmp=tmp)
    deadline = t0 + timeout
    seen, since = 0, t0
    while True:
        readers = list_readers_now()
        count = len(_vpcd_readers(readers)) if readers is not None else 0
        if count >= slots:
            break
        if count != seen:
            seen, since = count, time.monotonic()
        elif count and time.monotonic() - since >= _SETTLE and proc.poll() is None:
            _LOG.warning("pcscd serves %d vpcd slots, not the %d asked (its reader limit)", count, slots)
            handle.slots = count
            break
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            handle.stop()
            detail = " / ".join(tail) or "no output"
            raise EquipmentError(N_("pcscd exited with code {returncode}: {detail}", returncode=proc.returncode, detail=detail),
                                 fault_code="ICC-NO-READER")
        if time.monotonic() >= deadline:
            handle.stop()
            raise EquipmentError(N_("pcscd did not list {slots} vpcd readers within {timeout:g} s", slots=slots, timeout=timeout),
                                 fault_code="ICC-NO-READER")
        time.sleep(0.01)
    handle.readers = readers or []
    handle.start_seconds = time.monotonic() - t0
    _LOG.info("started pcscd (pid %d) with %d vpcd slots in %.0f ms", proc.pid, slots,
              handle.start_seconds * 1000)
    return handle


def bench_pcscd_pids() -> dict[int, Path]:
    """Running pcscd processes a bench started (``-c .../bench-pcscd-*``), not the system's own: pid -> its folder."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _running(int(entry.name)):
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        conf = next((a for a in args if b"bench-pcscd-" in a), None)
        if args[0].endswith(b"pcscd") and conf is not None:
            found[int(entry.name)] = Path(conf.decode(errors="replace")).parent
    return found


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def replace_bench_pcscd(slots: int, timeout: float = 10.0) -> Pcscd | None:
    """Stop the running pcscd a bench left behind and start one with ``slots``; None when it is not ours.

    For a bench whose pcscd has too few slots for a multi-up station. The caller holds every
    slot's lease, so no bench is using the daemon. The system's own pcscd is never touched.
    """
    found = bench_pcscd_pids()
    if not found or os.geteuid() != 0:
        return None
    for pid, folder in found.items():
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
        deadline = time.monotonic() + 5
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if folder.name.startswith("bench-pcscd-"):
            shutil.rmtree(folder, ignore_errors=True)
        _LOG.info("stopped the idle pcscd %d a bench left running, to start one with %d slots", pid, slots)
    deadline = time.monotonic() + timeout
    while list_readers_now() is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # its socket goes away with it
    return ensure_pcscd(slots, timeout)
