"""``visa://`` URLs: which VISA resource, through which VISA library, with which options.

::

    visa://TCPIP::192.168.0.20::INSTR                   the default VISA library (IVI, else pyvisa-py)
    visa://USB0::0x2A8D::0x1002::MY1234::INSTR?backend=@py
    visa://TCPIP::10.0.0.21::INSTR?backend=/path/bench.yaml@sim&timeout=1

Everything between ``visa://`` and ``?`` is the VISA resource string, as PyVISA reads it (it is not
split like a web address: ``ASRL/dev/ttyUSB0::INSTR`` has slashes). Options:

* ``backend``: PyVISA's own library specification, passed to ``pyvisa.ResourceManager`` as is:
  ``@ivi``, ``@py`` (pyvisa-py), ``FILE.yaml@sim`` (PyVISA-sim with that description file; the simulated
  bench hands out URLs naming its own copy of ``drivers/sim/instruments/``).
* ``timeout``: seconds an instrument may take to answer one command (default 2, from 0.05 to 60).
* ``profile``: the command family to use (``keysight-e36``, ``rigol-dp800``...; default: picked from
  ``*IDN?``, :mod:`drivers.instruments.profiles`).
* ``channel``: the supply's output channel (default 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl

from drivers.errors import ConfigError
from drivers.i18n import N_

SCHEME = "visa://"
DEFAULT_TIMEOUT = 2.0
MIN_TIMEOUT, MAX_TIMEOUT = 0.05, 60.0
_OPTIONS = ("backend", "timeout", "profile", "channel")
_MAX_URL = 1000


@dataclass(frozen=True)
class VisaUrl:
    """A parsed ``visa://`` URL; ``resource`` is the canonical VISA resource name."""

    url: str
    resource: str
    backend: str = ""
    timeout: float = DEFAULT_TIMEOUT
    profile: str | None = None
    channel: int = 1


def parse_visa_url(url: str, role: str) -> VisaUrl:
    """Read ``url`` for the station role ``role`` (named in errors).

    Raises:
        ConfigError: not a ``visa://`` URL, a resource string VISA cannot read, an unknown or bad option.
    """
    if len(url) > _MAX_URL or not url.lower().startswith(SCHEME):
        raise ConfigError(N_("{role}: {url!r} is not a visa:// URL (visa://TCPIP::192.168.0.20::INSTR)", role=role, url=url[:80]))
    resource, _, query = url[len(SCHEME):].partition("?")
    if not resource:
        raise ConfigError(N_("{role}: {url!r} names no VISA resource (visa://TCPIP::192.168.0.20::INSTR)", role=role, url=url))
    from pyvisa import rname  # here, not at import: the registry imports drivers only when opening one

    try:
        canonical = str(rname.parse_resource_name(resource))
    except rname.InvalidResourceName as exc:
        raise ConfigError(N_("{role}: {resource!r} is not a VISA resource name ({exc})", role=role, resource=resource, exc=exc)) from exc
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ConfigError(N_("{role}: the options of {url!r} cannot be read ({exc})", role=role, url=url, exc=exc)) from exc
    for key, value in pairs:
        if key not in _OPTIONS:
            raise ConfigError(N_("{role}: unknown option {key!r} in {url!r}; known: {items}", role=role, key=key, url=url, items=', '.join(_OPTIONS)))
        options[key] = value
    return VisaUrl(url, canonical, options.get("backend", ""), _timeout(role, options.get("timeout")),
                   options.get("profile") or None, _channel(role, options.get("channel")))


def _timeout(role: str, text: str | None) -> float:
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:  # NaN fails too
        raise ConfigError(N_("{role}: timeout={text!r} must be seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT:g}", role=role, text=text, MIN_TIMEOUT=MIN_TIMEOUT, MAX_TIMEOUT=MAX_TIMEOUT))
    return value


def _channel(role: str, text: str | None) -> int:
    if text is None:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise ConfigError(N_("{role}: channel={text!r} must be a channel number from 1 to 16", role=role, text=text))
    return int(text)
