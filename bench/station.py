"""Stations: which unit port, card reader and printer a bench has (``stations/*.toml``).

::

    name = "bench-7"
    db = "postgresql://bench@dbhost/bench"   # optional; default: the local SQLite store
    [devices]
    unit = "/dev/ttyUSB0"                    # any pyserial URL: rfc2217://host:4001, socket://...
    card_reader = "pcsc://ACS ACR39U*"
    printer = "usb://04b8:0e15"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import ConfigError, PlanError
from drivers.yamlsafe import read_text

_ROLES = ("unit", "card_reader", "printer")
_KEYS = {"name", "db", "operator", "devices", "description"}
_MAX_TEXT = 1000


@dataclass(frozen=True)
class Station:
    """A validated station file."""

    name: str
    devices: dict[str, str] = field(default_factory=dict)
    db: str | None = None
    operator: str | None = None
    path: str | None = None


def load_station(path: str | Path) -> Station:
    """Read and validate a station file; every problem is a one-line :class:`PlanError`."""
    p = Path(path)
    try:
        data = tomllib.loads(read_text(p, what="station file"))  # bounded: a regular file, its size, no control characters
    except ConfigError as exc:
        raise PlanError.of(exc) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        message = str(exc)[: at.start()].strip() if at else str(exc)
        raise PlanError(f"TOML error: {message}", path=str(p), line=int(at.group(1)) if at else None) from None
    for key in data:
        if key not in _KEYS:
            raise PlanError(f"unknown field {key!r}; allowed: {', '.join(sorted(_KEYS))}", path=str(p), field=key)
    name = data.get("name", p.stem)
    devices = data.get("devices", {})
    if not isinstance(devices, dict) or not devices:
        raise PlanError("a station needs a [devices] table (unit, card_reader, printer)", path=str(p), field="devices")
    for role, url in devices.items():
        if role not in _ROLES:
            raise PlanError(
                f"unknown device role {role!r}; known: {', '.join(_ROLES)}", path=str(p), field=f"devices.{role}"
            )
        if not isinstance(url, str) or not url:
            raise PlanError("a device URL must be non-empty text", path=str(p), field=f"devices.{role}")
    for key in ("name", "db", "operator", "description"):
        if key in data and (not isinstance(data[key], str) or len(data[key]) > _MAX_TEXT):
            raise PlanError(f"{key} must be text of at most {_MAX_TEXT} characters", path=str(p), field=key)
    for role, url in devices.items():
        if len(url) > _MAX_TEXT:
            raise PlanError(f"a device URL has at most {_MAX_TEXT} characters", path=str(p), field=f"devices.{role}")
    return Station(str(name), dict(devices), data.get("db"), data.get("operator"), str(p))
