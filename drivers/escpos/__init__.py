"""ESC/POS, the receipt printers' command language: pure bytes, no port, no simulator.

* :mod:`drivers.escpos.encoders`: the commands a host sends (requests and page content).
* :mod:`drivers.escpos.status`: the printer's answers (``DLE EOT n`` status, ``GS I n`` info).
* :mod:`drivers.escpos.parser`: a byte stream split into commands, as a printer reads it.
* :mod:`drivers.escpos.render`: those commands drawn as a picture of the receipt (needs Pillow,
  so it is not imported here).

The driver (:mod:`drivers.printer`), the simulated printer (:mod:`drivers.sim.printer`) and
the checks all speak through these functions, so the bytes are tested once, exactly. The
wire API is re-exported here: ``from drivers import escpos; escpos.line("TOTAL")``.
"""

from __future__ import annotations

from drivers.escpos.encoders import (
    BARCODE_TYPES,
    DLE,
    ENQ,
    EOT,
    ESC,
    FS,
    GS,
    INFO_FIRMWARE,
    INFO_MANUFACTURER,
    INFO_MODEL,
    INFO_SERIAL,
    INIT,
    LF,
    NUL,
    align,
    barcode,
    bold,
    cut,
    feed,
    info_request,
    line,
    paper_sensor_request,
    qr,
    raster,
    size,
    status_request,
    text,
    underline,
)
from drivers.escpos.parser import Command, commands, next_command, parse
from drivers.escpos.status import (
    STATUS_ERROR,
    STATUS_OFFLINE,
    STATUS_PAPER,
    STATUS_PRINTER,
    check_status_byte,
    decode_info,
    decode_status,
    decode_status_byte,
    encode_info,
    encode_status_byte,
)

__all__ = [
    "BARCODE_TYPES",
    "DLE",
    "ENQ",
    "EOT",
    "ESC",
    "FS",
    "GS",
    "INFO_FIRMWARE",
    "INFO_MANUFACTURER",
    "INFO_MODEL",
    "INFO_SERIAL",
    "INIT",
    "LF",
    "NUL",
    "STATUS_ERROR",
    "STATUS_OFFLINE",
    "STATUS_PAPER",
    "STATUS_PRINTER",
    "Command",
    "align",
    "barcode",
    "bold",
    "check_status_byte",
    "commands",
    "cut",
    "decode_info",
    "decode_status",
    "decode_status_byte",
    "encode_info",
    "encode_status_byte",
    "feed",
    "info_request",
    "line",
    "next_command",
    "paper_sensor_request",
    "parse",
    "qr",
    "raster",
    "size",
    "status_request",
    "text",
    "underline",
]
