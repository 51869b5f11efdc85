"""The device half of a fault scenario: which simulated devices a run gets, and their faults.

A scenario file (``drivers/sim/scenarios/NAME.yaml``) has two halves. The harness reads the
file and owns its operator answers and expected result (``bench/scenario.py``); the
``device:`` section belongs to the simulator, and this module is the one place that reads
and validates it::

    device:
      unit:                   # overrides merged over the unit profile named by `base`
        base: good            # (drivers/sim/profiles/; default good)
        battery: {charge_percent: 8, voltage: 3.41}
      cards:                  # the simulated card reader
        substitute: {emv-visa-contact: mute}   # the reader turns the good test card into this
                                               # one (none: the reader never sees the card)
        inserted: emv-visa-contact             # a card already in the reader at the start
      printer:                # the simulated USB printer (drivers/sim/printer.py)
        faults: {cover_open: true}
      host:                   # the bench acquirer host the simulated bench runs (role host)
        behaviour:            # a behaviour file, inline (docs/iso8583.md); default: approve all
          rules:
            - {card: "476173", answer: decline, code: "51"}

:func:`parse_devices` returns a validated :class:`SimDevices` (the merged unit profile,
the printer's faults and identity, the card substitutions, the host's behaviours) that
:class:`drivers.sim.bench.SimBench` starts without checking anything again. An error
names the scenario file and the line of the offending key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.yamlsafe import LineDict, LineList

if TYPE_CHECKING:
    from drivers.acquirer.behaviours import Behaviours
    from drivers.sim.printer import PrinterFaults, PrinterInfo

SCENARIO_DIR = Path(__file__).with_name("scenarios")
_DEVICE_KEYS = ("unit", "cards", "printer", "host")
_HOST_KEYS = ("behaviour",)
_CARD_KEYS = ("substitute", "inserted")
_NO_CARD = "none"


@dataclass(frozen=True)
class SimDevices:
    """The validated device half of a scenario.

    Attributes:
        unit: the merged, validated unit profile (plain data, JSON-serialisable).
        substitute: card the plan asks for -> card the reader sees (None: sees nothing).
        inserted: a card already in the reader when the bench starts.
        printer_faults: the simulated printer's faults (None: a healthy printer).
        printer_info: what the simulated printer says it is (None: the default identity).
        host: how the simulated bench's acquirer host answers (None: it approves everything).
    """

    unit: dict[str, Any]
    substitute: dict[str, str | None] = field(default_factory=dict)
    inserted: str | None = None
    printer_faults: PrinterFaults | None = None
    printer_info: PrinterInfo | None = None
    host: Behaviours | None = None

    def with_serial(self, serial: str) -> SimDevices:
        """The same devices, with a unit that reports ``serial`` (one simulated unit of many)."""
        return replace(self, unit={**self.unit, "serial": str(serial)})


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with bench."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def scenario_path(name_or_path: str) -> Path:
    """The file of a shipped scenario by name, or the given path when it names a YAML file.

    Raises:
        ConfigError: an unknown name (the message lists the known ones).
    """
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise ConfigError(N_("unknown scenario {name_or_path!r}; known: {items}", name_or_path=name_or_path, items=', '.join(scenario_names())))
    return path


def parse_devices(section: Mapping[str, Any] | None, *, path: str | None = None, name: str = "device") -> SimDevices:
    """Validate a scenario's ``device:`` section into :class:`SimDevices`.

    Args:
        section: the section as loaded (a :class:`~drivers.yamlsafe.LineDict` gives errors a line).
        path: the scenario file, for errors.
        name: the section's name in the file, for the field of an error.

    Raises:
        ConfigError: an unknown key, a bad value, an unknown unit profile or card; with the
            file, the line and the field.
    """
    where = _Where(section if isinstance(section, LineDict) else None, path, name)
    data = section or {}
    if not isinstance(data, Mapping):
        raise where.error("", N_("{name} must be a mapping of {items}", name=name, items=', '.join(_DEVICE_KEYS)))
    for key in data:
        if key not in _DEVICE_KEYS:
            raise where.error(key, N_("unknown field {key!r}; known: {items}", key=key, items=', '.join(_DEVICE_KEYS)))
    substitute, inserted = _cards(data.get("cards"), where)
    faults, info = _printer(data.get("printer"), where)
    return SimDevices(_unit(data.get("unit"), where), substitute, inserted, faults, info, _host(data.get("host"), where))


def _unit(raw: Any, where: _Where) -> dict[str, Any]:
    from drivers.sim.unitprofile import load_profile, profile_file, profile_names

    overrides = dict(raw or {}) if isinstance(raw, Mapping) or raw is None else None
    if overrides is None:
        raise where.error("unit", N_("unit must be a mapping: base: PROFILE and the profile fields it changes"))
    base = overrides.pop("base", "good")
    if not isinstance(base, str) or not profile_file(base).is_file():
        raise where.error("unit.base", N_("unknown unit profile {base!r}; known: {items}", base=base, items=', '.join(profile_names())))
    try:
        return load_profile(base, _plain(overrides))
    except ConfigError as exc:
        raise where.relocated(exc, "unit") from exc


def _cards(raw: Any, where: _Where) -> tuple[dict[str, str | None], str | None]:
    if raw is None:
        return {}, None
    if not isinstance(raw, Mapping):
        raise where.error("cards", N_("cards must be a mapping with substitute and inserted"))
    for key in raw:
        if key not in _CARD_KEYS:
            raise where.error(f"cards.{key}", N_("unknown field {key!r}; known: {items}", key=key, items=', '.join(_CARD_KEYS)))
    from drivers.sim.vcard import available_profiles

    known = set(available_profiles())

    def card(value: Any, at: str, none_ok: bool) -> str | None:
        if none_ok and value in (None, _NO_CARD):
            return None
        if not isinstance(value, str) or value not in known:
            raise where.error(at, N_("unknown card {value!r}; known: {items}", value=value, items=', '.join(sorted(known))))
        return value

    substitute = raw.get("substitute") or {}
    if not isinstance(substitute, Mapping):
        raise where.error("cards.substitute", N_("substitute must map a test card to the card the reader sees"))
    swaps = {card(k, f"cards.substitute.{k}", False) or k: card(v, f"cards.substitute.{k}", True)
             for k, v in substitute.items()}
    inserted = raw.get("inserted")
    return swaps, None if inserted is None else card(inserted, "cards.inserted", False)


def _printer(raw: Any, where: _Where) -> tuple[PrinterFaults | None, PrinterInfo | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        raise where.error("printer", N_("printer must be a mapping: faults and the printer's identity"))
    from drivers.sim.printer import PrinterFaults, PrinterInfo

    identity = {f.name: f.type for f in fields(PrinterInfo)}
    info: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "faults":
            continue
        if key not in identity:
            raise where.error(f"printer.{key}", N_("unknown field {key!r}; known: faults, {items}", key=key, items=', '.join(identity)))
        wanted = int if identity[key] in (int, "int") else str
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise where.error(f"printer.{key}", N_("printer {key} must be {value}", key=key, value='a number' if wanted is int else 'text'))
        info[key] = value
    try:
        faults = PrinterFaults.from_mapping(raw.get("faults"))
    except ConfigError as exc:
        raise where.relocated(exc, "") from exc
    return faults, PrinterInfo(**info)


def _host(raw: Any, where: _Where) -> Behaviours | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise where.error("host", N_("host must be a mapping: behaviour: and the behaviour file's content"))
    for key in raw:
        if key not in _HOST_KEYS:
            raise where.error(f"host.{key}", N_("unknown field {key!r}; known: {items}", key=key, items=', '.join(_HOST_KEYS)))
    behaviour = raw.get("behaviour")
    if behaviour is not None and not isinstance(behaviour, Mapping):
        raise where.error("host.behaviour", N_("behaviour is a mapping with default: and rules: (docs/iso8583.md)"))
    from drivers.acquirer.behaviours import parse_behaviours

    try:
        return parse_behaviours(behaviour, where.path or "<scenario>")
    except ConfigError as exc:  # its lines are the scenario's; its field is relative to the behaviour
        line = exc.line if exc.line is not None else where.line_of("host.behaviour")
        field_ = f"{where.name}.host.behaviour" + (f".{exc.field}" if exc.field else "")
        raise ConfigError(_bare_message(exc), path=where.path, line=line, field=field_) from exc


class _Where:
    """Turns a field of the device section into an error naming the file and line."""

    def __init__(self, section: LineDict | None, path: str | None, name: str) -> None:
        self.section = section
        self.path = path
        self.name = name

    def error(self, field_: str, message: str) -> ConfigError:
        """A ConfigError at ``field_`` (dotted, relative to the section)."""
        full = f"{self.name}.{field_}" if field_ else self.name
        return ConfigError(message, path=self.path, line=self.line_of(field_), field=full)

    def relocated(self, exc: ConfigError, prefix: str) -> ConfigError:
        """Point an error from a validator (field relative to ``prefix``) at the scenario's line.

        An error in a field the scenario does not set (it comes from the base profile) keeps
        its own file.
        """
        rel = ".".join(p for p in (prefix, exc.field or "") if p)
        if exc.field is None or self.section is None or self.line_of(rel, exact=True) is None:
            return exc
        return self.error(rel, _bare_message(exc))

    def line_of(self, dotted: str, exact: bool = False) -> int | None:
        """Line of a dotted field (``a.b[2].c``) in the section: the deepest part found."""
        node: Any = self.section
        if node is None:
            return None
        line: int | None = node.line
        for part in (p for p in dotted.split(".") if p):
            key, _, rest = part.partition("[")
            indexes = [int(i) for i in re.findall(r"\d+", rest)]
            if not isinstance(node, LineDict) or key not in node:
                return None if exact else line
            line, node = node.line_of(key), node[key]
            for i in indexes:
                if not isinstance(node, LineList) or i >= len(node):
                    return None if exact else line
                line, node = node.item_lines[i], node[i]
        return line


def _bare_message(exc: ConfigError) -> str:
    """The message of a ConfigError without its ``path:line: `` prefix and ``(at field)`` suffix."""
    text = str(exc)
    if exc.field and text.endswith(f" (at {exc.field})"):
        text = text[: -len(f" (at {exc.field})")]
    where = exc.path or ""
    if exc.line is not None:
        where = f"{where}:{exc.line}" if where else f"line {exc.line}"
    return text[len(where) + 2 :] if where and text.startswith(f"{where}: ") else text


def _plain(value: Any) -> Any:
    """YAML's line-numbered containers as plain dicts and lists (the profile goes out as JSON)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
