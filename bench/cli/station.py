"""``bench station check FILE``: does every device of every slot answer? (setting a bench up, or before a shift).

Opens each device of the station (shared ones once) at the same time, asks it who it is, and
prints a table per slot; a device that does not answer says why on its line. All devices are
checked in parallel, so a fixture of 16 slots with dead cables takes as long as one dead device:
at worst about 4 s (see :mod:`bench.stationcheck`; 16 silent units measured 2.1 s, as one). Exit 0 when every device answered,
3 when one did not (or two slots reach the same reader), 2 when the station file is wrong (a
URL its driver refuses included).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from drivers.registry import OPTIONAL_ROLES

if TYPE_CHECKING:
    from bench.stationcheck import DeviceCheck, StationCheck


@click.group()
def station() -> None:
    """Station files: the devices of a bench, slot by slot."""


@station.command("check")
@click.argument("station_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--slot", "slots", type=int, multiple=True, help="Check only this slot (repeatable; default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(station_file: Path, slots: tuple[int, ...], as_json: bool) -> None:
    """Open every device of the station FILE, slot by slot, and report what answered."""
    from bench.errors import EXIT_BENCH, EXIT_PASS, EXIT_USAGE
    from bench.station import load_station
    from bench.stationcheck import check_station

    result = check_station(load_station(station_file), slots)
    if as_json:
        safe.echo_json(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result)
    if result.ok:
        sys.exit(EXIT_PASS)
    sys.exit(EXIT_USAGE if any(c.bad_url for c in result.all()) else EXIT_BENCH)


def _print(result: StationCheck) -> None:
    st = result.station
    checks = result.all()
    width = min(50, max((len(safe.one_line(c.url)) for c in checks), default=0))
    n = len(result.slots)
    safe.echo(f"Station {safe.one_line(st.name)} ({safe.one_line(st.path)}): "
              f"{n} slot{'s' if n != 1 else ''} checked, {len(checks)} device{'s' if len(checks) != 1 else ''}")
    if result.shared:
        safe.echo("shared")
        for c in result.shared:
            _line(c, width)
    for slot, slot_checks in result.slots.items():
        safe.echo(f"slot {slot}")
        for c in slot_checks:
            _line(c, width)
        if not slot_checks:
            safe.echo("  (shared devices only)")
    for problem in result.problems:
        safe.echo(f"problem: {safe.one_line(problem)}")
    answered = sum(c.ok for c in checks)
    silent = [f"shared {c.role}" for c in result.shared if not c.ok]
    slots = [str(n) for n, cs in result.slots.items() if not all(c.ok for c in cs)]
    if slots:
        silent.append(f"slot{'s' if len(slots) > 1 else ''} {', '.join(slots)}")
    tail = f"; not answering: {', '.join(silent)}" if silent else ""
    safe.echo(f"{answered} of {len(checks)} devices answered{tail}.")


def _line(c: DeviceCheck, width: int) -> None:
    what = _describe(c.role, c.identity) if c.ok else c.error
    safe.echo(f"  {c.role:<12} {safe.one_line(c.url):<{width}}  {'OK  ' if c.ok else 'FAIL'}  {safe.one_line(what)}")


def _describe(role: str, ident: dict[str, Any]) -> str:
    """One line of what a device said about itself."""
    if role == "unit":
        return f"{ident['model']} serial {ident['serial']}, firmware {ident['firmware']}"
    if role == "card_reader":
        return f"{ident['reader']}, {'card in' if ident['card_present'] else 'no card'}"
    if role == "printer":
        name = " ".join(x for x in (ident.get("manufacturer"), ident.get("model")) if x)
        extra = ", ".join(f"{k} {ident[k]}" for k in ("serial", "firmware") if ident.get(k))
        said = f"{name or 'printer'}{' (' + extra + ')' if extra else ''}"
        return f"{said}: {ident['status']}"
    if role in OPTIONAL_ROLES:  # an instrument: its *IDN?
        name = " ".join(x for x in (ident.get("manufacturer"), ident.get("model")) if x) or "instrument"
        extra = ", ".join(f"{k} {ident[k]}" for k in ("serial", "firmware") if ident.get(k))
        return f"{name}{' (' + extra + ')' if extra else ''}"
    return ", ".join(f"{k} {v}" for k, v in ident.items())
