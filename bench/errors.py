"""The harness's errors and the one mapping from error family to exit code.

The root and the device-side families live with the drivers (:mod:`drivers.errors`,
re-exported here so harness code has one place to import from). The harness adds:

* :class:`UsageError` (and :class:`PlanError`): the plan or the command line is wrong.
  Nothing runs; exit code 2. A driver's :class:`~drivers.errors.ConfigError` (a bad
  device URL or simulator file) is the same family.
* :class:`OperatorTimeout`: a prompt was not answered (a device-side failure of the step).
* :class:`Interrupted`: Ctrl-C or another terminating signal (its message says which); exit code 130.

:func:`exit_code` is the mapping: 2 usage, 3 bench or equipment (and anything unclassified),
1 unit failed, 130 interrupted.
"""

from __future__ import annotations

from drivers.errors import (
    BenchError,
    CardError,
    ConfigError,
    DeviceError,
    EquipmentError,
    LinkTimeout,
    PrinterError,
    ProtocolError,
)
from drivers.i18n import N_

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_BENCH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(ConfigError):
    """The command line or a file given to it is wrong; nothing was run."""


class PlanError(UsageError):
    """A test plan (or scenario, station file) is malformed; names the file, line and field."""

    @classmethod
    def of(cls, exc: ConfigError) -> PlanError:
        """The same error (message, file, line, field) as a plan error, e.g. bad YAML met by a driver's loader."""
        err = cls.__new__(cls)
        BenchError.__init__(err, exc.message)
        err.path, err.line, err.field = exc.path, exc.line, exc.field
        return err


class OperatorTimeout(DeviceError):
    """A prompt was not answered within its timeout."""

    def __init__(self, message: str = N_("no operator response"), *, fault_code: str | None = "OP-NO-RESPONSE") -> None:
        super().__init__(message, fault_code=fault_code)


class Interrupted(BenchError):
    """A terminating signal interrupted the run (Ctrl-C, SIGTERM, ...: the message says which)."""


def said(exc: BaseException) -> str:
    """What ``exc`` says to a person, as it was made: a bench error's message stays a :class:`~drivers.i18n.Text`
    (translated where it is shown), anything else is ``str(exc)``."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and str(exc) == message else str(exc)


def exit_code(exc: BenchError) -> int:
    """The exit code of a command that ends with ``exc``."""
    if isinstance(exc, Interrupted):
        return EXIT_INTERRUPTED
    if isinstance(exc, ConfigError):
        return EXIT_USAGE
    if isinstance(exc, DeviceError):
        return EXIT_FAIL
    return EXIT_BENCH


__all__ = [
    "EXIT_BENCH",
    "EXIT_FAIL",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "EXIT_USAGE",
    "BenchError",
    "CardError",
    "ConfigError",
    "DeviceError",
    "EquipmentError",
    "Interrupted",
    "LinkTimeout",
    "OperatorTimeout",
    "PlanError",
    "PrinterError",
    "ProtocolError",
    "UsageError",
    "exit_code",
    "said",
]
