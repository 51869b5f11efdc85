"""The one error hierarchy of bench and its drivers.

Three families, because a technician must know whose fault a problem is:

* :class:`UsageError` (and :class:`PlanError`): the plan or the command line is wrong.
  Nothing runs; exit code 2.
* :class:`EquipmentError`: the bench is at fault (no reader, port will not open,
  pcscd not running). The run verdict is ERROR; exit code 3.
* :class:`DeviceError`: the unit under test is at fault (no ATR, NAK storm, paper
  out). The step FAILs with a fault code; exit code 1.

Library exceptions are wrapped with ``raise ... from exc`` so the original stays
available to ``--debug``.
"""

from __future__ import annotations


class BenchError(Exception):
    """Root of every error bench raises on purpose."""

    exit_code: int = 3

    def __init__(self, message: str, *, fault_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fault_code = fault_code

    def __str__(self) -> str:
        return self.message


class UsageError(BenchError):
    """The command line or a file given to it is wrong; nothing was run."""

    exit_code = 2


class PlanError(UsageError):
    """A test plan (or scenario, profile, station file) is malformed.

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
            where = f"{where}:{line}" if where else f"line {line}"
        prefix = f"{where}: " if where else ""
        at = f" (at {field})" if field else ""
        super().__init__(f"{prefix}{message}{at}")
        self.path = path
        self.line = line
        self.field = field


class EquipmentError(BenchError):
    """The bench itself is at fault: a port, reader, printer or daemon is missing or busy."""

    exit_code = 3


class DeviceError(BenchError):
    """The unit under test misbehaved; carries the fault code that names the suspected part."""

    exit_code = 1

    def __init__(self, message: str, *, fault_code: str | None = "UNIT-FAULT") -> None:
        super().__init__(message, fault_code=fault_code)


class ProtocolError(DeviceError):
    """Bytes on the wire that do not make a valid frame or answer (garbage, bad CRC, truncation)."""

    def __init__(self, message: str, *, fault_code: str | None = "LINK-GARBAGE") -> None:
        super().__init__(message, fault_code=fault_code)


class LinkTimeout(DeviceError):
    """The unit did not answer within the link timeout after every retry."""

    def __init__(self, message: str, *, fault_code: str | None = "LINK-NO-RESPONSE") -> None:
        super().__init__(message, fault_code=fault_code)


class CardError(DeviceError):
    """The card or the unit's card reader misbehaved (no ATR, card pulled, bad status word)."""

    def __init__(self, message: str, *, fault_code: str | None = "ICC-ERROR") -> None:
        super().__init__(message, fault_code=fault_code)


class OperatorTimeout(DeviceError):
    """A prompt was not answered within its timeout."""

    def __init__(self, message: str = "no operator response", *, fault_code: str | None = "OP-NO-RESPONSE") -> None:
        super().__init__(message, fault_code=fault_code)


class Interrupted(BenchError):
    """The operator interrupted the run (Ctrl-C)."""

    exit_code = 130


__all__ = [
    "BenchError",
    "CardError",
    "DeviceError",
    "EquipmentError",
    "Interrupted",
    "LinkTimeout",
    "OperatorTimeout",
    "PlanError",
    "ProtocolError",
    "UsageError",
]
