"""Simulated unit profiles: YAML with a checked ``spec: 1``, inheritance and validation.

A profile describes one simulated unit: identity, self-test, battery, tamper, event log,
comms, key layout (``keys``), ``display`` geometry, magstripe ``msr``, test sales (``txn``: stage
delays, receipt printer, battery drain per sale), firmware updates (``firmware_update``: a new image
that does not boot, an update pending at intake, trusted keys), the merchant's settings (``config``,
:mod:`drivers.sim.unitconfig`) and injected ``faults``. ``base: good`` inherits another profile (a shipped name or
a path relative to the file) and deep-merges the overrides on top; lists are replaced,
mappings are merged. :func:`load_profile` returns a plain, JSON-serialisable dict, so a
merged profile can be handed to ``python -m drivers.sim.unit --profile-json``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.sim.unitconfig import check_profile as check_config
from drivers.sim.unitpower import DEFAULTS as POWER_DEFAULTS

SPEC_VERSION = 1
PROFILES_DIR = Path(__file__).parent / "profiles"

_DEFAULTS: dict[str, Any] = {
    "hw_revision": "A",
    "max_payload": 512,
    "capabilities": ["selftest", "battery", "tamper", "eventlog", "comms", "reboot"],
    "boot_time": 1.0,
    "self_test": {},
    "battery": {"voltage": 7.4, "charge_percent": 90, "charging": False, "adapter_present": True},
    "tamper": {"tampered": False, "keys_present": True, "flags": []},
    "event_log": [],
    "event_log_fill": 0,
    "comms": {},
    "keys": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "ENTER", "CANCEL", "CLEAR", "F1", "F2", "F3", "F4"],
    "display": {
        "width": 128,
        "height": 64,
        "bits_per_pixel": 1,
        "text_rows": 8,
        "text_columns": 21,
        "checksum": True,
        "backlight_ma": 40.0,
    },
    "msr": {"tracks": [1, 2]},
    # Test sales (docs/protocol.md §5a): stage delays, the receipt printer, battery drain per sale.
    "txn": {
        "amount_ms": 1,
        "card_ms": 1,
        "print_ms": 1,
        "merchant": "BENCH TEST MERCHANT",
        "merchant_id": "BENCHMERCHANT01",
        "host": "",  # the unit's own acquirer setting, tcp://ADDR:PORT, used when TXN_START names none
        "battery_drain": 0.01,  # charge percent per sale on battery (not charging)
        "printer": {"paper_mm": 50_000, "receipt_mm": 80, "near_end_mm": 1_000, "ambient_c": 25.0,
                    "rise_c": 0.02, "cool_s": 10.0, "hot_c": 75.0},
    },
    # Firmware updates (docs/protocol.md §5b): a new image that does not boot (rollback), an update
    # left unfinished before intake {version, received, total}, the public key files the unit trusts
    # (none: the simulator's TEST-ONLY key).
    "firmware_update": {"boot_fails": False, "pending": None, "trusted_keys": []},
    # The unit's configuration for its merchant (docs/protocol.md §5c; drivers/sim/unitconfig.py): nested
    # settings (null: not set), keys it refuses to write, keys it says it wrote but does not keep.
    "config": {"settings": {}, "read_only": [], "forgets": []},
    "faults": {},
    "script": [],
    # Power figures for the bench's instruments (drivers/sim/unitpower.py): currents, brownout, inrush.
    "power": dict(POWER_DEFAULTS),
}
_FAULT_DEFAULTS: dict[str, Any] = {
    "noise": 0,
    "rx_noise": 0,  # one byte corrupted in every N-th chunk read from the host (a bad receive line)
    "garbage": False,
    "silent_after": None,
    "reboot_after": None,
    "slow_ms": 0,
    "power_off_after": None,
    "seed": 1,
    # keypad: keys never reported / held down from the start and never released / bouncing
    "dead_keys": [],
    "stuck_keys": [],
    "bouncing_keys": [],
    # display: pixels stuck off or on ([x, y] or [x, y, "on"]), backlight reading ~0 mA
    "dead_pixels": [],
    "backlight_failed": False,
    # magstripe: a wrong LRC character on every track; {fail: K, of: N} misreads per N swipes
    "msr_bad_lrc": False,
    "msr_misreads": None,
    # sales: the network goes down periodically {up_s, down_s}; card reads fail more as the reader
    # warms up {after: N reads, per_read: P added per read, max: M}
    "network_flap": None,
    "reader_degrades": None,
    # firmware updates: every N-th FW_CHUNK request is lost; the power fails once BYTES are written
    "fw_link_drop_every": None,
    "fw_power_cut_at": None,
}
_TOP = {"spec", "base", "model", "serial", *(_DEFAULTS), "firmware"}
_REL_TIME = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_BASES = 16
#: Every number in a profile is finite and within +-_MAX_NUMBER; these fields have tighter bounds.
_MAX_NUMBER = 1e9
_MAX_TEXT = 1000
_MAX_ITEMS = 10_000
_BOUNDS: dict[str, tuple[float, float]] = {
    "boot_time": (0, 600),
    "event_log_fill": (0, 10_000),
    "battery.voltage": (0, 100),
    "display.backlight_ma": (0, 10_000),
    "faults.slow_ms": (0, 600_000),
    "faults.noise": (0, 1_000_000),
    "faults.rx_noise": (0, 1_000_000),
    "txn.amount_ms": (0, 60_000),
    "txn.card_ms": (0, 60_000),
    "txn.print_ms": (0, 60_000),
    "txn.battery_drain": (0, 100),
    "txn.printer.paper_mm": (0, 1_000_000),
    "txn.printer.receipt_mm": (1, 10_000),
    "txn.printer.near_end_mm": (0, 1_000_000),
    "txn.printer.ambient_c": (-40, 100),
    "txn.printer.rise_c": (0, 100),
    "txn.printer.cool_s": (0.001, 100_000),
    "txn.printer.hot_c": (-40, 300),
    "faults.network_flap.up_s": (0.001, 1e6),
    "faults.network_flap.down_s": (0.001, 1e6),
    "faults.reader_degrades.after": (0, 1e9),
    "faults.reader_degrades.per_read": (0, 1),
    "faults.reader_degrades.max": (0, 1),
    "faults.fw_link_drop_every": (1, 1_000_000),
    "faults.fw_power_cut_at": (1, 64 * 1024 * 1024),
    "firmware_update.pending.received": (0, 64 * 1024 * 1024),
    "firmware_update.pending.total": (1, 64 * 1024 * 1024),
}


def parse_time(value: object, now: datetime | None = None) -> datetime:
    """Resolve a log time: relative (``-2h``, ``-30d``, ``-15m``, ``-10s``, ``-1w``) or ISO 8601.

    Naive ISO times are taken as UTC. Raises ValueError for anything else.
    """
    now = now or datetime.now(UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    match = _REL_TIME.match(value.strip())
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: mappings recursively, everything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def profile_names() -> list[str]:
    """Names of the unit profiles shipped in ``drivers/sim/profiles``."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def profile_file(path_or_name: str | Path) -> Path:
    """The file of a shipped profile name (``good``), or the given path."""
    return _resolve(path_or_name)


