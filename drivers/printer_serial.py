"""``serial:///dev/ttyS1?baud=38400``: an RS-232 ESC/POS printer through pyserial.

``rtscts=1`` turns on hardware flow control; the path may be any pyserial URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from drivers.errors import ConfigError, DeviceError, EquipmentError
from drivers.i18n import N_
from drivers.printer import EscPosPrinter, PrinterTransport, TransportStalled, url_query


class SerialTransport(PrinterTransport):
    """An RS-232 printer through pyserial."""

    def __init__(self, port: Any) -> None:
        self.port = port

    def write(self, data: bytes, timeout: float) -> None:
        """Write with a write timeout (flow control holds it when the printer is busy)."""
        import serial

        self.port.write_timeout = timeout
        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException as exc:
            raise TransportStalled(str(exc)) from exc
        except serial.SerialException as exc:
            raise DeviceError(N_("the printer takes no data"), fault_code="PRN-OFFLINE",
                              detail=f"serial write to the printer failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Read what arrives within ``timeout``."""
        import serial

        self.port.timeout = timeout
        try:
            first = bytes(self.port.read(1))  # returns at the first byte, not after `size` bytes
            if not first or size <= 1:
                return first
            return first + bytes(self.port.read(min(size - 1, self.port.in_waiting)))
        except serial.SerialException as exc:
            raise DeviceError(N_("the printer sends nothing back"), fault_code="PRN-OFFLINE",
                              detail=f"serial read from the printer failed: {exc}") from exc

    def close(self) -> None:
        """Close the port."""
        self.port.close()


def open_serial_printer(url: str, **options: Any) -> EscPosPrinter:
    """Open the serial printer at ``url``; options ``baud`` and ``rtscts`` override the query.

    Raises:
        ConfigError: malformed URL.
        EquipmentError: the port cannot be opened.
    """
    import serial

    parts = urlsplit(url)
    path = parts.path or parts.netloc
    if not path:
        raise ConfigError(N_("printer URL {url!r}: expected serial:///dev/ttyS1?baud=38400", url=url))
    query = url_query(url)
    try:
        baud = int(options.get("baud") or query.get("baud") or 38400)
    except ValueError:
        raise ConfigError(N_("printer URL {url!r}: baud must be a number", url=url)) from None
    rtscts = str(options.get("rtscts") or query.get("rtscts") or "0") in ("1", "true", "yes")
    try:
        port = serial.serial_for_url(path, baudrate=baud, rtscts=rtscts, timeout=1.0, write_timeout=5.0)
    except (serial.SerialException, ValueError) as exc:
        raise EquipmentError(N_("cannot open the printer port {path}: {exc}", path=path, exc=exc), fault_code="BENCH-PORT") from exc
    return EscPosPrinter(url, SerialTransport(port))


