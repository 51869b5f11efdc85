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
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import EquipmentError

_LOG = logging.getLogger(__name__)

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_BASE_PORT = 35963
DEFAULT_SLOTS = 4


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

    Raises:
        EquipmentError: (ICC-NO-READER) pcscd runs without vpcd readers, is not running and
            cannot be started (not root, not installed), or does not list readers in time.
    """
    readers = list_readers_now()
    if readers is not None:
        vpcd = _vpcd_readers(readers)
        if not vpcd:
            raise EquipmentError(
                "pcscd is running but lists no 'Virtual PCD' reader; "
                "install vsmartcard-vpcd and restart pcscd",
                fault_code="ICC-NO-READER",
            )
        _LOG.info("reusing the running pcscd (%d vpcd slots)", len(vpcd))
        return Pcscd(slots=len(vpcd), readers=readers)
    exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if exe is None:
        raise EquipmentError("pcscd is not running and not installed (apt-get install pcscd)",
                             fault_code="ICC-NO-READER")
    if not VPCD_LIB.exists():
        raise EquipmentError(f"vpcd driver {VPCD_LIB} missing (apt-get install vsmartcard-vpcd)",
                             fault_code="ICC-NO-READER")
    if os.geteuid() != 0:
        raise EquipmentError("pcscd is not running and only root can start it: run 'sudo pcscd' first",
                             fault_code="ICC-NO-READER")
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
    while True:
        readers = list_readers_now()
        if readers is not None and len(_vpcd_readers(readers)) >= slots:
            break
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            handle.stop()
            detail = " / ".join(tail) or "no output"
            raise EquipmentError(f"pcscd exited with code {proc.returncode}: {detail}",
                                 fault_code="ICC-NO-READER")
        if time.monotonic() >= deadline:
            handle.stop()
            raise EquipmentError(f"pcscd did not list {slots} vpcd readers within {timeout:g} s",
                                 fault_code="ICC-NO-READER")
        time.sleep(0.01)
    handle.readers = readers
    handle.start_seconds = time.monotonic() - t0
    _LOG.info("started pcscd (pid %d) with %d vpcd slots in %.0f ms", proc.pid, slots,
              handle.start_seconds * 1000)
    return handle