def _resolve(path_or_name: str | Path, relative_to: Path | None = None) -> Path:
    text = str(path_or_name)
    if "/" not in text and not text.endswith((".yaml", ".yml")):
        return PROFILES_DIR / f"{text}.yaml"
    path = Path(text)
    if not path.is_absolute() and relative_to is not None and not path.exists():
        path = relative_to / path
    return path


def _read(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    from drivers.yamlsafe import load_file  # here: the unit's process gets its profile as JSON

    if path.resolve() in chain:
        raise ConfigError(N_("profile inherits from itself"), path=str(path), field="base")
    if len(chain) >= _MAX_BASES:
        raise ConfigError(N_("more than {MAX_BASES} profiles inherit from each other", MAX_BASES=_MAX_BASES), path=str(path), field="base")
    data = load_file(path, what="profile")  # bounded: size, nesting, aliases, finite numbers; one-line errors
    if not isinstance(data, dict):
        raise ConfigError(N_("a profile must be a mapping"), path=str(path))
    _check_spec(data, str(path))
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(N_("base must be a profile name or path"), path=str(path), field="base")
    parent = _read(_resolve(base, path.parent), (*chain, path.resolve()))
    return deep_merge(parent, data)


def _check_spec(data: Mapping[str, Any], source: str) -> None:
    if "spec" not in data:
        raise ConfigError(N_("missing 'spec: {SPEC_VERSION}'", SPEC_VERSION=SPEC_VERSION), path=source, field="spec")
    if data["spec"] != SPEC_VERSION:
        raise ConfigError(
            N_("unsupported profile spec {data!r} (this bench reads spec {SPEC_VERSION})", data=data['spec'], SPEC_VERSION=SPEC_VERSION),
            path=source,
            field="spec",
        )


def load_profile(path_or_name: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Load, inherit, override and validate a unit profile.

    Args:
        path_or_name: a shipped profile name (``good``, ``low-battery``, ...) or a YAML path.
        overrides: deep-merged on top (a scenario's changes), then validated.

    Returns:
        The merged, validated profile as a plain dict (JSON-serialisable).

    Raises:
        ConfigError: unreadable file, bad YAML, wrong ``spec``, unknown key or bad value.
    """
    path = _resolve(path_or_name)
    data = _read(path, ())
    if overrides:
        data = deep_merge(data, {k: v for k, v in overrides.items() if k != "base"})
    return validate_profile(data, source=str(path))


def validate_profile(data: Mapping[str, Any], source: str = "<profile>") -> dict[str, Any]:
    """Check a (merged) profile and fill in defaults; raises ConfigError naming the bad field."""
    _check_spec(data, source)
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ConfigError(N_("unknown profile key(s): {items}", items=', '.join(unknown)), path=source, field=unknown[0])
    prof = deep_merge(_DEFAULTS, {k: v for k, v in data.items() if k != "base"})
    prof["faults"] = deep_merge(_FAULT_DEFAULTS, prof["faults"] or {})

    def fail(field: str, message: str) -> ConfigError:
        return ConfigError(message, path=source, field=field)

    def want(field: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
        if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise fail(field, N_("expected {what}, got {value!r}", what=what, value=value))
        if not isinstance(value, kinds):
            raise fail(field, N_("expected {what}, got {value!r}", what=what, value=value))

    def known(field: str, mapping: object, keys: set[str]) -> dict[str, Any]:
        if not isinstance(mapping, dict):
            raise fail(field, N_("expected a mapping, got {mapping!r}", mapping=mapping))
        extra = sorted(set(mapping) - keys)
        if extra:
            raise fail(f"{field}.{extra[0]}", N_("unknown key(s): {items}", items=', '.join(extra)))
        return mapping

    for key in ("model", "serial", "firmware"):
        if key not in prof:
            raise fail(key, N_("missing required field {key!r}", key=key))
    for key in ("model", "serial", "hw_revision", "firmware"):
        prof[key] = str(prof[key])
    want("max_payload", prof["max_payload"], int, "an integer")
    if not 32 <= prof["max_payload"] <= 1024:
        raise fail("max_payload", N_("must be between 32 and 1024"))
    want("capabilities", prof["capabilities"], list, "a list of names")
    prof["capabilities"] = [str(c) for c in prof["capabilities"]]
    want("boot_time", prof["boot_time"], (int, float), "seconds")
    if prof["boot_time"] < 0:
        raise fail("boot_time", N_("must not be negative"))
    if not isinstance(prof["self_test"], dict):
        raise fail("self_test", N_("expected a mapping of subsystem to 'pass' or an error code"))
    for name, result in prof["self_test"].items():
        field = f"self_test.{name}"
        if isinstance(result, dict):
            known(field, result, {"code", "detail"})
            want(f"{field}.code", result.get("code"), int, "an integer error code")
        elif result != "pass" and (isinstance(result, bool) or not isinstance(result, int)):
            raise fail(field, N_("expected 'pass' or an integer error code, got {result!r}", result=result))
    batt = known("battery", prof["battery"], {"voltage", "charge_percent", "charging", "adapter_present"})
    want("battery.voltage", batt["voltage"], (int, float), "volts")
    want("battery.charge_percent", batt["charge_percent"], int, "a percentage")
    if not 0 <= batt["charge_percent"] <= 100:
        raise fail("battery.charge_percent", N_("must be between 0 and 100"))
    want("battery.charging", batt["charging"], bool, "true or false")
    want("battery.adapter_present", batt["adapter_present"], bool, "true or false")
    tamper = known("tamper", prof["tamper"], {"tampered", "keys_present", "flags"})
    want("tamper.tampered", tamper["tampered"], bool, "true or false")
    want("tamper.keys_present", tamper["keys_present"], bool, "true or false")
    want("tamper.flags", tamper["flags"], list, "a list of names")
    want("event_log", prof["event_log"], list, "a list of entries")
    for i, entry in enumerate(prof["event_log"]):
        field = f"event_log[{i}]"
        known(field, entry, {"time", "code", "severity", "text"})
        try:
            parse_time(entry.get("time"))
        except ValueError as exc:
            raise fail(f"{field}.time", N_("expected '-2h', '-30d' or an ISO time: {exc}", exc=exc)) from exc
        if isinstance(entry["time"], datetime):
            entry["time"] = parse_time(entry["time"]).isoformat()
        want(f"{field}.code", entry.get("code"), int, "an integer code")
        if entry.get("severity", "info") not in ("info", "warning", "error"):
            raise fail(f"{field}.severity", N_("expected info, warning or error"))
        entry.setdefault("severity", "info")
        entry["text"] = str(entry.get("text", ""))
    want("event_log_fill", prof["event_log_fill"], int, "a number of entries")
    if not isinstance(prof["comms"], dict):
        raise fail("comms", N_("expected a mapping of interface to {link, signal_dbm, rtt_ms}"))
    for name, iface in prof["comms"].items():
        field = f"comms.{name}"
        known(field, iface, {"link", "signal_dbm", "rtt_ms"})
        want(f"{field}.link", iface.get("link"), bool, "true or false")
        iface.setdefault("signal_dbm", None)
        iface.setdefault("rtt_ms", None)
        if iface["signal_dbm"] is not None:
            want(f"{field}.signal_dbm", iface["signal_dbm"], int, "dBm or null")
        if iface["rtt_ms"] is not None:
            want(f"{field}.rtt_ms", iface["rtt_ms"], (int, float), "milliseconds or null")
    faults = known("faults", prof["faults"], set(_FAULT_DEFAULTS))
    for key in ("noise", "rx_noise", "slow_ms", "seed"):
        want(f"faults.{key}", faults[key], int, "an integer")
    want("faults.garbage", faults["garbage"], bool, "true or false")
    for key in ("silent_after", "reboot_after", "power_off_after"):
        if faults[key] is not None:
            want(f"faults.{key}", faults[key], int, "a number of commands or null")
    want("keys", prof["keys"], list, "a list of key names")
    prof["keys"] = [str(k) for k in prof["keys"]]
    disp = known("display", prof["display"], set(_DEFAULTS["display"]))
    for key in ("width", "height", "text_rows", "text_columns"):
        want(f"display.{key}", disp[key], int, "a positive integer")
        if not 0 < disp[key] <= (0xFFFF if key in ("width", "height") else 0xFF):
            raise fail(f"display.{key}", N_("out of range"))
    if disp["bits_per_pixel"] not in (1, 16):
        raise fail("display.bits_per_pixel", N_("expected 1 (monochrome) or 16 (RGB565)"))
    want("display.checksum", disp["checksum"], bool, "true or false")
    want("display.backlight_ma", disp["backlight_ma"], (int, float), "milliamperes")
    msr = known("msr", prof["msr"], {"tracks"})
    if not isinstance(msr["tracks"], list) or not set(msr["tracks"]) <= {1, 2, 3}:
        raise fail("msr.tracks", N_("expected a list of track numbers 1, 2, 3"))
    for key in ("dead_keys", "stuck_keys", "bouncing_keys", "dead_pixels"):
        want(f"faults.{key}", faults[key], list, "a list")
    for key in ("dead_keys", "stuck_keys", "bouncing_keys"):
        faults[key] = [str(k) for k in faults[key]]
    for i, pixel in enumerate(faults["dead_pixels"]):
        ok = isinstance(pixel, list) and len(pixel) in (2, 3) and all(isinstance(v, int) for v in pixel[:2])
        if not ok or (len(pixel) == 3 and pixel[2] not in ("on", "off")):
            raise fail(f"faults.dead_pixels[{i}]", N_("expected [x, y] or [x, y, on|off]"))
    for key in ("backlight_failed", "msr_bad_lrc"):
        want(f"faults.{key}", faults[key], bool, "true or false")
    misreads = faults["msr_misreads"]
    if misreads is not None:
        known("faults.msr_misreads", misreads, {"fail", "of"})
        if not isinstance(misreads.get("fail"), int) or not isinstance(misreads.get("of"), int) \
                or not 0 <= misreads["fail"] <= misreads["of"] or misreads["of"] < 1:
            raise fail("faults.msr_misreads", N_("expected {fail: K, of: N} with 0 <= K <= N, N >= 1"))
    _check_txn(prof, fail, want, known)
    _check_firmware(prof, fail, want, known)
    power = known("power", prof["power"], set(POWER_DEFAULTS))
    for key in POWER_DEFAULTS:
        want(f"power.{key}", power[key], (int, float), "a number")
        if power[key] < 0:
            raise fail(f"power.{key}", N_("must not be negative"))
    check_config(prof, source)
    want("script", prof["script"], list, "a list of timed events")
    for i, item in enumerate(prof["script"]):
        field = f"script[{i}]"
        if not isinstance(item, dict) or "at" not in item or "event" not in item:
            raise fail(field, N_("expected {at: seconds, event: kind, ...}"))
        want(f"{field}.at", item["at"], (int, float), "seconds after start")
    _check_bounds(prof, source)
    return prof


def _check_txn(prof: dict[str, Any], fail: Any, want: Any, known: Any) -> None:
    """The ``txn`` section and the sale faults (``network_flap``, ``reader_degrades``)."""
    txn = known("txn", prof["txn"], set(_DEFAULTS["txn"]))
    for key in ("amount_ms", "card_ms", "print_ms"):
        want(f"txn.{key}", txn[key], int, "milliseconds")
    for key in ("merchant", "merchant_id", "host"):
        want(f"txn.{key}", txn[key], str, "a text")
    want("txn.battery_drain", txn["battery_drain"], (int, float), "percent per sale")
    printer = known("txn.printer", txn["printer"], set(_DEFAULTS["txn"]["printer"]))
    for key in ("paper_mm", "receipt_mm", "near_end_mm"):
        want(f"txn.printer.{key}", printer[key], int, "millimetres")
    for key in ("ambient_c", "rise_c", "cool_s", "hot_c"):
        want(f"txn.printer.{key}", printer[key], (int, float), "a number")
    faults = prof["faults"]
    flap = faults["network_flap"]
    if flap is not None:
        known("faults.network_flap", flap, {"up_s", "down_s"})
        for key in ("up_s", "down_s"):
            want(f"faults.network_flap.{key}", flap.get(key), (int, float), "seconds")
    degrade = faults["reader_degrades"]
    if degrade is not None:
        known("faults.reader_degrades", degrade, {"after", "per_read", "max"})
        want("faults.reader_degrades.after", degrade.get("after"), int, "a number of reads")
        for key in ("per_read", "max"):
            want(f"faults.reader_degrades.{key}", degrade.get(key), (int, float), "a probability 0..1")


def _check_firmware(prof: dict[str, Any], fail: Any, want: Any, known: Any) -> None:
    """The ``firmware_update`` section and the update faults (``fw_link_drop_every``, ``fw_power_cut_at``)."""
    spec = known("firmware_update", prof["firmware_update"], set(_DEFAULTS["firmware_update"]))
    want("firmware_update.boot_fails", spec["boot_fails"], bool, "true or false")
    want("firmware_update.trusted_keys", spec["trusted_keys"], list, "a list of public key files")
    for i, path in enumerate(spec["trusted_keys"]):
        want(f"firmware_update.trusted_keys[{i}]", path, str, "a file path")
    pending = spec["pending"]
    if pending is not None:
        known("firmware_update.pending", pending, {"version", "received", "total"})
        for key in ("version", "received", "total"):
            if key not in pending:
                raise fail(f"firmware_update.pending.{key}", N_("expected {version, received, total}"))
        pending["version"] = str(pending["version"])
        for key in ("received", "total"):
            want(f"firmware_update.pending.{key}", pending[key], int, "a number of bytes")
        if not 0 <= pending["received"] <= pending["total"]:
            raise fail("firmware_update.pending.received", N_("must be between 0 and total"))
    for key in ("fw_link_drop_every", "fw_power_cut_at"):
        value = prof["faults"][key]
        if value is not None:
            want(f"faults.{key}", value, int, "a number or null")


def _check_bounds(prof: Mapping[str, Any], source: str) -> None:
    """Every number finite and within bounds, every text and list of a sane length (hostile files)."""
    todo: list[tuple[str, Any]] = list(prof.items())
    while todo:
        field, value = todo.pop()
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            low, high = _BOUNDS.get(field, (-_MAX_NUMBER, _MAX_NUMBER))
            if not (math.isfinite(value) and low <= value <= high):
                raise ConfigError(N_("{value!r} is out of range ({low:g} to {high:g})", value=value, low=low, high=high), path=source, field=field)
        elif isinstance(value, str):
            if len(value) > _MAX_TEXT:
                raise ConfigError(N_("a text of {value_len} characters; at most {MAX_TEXT}", value_len=len(value), MAX_TEXT=_MAX_TEXT), path=source, field=field)
        elif isinstance(value, list):
            if len(value) > _MAX_ITEMS:
                raise ConfigError(N_("{value_len} items; at most {MAX_ITEMS}", value_len=len(value), MAX_ITEMS=_MAX_ITEMS), path=source, field=field)
            todo.extend((f"{field}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, Mapping):
            todo.extend((f"{field}.{k}", v) for k, v in value.items())
