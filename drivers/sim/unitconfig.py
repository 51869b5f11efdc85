"""The simulated unit's configuration for its merchant: its settings, their rules, CONFIG_READ/WRITE (§5c).

The settings live in the unit's flash: written values survive a reboot (the simulator keeps them as
long as the unit's process runs). The unit knows a fixed set of settings and lists every one of them,
``""`` for one that is not set. It checks a written value by its own rules (a real unit's firmware
does the same); ``""`` clears a setting. Profile section ``config:`` (defaults in brackets):
``settings`` (nested like a merchant profile: ``terminal_id``, ``merchant_id``, ``acquirer_host``,
``timezone``, ``receipt_header`` (a list of lines), ``network: {eth|wifi|cellular: {mode, address,
gateway, dns, ssid, apn}}``; null: not set, as after a return to factory), ``read_only`` ([]: keys the
unit refuses to write) and ``forgets`` ([]: keys the unit answers ``written`` for but does not keep,
a failing flash).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drivers import configproto as cp
from drivers.errors import ConfigError, ProtocolError
from drivers.i18n import N_
from drivers.unitsettings import HEADER_LINES, INTERFACES, KEYS, NETWORK_FIELDS, value_problem

#: ERROR code for a page that cannot hold even one setting (docs/protocol.md §5c).
ERR_INTERNAL = 0x04


def problem(key: str, value: str) -> str | None:
    """Why the unit refuses ``value`` for ``key`` (``expected ...``), or None when it takes it."""
    if value == "":
        return None  # clears the setting
    what = value_problem(key, value)
    return None if what is None else N_("expected {what}", what=what)


def flatten(settings: Mapping[str, Any], source: str = "<profile>") -> dict[str, str]:
    """A profile's nested ``config.settings`` -> every key of :data:`KEYS` with its value (``""`` unset).

    Raises:
        ConfigError: an unknown setting, or a value the unit's own rules refuse (naming the field).
    """
    flat = dict.fromkeys(KEYS, "")

    def put(key: str, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or problem(key, value) is not None:
            raise ConfigError(N_("{problem}, got {value!r}", problem=problem(key, str(value)) or N_("expected a text"), value=value), path=source,
                              field=field)
        flat[key] = value

    for name, value in settings.items():
        field = f"config.settings.{name}"
        if name == "receipt_header":
            if value is not None and (not isinstance(value, list) or len(value) > HEADER_LINES):
                raise ConfigError(N_("expected a list of at most {HEADER_LINES} lines", HEADER_LINES=HEADER_LINES), path=source, field=field)
            for n, line in enumerate(value or [], 1):
                put(f"receipt_header.{n}", line, f"{field}[{n - 1}]")
        elif name == "network":
            if not isinstance(value, dict) or not set(value) <= set(INTERFACES):
                raise ConfigError(N_("expected a mapping of {items}", items=', '.join(INTERFACES)), path=source, field=field)
            for iface, fields in value.items():
                if not isinstance(fields, dict) or not set(fields) <= set(NETWORK_FIELDS):
                    raise ConfigError(N_("expected a mapping of {items}", items=', '.join(NETWORK_FIELDS)), path=source,
                                      field=f"{field}.{iface}")
                for key, setting in fields.items():
                    put(f"network.{iface}.{key}", setting, f"{field}.{iface}.{key}")
        elif name in KEYS:
            put(name, value, field)
        else:
            raise ConfigError(N_("unknown setting {name!r}", name=name), path=source, field=field)
    return flat


def check_profile(prof: dict[str, Any], source: str) -> None:
    """Validate the profile's ``config`` section (raises ConfigError naming the field)."""
    spec = prof["config"]
    if not isinstance(spec, dict) or not set(spec) <= {"settings", "read_only", "forgets"}:
        raise ConfigError(N_("expected {settings, read_only, forgets}"), path=source, field="config")
    if not isinstance(spec.get("settings"), dict):
        raise ConfigError(N_("expected a mapping of settings"), path=source, field="config.settings")
    flatten(spec["settings"], source)
    for name in ("read_only", "forgets"):
        keys = spec.get(name, [])
        if not isinstance(keys, list) or not all(k in KEYS for k in keys):
            raise ConfigError(N_("expected a list of setting keys ({items}, receipt_header.N, network.IFACE.FIELD)", items=', '.join(KEYS[:4])), path=source, field=f"config.{name}")


class ConfigRefused(Exception):
    """A configuration request the unit answers with an ERROR code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class UnitConfig:
    """The unit's settings (in flash: they survive reboots) and its CONFIG_READ/CONFIG_WRITE answers."""

    def __init__(self, profile: Mapping[str, Any]) -> None:
        spec = profile["config"]
        self.settings = flatten(spec["settings"])
        self.read_only = frozenset(spec.get("read_only", ()))
        self.forgets = frozenset(spec.get("forgets", ()))
        self.generation = 1

    def read(self, payload: bytes, max_payload: int) -> bytes:
        """A CONFIG_READ answer: as many settings from the asked index as fit ``max_payload``."""
        first = self._decode(cp.decode_read, payload)
        if first > len(KEYS):
            raise ConfigRefused(0x02, f"setting {first} is past the last ({len(KEYS)})")
        room = max_payload - cp.READ_HEADER
        page: list[tuple[str, str]] = []
        for key in KEYS[first:]:
            size = cp.pair_size(key, self.settings[key])
            if size > room or len(page) == 255:
                break
            page.append((key, self.settings[key]))
            room -= size
        if not page and first < len(KEYS):
            raise ConfigRefused(ERR_INTERNAL, f"setting {KEYS[first]} does not fit a {max_payload}-byte payload")
        return cp.ConfigPage(self.generation, len(KEYS), first, tuple(page)).encode()

    def write(self, payload: bytes, max_payload: int) -> bytes:
        """A CONFIG_WRITE answer: each pair written, or why not, in the request's order (the reasons are
        left out when they would not fit ``max_payload``)."""
        results: list[tuple[str, str]] = []
        for key, value in self._decode(cp.decode_write, payload):
            if key not in self.settings:
                results.append(("unknown key", ""))
            elif key in self.read_only:
                results.append(("read-only", ""))
            elif (why := problem(key, value)) is not None:
                results.append(("invalid value", why))
            else:
                if key not in self.forgets and self.settings[key] != value:
                    self.settings[key] = value
                    self.generation += 1
                results.append(("written", ""))
        answer = cp.encode_write_answer(results)
        return answer if len(answer) <= max_payload else cp.encode_write_answer([(r, "") for r, _ in results])

    @staticmethod
    def _decode(decode: Callable[[bytes], Any], payload: bytes) -> Any:
        try:
            return decode(payload)
        except ProtocolError as exc:
            raise ConfigRefused(0x02, str(exc)) from exc
