"""One instrument's SCPI session through PyVISA: commands checked, answers bounded, errors named.

Every configuration command is followed by ``SYST:ERR?``: an instrument that refused it raises an
:class:`EquipmentError` naming the instrument, the command and the instrument's own error
(``-222,"Data out of range"``), so a step never goes on with a setting that did not take. A query
that gets no answer in the URL's timeout raises one too, with whatever the error queue then says.

The PyVISA resource manager of a library is shared by the whole process (PyVISA keeps one per
library, and closing it closes every session of it), so a driver only ever closes its own session.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_
from drivers.instruments.interfaces import InstrumentIdentity
from drivers.instruments.visaurl import VisaUrl

_LOG = logging.getLogger(__name__)

FAULT = "BENCH-INSTRUMENT"
_MAX_ERRORS = 20  # entries read from an error queue at once: a queue that never empties is a broken one
_MAX_ANSWER = 4_000_000  # characters: the longest waveform a driver reads
_OPEN_LOCK = threading.Lock()  # PyVISA creates its library and resource manager objects without a lock


def open_session(where: VisaUrl, label: str) -> tuple[ScpiSession, InstrumentIdentity]:
    """Open the VISA resource ``where`` names, ask ``*IDN?`` and clear its stale errors; ``label`` names it in errors.

    Raises:
        ConfigError: the URL's ``backend`` is not a VISA library PyVISA can load.
        EquipmentError: no VISA library is installed, or no instrument answers at that address.
    """
    import pyvisa

    with _OPEN_LOCK:
        try:
            manager = pyvisa.ResourceManager(where.backend)
        except (ValueError, OSError) as exc:
            why = _last_line(exc)
            if where.backend:
                raise ConfigError(N_("{label}: backend={backend!r} cannot be loaded: {why}", label=label, backend=where.backend, why=why)) from exc
            raise EquipmentError(N_("{label}: no VISA library is installed (install pyvisa-py, or name one with ?backend=): {why}", label=label, why=why), fault_code="BENCH-CONFIG") from exc
        try:
            resource = manager.open_resource(where.resource, read_termination="\n", write_termination="\n",
                                             open_timeout=int(where.timeout * 1000))
        except pyvisa.errors.VisaIOError as exc:
            raise EquipmentError(N_("{label}: no instrument answers at {resource} ({description})", label=label, resource=where.resource, description=exc.description),
                                 fault_code=FAULT) from exc
    resource.timeout = int(where.timeout * 1000)
    session = ScpiSession(resource, label, where.timeout)
    try:
        with session._lock:
            answer = session._query("*IDN?")
        if not answer:  # PyVISA-sim opens a resource it does not have, and it answers nothing
            raise EquipmentError(N_("{label}: no instrument answers at {resource} (nothing said to '*IDN?' within {timeout:g} s)", label=label, resource=where.resource, timeout=where.timeout), fault_code=FAULT)
        session.drain_errors()
    except BaseException:
        session.close()
        raise
    return session, InstrumentIdentity.parse(answer)


class ScpiSession:
    """SCPI over one PyVISA message-based resource; one command (and its answer) at a time."""

    def __init__(self, resource: Any, label: str, timeout: float) -> None:
        self._resource = resource
        self.label = label
        self.timeout = timeout
        self._lock = threading.Lock()
        self._closed = False

    def query(self, command: str) -> str:
        """Send ``command`` and return its answer (stripped).

        Raises:
            EquipmentError: no answer in time (with the instrument's error, if it queued one), or the
            session failed.
        """
        with self._lock:
            answer = self._query(command)
        if answer is None:
            errors = self._errors_quietly()
            said = f"; it says {'; '.join(errors)}" if errors else ""
            raise EquipmentError(N_("{label} did not answer {command!r} within {timeout:g} s{said}", label=self.label, command=command, timeout=self.timeout, said=said),
                                 fault_code=FAULT)
        return answer

    def query_number(self, command: str) -> float:
        """Send ``command`` and read its answer as one number.

        Raises:
            EquipmentError: no answer, not a number, or the SCPI overload value (9.9E37).
        """
        answer = self.query(command)
        try:
            value = float(answer)
        except ValueError:
            raise EquipmentError(N_("{label} answered {answer!r} to {command!r}, not a number", label=self.label, answer=answer[:60], command=command),
                                 fault_code=FAULT) from None
        if not abs(value) < 9.9e37:  # SCPI's "overload" (and NaN, inf)
            raise EquipmentError(N_("{label}: {command!r} is over range ({answer})", label=self.label, command=command, answer=answer), fault_code=FAULT)
        return value

    def configure(self, command: str) -> None:
        """Send a command that answers nothing, then ``SYST:ERR?``.

        Raises:
            EquipmentError: the instrument queued an error for it (named with the command), or it failed.
        """
        with self._lock:
            self._write(command)
            errors = self._read_errors(command)
        if errors:
            raise EquipmentError(N_("{label} refused {command!r}: {items}", label=self.label, command=command, items='; '.join(errors)), fault_code=FAULT)

    def identify(self) -> InstrumentIdentity:
        """Ask ``*IDN?``."""
        return InstrumentIdentity.parse(self.query("*IDN?"))

    def reset(self) -> None:
        """``*RST``, checked, then ``*OPC?`` (which answers once the reset is done)."""
        self.configure("*RST")
        done = self.query("*OPC?")
        if done.lstrip("+") != "1":
            raise EquipmentError(N_("{label} answered {done!r} to '*OPC?' after '*RST'", label=self.label, done=done[:60]), fault_code=FAULT)

    def drain_errors(self) -> None:
        """Read and forget what the error queue holds (left by whoever used the instrument before)."""
        with self._lock:
            stale = self._read_errors("*IDN?")
        if stale:
            _LOG.debug("%s: stale errors cleared: %s", self.label, stale)

    def close(self) -> None:
        """Close this session (never the shared resource manager); harmless twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._resource.close()
        except Exception as exc:  # an instrument that went away
            _LOG.debug("closing %s: %s", self.label, exc)

    # -- under the lock

    def _write(self, command: str) -> None:
        import pyvisa

        if self._closed:
            raise EquipmentError(N_("{label} is closed", label=self.label), fault_code=FAULT)
        try:
            self._resource.write(command)
        except (pyvisa.errors.Error, OSError) as exc:
            raise EquipmentError(N_("{label}: sending {command!r} failed: {said}", label=self.label, command=command, said=_said(exc)), fault_code=FAULT) from exc

    def _query(self, command: str) -> str | None:
        """The answer, or None when none came in time (or it was empty)."""
        import pyvisa

        self._write(command)
        try:
            # read_raw, not read: an empty answer is ours to judge, not a warning on the terminal
            answer = bytes(self._resource.read_raw()).decode("ascii", errors="replace")
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                return None
            raise EquipmentError(N_("{label}: reading the answer to {command!r} failed: {said}", label=self.label, command=command, said=_said(exc)),
                                 fault_code=FAULT) from exc
        except (pyvisa.errors.Error, OSError) as exc:
            raise EquipmentError(N_("{label}: reading the answer to {command!r} failed: {said}", label=self.label, command=command, said=_said(exc)),
                                 fault_code=FAULT) from exc
        if len(answer) > _MAX_ANSWER:
            raise EquipmentError(N_("{label} answered {command!r} with {answer_len} characters, more than {MAX_ANSWER}", label=self.label, command=command, answer_len=len(answer), MAX_ANSWER=_MAX_ANSWER), fault_code=FAULT)
        return answer.strip() or None  # an empty line is no answer (a queue entry or a number is never empty)

    def _read_errors(self, after: str) -> list[str]:
        """The error queue's entries (``SYST:ERR?`` until ``0,...``)."""
        errors: list[str] = []
        for _ in range(_MAX_ERRORS):
            answer = self._query("SYST:ERR?")
            if answer is None:
                raise EquipmentError(N_("{label} did not answer 'SYST:ERR?' after {after!r} within {timeout:g} s", label=self.label, after=after, timeout=self.timeout), fault_code=FAULT)
            code, _, _text = answer.partition(",")
            try:
                number = int(code)
            except ValueError:
                raise EquipmentError(N_("{label} answered {answer!r} to 'SYST:ERR?', not an error entry", label=self.label, answer=answer[:60]),
                                     fault_code=FAULT) from None
            if number == 0:
                return errors
            errors.append(answer)
        raise EquipmentError(N_("{label}: its error queue did not empty after {MAX_ERRORS} reads (after {after!r})", label=self.label, MAX_ERRORS=_MAX_ERRORS, after=after), fault_code=FAULT)

    def _errors_quietly(self) -> list[str]:
        """The error queue after a query went unanswered; [] when it cannot be read either."""
        try:
            with self._lock:
                return self._read_errors("a query")
        except EquipmentError:
            return []


def _last_line(exc: BaseException) -> str:
    """The cause, one line: PyVISA-sim's message quotes a whole traceback, newlines escaped, cause last."""
    text = str(exc).replace("\\n", "\n").replace("\\'", "'")
    lines = [line.strip() for line in text.splitlines() if line.strip(" '\"")]
    return (lines[-1] if lines else type(exc).__name__)[-300:]


def _said(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "description", "") or exc).split())[:200]
