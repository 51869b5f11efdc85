"""What the terminating signals a bench PC sees do to a command, in every phase of it.

Ctrl-C (SIGINT), ``kill``/a service stop (SIGTERM), a closed terminal or SSH session (SIGHUP)
and Ctrl-\\ (SIGQUIT) all end a command the same way: as :class:`KeyboardInterrupt`, so a run
in progress is stored ABORTED with every step measured so far, the simulated bench is torn
down, and the command exits 130. A signal never kills the process outright while the bench
owns it:

* while something must not be cut in half (starting or tearing down the simulated bench,
  closing devices and the store, writing reports) the signal is *held*: noted, and raised
  once that part is done (:func:`shielded`); a second signal while held is raised at once,
  so a teardown that hangs can still be interrupted;
* once a run has its verdict stored (:func:`hold`), signals are noted and the command
  finishes what it was doing: the verdict stands, the reports are written;
* once a command's exit code is decided (:func:`done`) signals are ignored, through the
  interpreter's own shutdown (where Python would otherwise restore the default action
  and a SIGTERM would kill the process with -15).

A hang-up also means the terminal is gone: writes to it would fail, so standard output and
error are pointed at ``/dev/null`` when they were that terminal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from drivers.i18n import N_, Text

_LOG = logging.getLogger(__name__)

#: The signals that end a command (those this platform has).
TERMINATING: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)

_RAISE, _HOLD, _IGNORE = "raise", "hold", "ignore"


class _State:
    mode = _RAISE
    held = 0  # signals noted since the mode became _HOLD
    received: list[int] = []  # noqa: RUF012 - process-wide, reset by install()


def install() -> dict[int, Any] | None:
    """Handle the terminating signals (main thread only); the handlers they had, for :func:`restore`.

    Returns None (and does nothing) outside the main thread, where Python cannot set handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    _State.mode, _State.held, _State.received = _RAISE, 0, []
    previous: dict[int, Any] = {}
    for sig in TERMINATING:
        previous[sig] = signal.signal(sig, _on_signal)
    return previous


def restore(previous: dict[int, Any] | None) -> None:
    """Give the signals back the handlers :func:`install` found (a command run inside another program)."""
    for sig, handler in (previous or {}).items():
        signal.signal(sig, handler)
    _State.mode = _RAISE


def settle() -> None:
    """Ignore the terminating signals from now until the process exits (its exit code is decided)."""
    _State.mode = _IGNORE
    if threading.current_thread() is threading.main_thread():
        for sig in TERMINATING:
            signal.signal(sig, signal.SIG_IGN)


def done() -> None:
    """The command's outcome is decided: signals from now on are noted and change nothing."""
    _State.mode = _IGNORE


def hold() -> None:
    """The run has its verdict: from now on a signal is noted, and only a second one interrupts.

    Outside the main thread (one slot of a multi-up run) it does nothing: signals reach only the
    main thread, and the other slots' runs still need them.
    """
    if _State.mode == _RAISE and _on_main_thread():
        _State.mode, _State.held = _HOLD, 0


def release() -> bool:
    """Undo :func:`hold` (e.g. between the runs of a loop); whether a signal was noted while held."""
    if _State.mode != _HOLD:
        return False
    came = _State.held > 0
    _State.mode, _State.held = _RAISE, 0
    return came


def received() -> list[str]:
    """The names of the terminating signals received so far, oldest first."""
    return [signal.Signals(s).name for s in _State.received]


#: Who sends each terminating signal, in the words a technician uses.
_WHO = {
    "SIGINT": N_("the operator (Ctrl-C, SIGINT)"),
    "SIGTERM": N_("SIGTERM (kill, a service stop or a shutdown)"),
    "SIGHUP": N_("SIGHUP (the terminal or SSH session was closed)"),
    "SIGQUIT": N_("the operator (Ctrl-\\, SIGQUIT)"),
}


def interrupted_by() -> Text:
    """``interrupted by ...``: who ended the command, from the first terminating signal received.

    Without a signal on record (the handlers are not installed, e.g. the runner inside another
    program) a KeyboardInterrupt is Python's own Ctrl-C.
    """
    names = received() if signal.getsignal(signal.SIGINT) is _on_signal else []
    if not names:
        return N_("interrupted by the operator (Ctrl-C)")
    return N_("interrupted by {who}", who=_WHO.get(names[0], names[0]))


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold signals for the block; one that came meanwhile is raised (as KeyboardInterrupt) after it.

    A second signal inside the block is raised at once (a teardown that hangs stays interruptible).
    Outside the main thread the block just runs: no signal can interrupt that thread, and the
    process-wide mode belongs to the main thread.
    """
    before, held_before = _State.mode, _State.held
    if before != _RAISE or not _on_main_thread():
        yield
        return
    _State.mode, _State.held = _HOLD, 0
    try:
        yield
    finally:
        came = _State.held
        if _State.mode == _HOLD:
            _State.mode, _State.held = before, held_before
        else:  # done() or settle() inside the block: keep what they decided
            came = 0
    if came:
        raise KeyboardInterrupt


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_signal(signum: int, frame: Any) -> None:
    __tracebackhide__ = True  # pytest (the bench plugin) names the line the signal came at, not this one
    _State.received.append(signum)
    if signum == getattr(signal, "SIGHUP", None):
        _detach_terminal()
    if _State.mode == _IGNORE:
        return
    if _State.mode == _HOLD:
        _State.held += 1
        if _State.held < 2:
            _LOG.debug("signal %s held until the bench can stop cleanly", signum)
            return
    raise KeyboardInterrupt


def _detach_terminal() -> None:
    """The terminal hung up: point stdout and stderr at /dev/null where they were that terminal."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                if os.isatty(fd):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)
