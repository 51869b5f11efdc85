"""The error root of the drivers and the families a device, the bench or a file can raise.

Whose fault a problem is decides what a technician does about it, so every error a
driver raises on purpose belongs to one family:

* :class:`ConfigError`: a device URL, a simulator file or an argument given to a driver
  is wrong. Nothing was opened.
* :class:`EquipmentError`: the bench is at fault (no reader, port will not open, pcscd
  not running).
* :class:`DeviceError`: the unit under test is at fault (no ATR, NAK storm, paper out);
  it carries the fault code that names the suspected part.

The harness (``bench.errors``) adds plan and usage errors on the same root and maps the
families to exit codes. Library exceptions are wrapped with ``raise ... from exc`` so the
original stays available to ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.i18n import N_


class BenchError(Exception):
    """Root of every error the drivers and the harness raise on purpose.

    ``message`` says what happened in the bench's words, for the technician ("the unit stopped
    answering on its diagnostic port"); ``detail`` keeps the wire-level facts behind it (command,
    port, tries) for the step's log, the report's details and ``--debug``.
    """

    def __init__(self, message: str, *, fault_code: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fault_code = fault_code
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class ConfigError(BenchError):
    """A URL, file or argument given to a driver or the simulator is wrong; nothing was opened.

    Args:
        message: what is wrong, in one line.
        path: the file, when known.
        line: 1-based line in the file, when known.
        field: dotted path of the offending field, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = path or ""
        if line is not None:
            where = f"{where}:{line}" if where else N_("line {line}", line=line)
        text = N_("{message} (at {field})", message=message, field=field) if field else message
        super().__init__(N_("{where}: {message}", where=where, message=text) if where else text)
        self.path = path
        self.line = line
        self.field = field


class EquipmentError(BenchError):
    """The bench itself is at fault: a port, reader, printer or daemon is missing or busy."""


class DeviceError(BenchError):
    """The unit under test misbehaved; carries the fault code that names the suspected part."""

    def __init__(self, message: str, *, fault_code: str | None = "UNIT-FAULT", detail: str | None = None) -> None:
        super().__init__(message, fault_code=fault_code, detail=detail)


class ProtocolError(DeviceError):
    """Bytes on the wire that do not make a valid frame or answer (garbage, bad CRC, truncation)."""

    def __init__(self, message: str, *, fault_code: str | None = "LINK-GARBAGE", detail: str | None = None) -> None:
        super().__init__(message, fault_code=fault_code, detail=detail)


class LinkTimeout(DeviceError):
    """The unit did not answer within the link timeout after every retry."""

    def __init__(self, message: str, *, fault_code: str | None = "LINK-NO-RESPONSE", detail: str | None = None) -> None:
        super().__init__(message, fault_code=fault_code, detail=detail)


class CardError(DeviceError):
    """The card or the unit's card reader misbehaved (no ATR, card pulled, bad status word)."""

    def __init__(self, message: str, *, fault_code: str | None = "ICC-ERROR", detail: str | None = None) -> None:
        super().__init__(message, fault_code=fault_code, detail=detail)


class PrinterError(DeviceError):
    """The printer stopped taking data or printing; ``conditions`` says what its status showed then.

    The conditions are :class:`~drivers.interfaces.PrinterStatus` flag names (``"cover_open"``,
    ``"paper_end"``, ...; empty when the status was unreadable). Which fault each one is, is the
    harness's to say; until it does, a printer that stopped is ``PRN-OFFLINE``.
    """

    def __init__(self, message: str, *, conditions: Iterable[str] = (), fault_code: str | None = "PRN-OFFLINE",
                 detail: str | None = None) -> None:
        super().__init__(message, fault_code=fault_code, detail=detail)
        self.conditions = tuple(conditions)


__all__ = [
    "BenchError",
    "CardError",
    "ConfigError",
    "DeviceError",
    "EquipmentError",
    "LinkTimeout",
    "PrinterError",
    "ProtocolError",
]
