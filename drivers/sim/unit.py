"""The simulated unit as its own process, serving the link protocol on a real pty.

Usage::

    python -m drivers.sim.unit --profile good --link /tmp/unit0 [--baud 115200] [--control /tmp/unit0.ctl]
    python -m drivers.sim.unit --profile-json '{"spec": 1, ...}' --link /tmp/unit0

It creates a pty, makes ``--link`` a symlink to the slave device, prints exactly one line
``READY <link>`` once serving, and serves until SIGTERM or SIGINT (exit 0, symlink
removed). A reboot makes it silent for the profile's ``boot_time``; ``power_off_after``
makes it exit (closing the pty) like a real power loss. ``--baud N`` paces the line both
ways at N/10 bytes per second (8N1; the model is in :mod:`drivers.sim.wire`). Exit codes:
0 stopped or powered off, 2 bad profile or arguments, 3 the pty or link path could not be set up.

``--control PATH`` also listens on a Unix stream socket for what a person does to the
unit, one JSON object per line (``{"action": "press_keys", "keys": ["1", "2"]}``,
``{"action": "swipe_card", "card": "msr-test"}``, ``{"action": "state"}``), each answered
with one JSON line (``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``). This is
the simulator's stand-in for fingers and eyes; it is not part of the link protocol, and
:class:`SimUnitControl` is its client.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import select
import signal
import socket
import struct
import sys
import termios
import time
import tty
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_
from drivers.sim.unitprofile import load_profile, validate_profile

if TYPE_CHECKING:  # the process imports the simulator in main(); a bench that only starts the process does not
    from drivers.sim.unitsim import UnitSim

_LOG = logging.getLogger(__name__)
_IDLE = 0.05


class PtyServer:
    """Runs a :class:`UnitSim` on the master side of a pty whose slave is reachable at ``link``."""

    def __init__(self, sim: UnitSim, link: Path, baud: int | None = None, control: Path | None = None) -> None:
        self.sim = sim
        self.link = link
        self.control = control
        self.baud = baud
        self._stop = False
        self._master = -1
        self._slave = -1
        self._listener: socket.socket | None = None
        self._conns: dict[socket.socket, bytearray] = {}
        #: A pipe signal.set_wakeup_fd writes to: a stop signal ends the wait in select at once.
        self.wake_fd = -1
        #: A pipe a sale's worker thread writes to when it has an event: the loop sends it at once.
        self._poke_r = self._poke_w = -1

    def _poke(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # full: a wake-up is pending already
            os.write(self._poke_w, b"\0")

    def stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        """Ask the serve loop to end (signal handler)."""
        self._stop = True

    def open(self) -> None:
        """Create the pty and the symlink to its slave."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        if self.link.is_symlink():
            self.link.unlink()
        elif self.link.exists():
            raise FileExistsError(N_("{link} exists and is not a symlink", link=self.link))
        os.symlink(os.ttyname(self._slave), self.link)
        self._poke_r, self._poke_w = os.pipe()
        for fd in (self._poke_r, self._poke_w):
            os.set_blocking(fd, False)
        self.sim.device.txn.notify = self._poke
        if self.control is not None:
            if self.control.is_socket():
                self.control.unlink()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(self.control))
            listener.listen(4)
            listener.setblocking(False)
            self._listener = listener

    def close(self) -> None:
        """Close the pty and the control socket, and remove the symlink and the socket file."""
        self.sim.device.txn.notify = None
        self.sim.device.txn.reboot()  # a sale still running ends with the process
        for fd in (self._master, self._slave, self._poke_r, self._poke_w):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = self._poke_r = self._poke_w = -1
        if self.link.is_symlink():
            self.link.unlink()
        for conn in list(self._conns):
            conn.close()
        self._conns.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self.control is not None and self.control.is_socket():
                self.control.unlink()

    def _serve_control(self, readable: list[Any], now: float) -> None:
        """Accept control connections and answer every complete request line."""
        if self._listener is not None and self._listener in readable:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                conn = None
            if conn is not None:
                conn.setblocking(False)
                self._conns[conn] = bytearray()
        for conn in [c for c in self._conns if c in readable]:
            try:
                data = conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                conn.close()
                del self._conns[conn]
                continue
            buf = self._conns[conn]
            buf += data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                answer = self._control_answer(line, now)
                try:
                    conn.setblocking(True)
                    conn.sendall(json.dumps(answer).encode() + b"\n")
                    conn.setblocking(False)
                except OSError:
                    break

    def _control_answer(self, line: bytes, now: float) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("action"), str):
                raise ValueError("expected {\"action\": name, ...}")
            details = {k: v for k, v in request.items() if k != "action"}
            result = self.sim.operator_action(request["action"], details, now)
        except ValueError as exc:  # also json.JSONDecodeError
            return {"ok": False, "error": str(exc)}
        _LOG.debug("control %s: %s", request["action"], result)
        return {"ok": True, **result}

    def _drain(self, limit: float = 1.0) -> None:
        """Wait until the host has read what was sent (a real UART would have sent it already)."""
        deadline = time.monotonic() + limit
        quiet = 0
        while time.monotonic() < deadline:
            waiting = struct.unpack("i", fcntl.ioctl(self._slave, termios.FIONREAD, b"\0\0\0\0"))[0]
            # Bytes written to the master reach the slave's queue through the kernel's tty work queue, so
            # an empty queue right after the write may only mean "not there yet": it must stay empty a while.
            quiet = 0 if waiting else quiet + 1
            if quiet >= 5:
                return
            time.sleep(0.01)

    def serve(self) -> str:
        """Serve until stopped or powered off; return why ("stopped" or "power off").

        With a baud rate, both directions are paced by :class:`drivers.sim.wire.PacedUnit`
        (see its module for the model): the unit acts on the host's bytes only once they
        would have crossed the line, and its own bytes reach the pty no earlier than they
        would have crossed it.
        """
        from drivers.sim.wire import PacedUnit

        line = PacedUnit(self.sim, self.baud)
        out = bytearray()  # across the line, not yet taken by the pty
        while not self._stop:
            now = time.monotonic()
            out += line.step(now)
            if out:
                with contextlib.suppress(BlockingIOError, InterruptedError):  # the pty is full: later
                    del out[: os.write(self._master, bytes(out))]
            if line.powered_off and not out:
                self._drain()
                return "power off"
            timeout = _IDLE
            wake = line.next_wake()
            if wake is not None:
                timeout = max(0.0, min(timeout, wake - now))
            watch: list[Any] = [self._master, *self._conns]
            if self._listener is not None:
                watch.append(self._listener)
            for fd in (self.wake_fd, self._poke_r):
                if fd >= 0:
                    watch.append(fd)
            try:
                readable, _, _ = select.select(watch, [self._master] if out else [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            for fd in (self.wake_fd, self._poke_r):
                if fd >= 0 and fd in readable:
                    readable.remove(fd)
                    with contextlib.suppress(BlockingIOError):
                        os.read(fd, 512)
            if len(readable) > (self._master in readable):
                self._serve_control(readable, now)
            if self._master in readable:
                try:
                    data = os.read(self._master, 4096)
                except (BlockingIOError, InterruptedError):
                    data = b""
                except OSError:  # EIO: no process has the slave open
                    data = b""
                if data:
                    line.from_host(data, now)
        return "stopped"


class SimUnitControl:
    """Client of a simulated unit's control socket: the simulated operator's hands and eyes.

    Args:
        path: the socket given to the unit process as ``--control``.
        timeout: seconds to wait for the unit process to answer.
    """

    def __init__(self, path: Path | str, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout

    def send(self, action: str, **details: Any) -> dict[str, Any]:
        """Perform ``action`` on the simulated unit and return its answer.

        Raises:
            EquipmentError: BENCH-ERROR when the unit process cannot be reached or refuses.
        """
        request = json.dumps({"action": action, **details}).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(request)
                reply = bytearray()
                while not reply.endswith(b"\n"):
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        except OSError as exc:
            raise EquipmentError(
                N_("simulated unit control {path}: {action} failed: {exc}", path=self.path, action=action, exc=exc), fault_code="BENCH-ERROR"
            ) from exc
        try:
            answer = json.loads(bytes(reply))
        except ValueError as exc:
            raise EquipmentError(N_("simulated unit control {path}: bad answer to {action}", path=self.path, action=action),
                                 fault_code="BENCH-ERROR") from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise EquipmentError(N_("simulated unit refused {action}: {error}", action=action, error=error), fault_code="BENCH-ERROR")
        return answer


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drivers.sim.unit", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", help="profile name (good, low-battery, ...) or YAML path")  # i18n: the bench starts it
    source.add_argument("--profile-json", help="an already merged profile, as JSON")  # i18n: the bench starts it
    parser.add_argument("--link", required=True, help="path of the symlink to create to the pty slave")  # i18n: the bench starts it
    parser.add_argument("--baud", type=int, default=None, help="pace the line both ways at N/10 bytes per second (8N1)")  # i18n: the bench starts it
    parser.add_argument("--control", default=None, help="Unix socket for simulated operator actions")  # i18n: the bench starts it
    return parser.parse_args(argv)


def _stop_with_parent() -> None:
    """Get SIGTERM when the bench that started us dies, however it dies (Linux), so no unit is orphaned."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the bench's own teardown still stops us
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulated unit process; returns the exit code."""
    args = _parse(argv)
    from drivers.sim.unitsim import UnitSim

    logging.basicConfig(level=os.environ.get("BENCH_SIM_LOG", "WARNING"), stream=sys.stderr)
    try:
        if args.profile is not None:
            profile = load_profile(args.profile)
        else:
            profile = validate_profile(json.loads(args.profile_json), source="--profile-json")
    except (ConfigError, json.JSONDecodeError) as exc:
        sys.stderr.write(f"simulated unit: bad profile: {exc}\n")
        return 2
    if args.baud is not None and args.baud <= 0:
        sys.stderr.write("simulated unit: --baud must be positive\n")
        return 2
    control = Path(args.control) if args.control else None
    server = PtyServer(UnitSim(profile), Path(args.link), args.baud, control)
    try:
        server.open()
    except OSError as exc:
        sys.stderr.write(f"simulated unit: cannot create {args.link}: {exc}\n")
        server.close()
        return 3
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    server.wake_fd = wake_r
    _stop_with_parent()
    try:
        print(f"READY {args.link}", flush=True)
        why = server.serve()
        level = logging.WARNING if why == "power off" else logging.INFO
        _LOG.log(level, "unit %s: %s", profile["serial"], why)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is closed and flushed: skip the interpreter's teardown, which took longer
    # than the rest of the shutdown and is time the bench that stops the unit waits for.
    os._exit(code)
