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
from bench.cli.clicktr import group
from bench.i18n.layout import display_width, pad
from drivers.i18n import N_, _, ngettext, tr
from drivers.registry import OPTIONAL_ROLES

if TYPE_CHECKING:
    from bench.stationcheck import DeviceCheck, StationCheck


@group()
def station() -> None:
    """Station files: the devices of a bench, slot by slot."""


@station.command("check")
@click.argument("station_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--slot", "slots", type=int, multiple=True, help=N_("Check only this slot (repeatable; default: all)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the result as JSON."))
def check(station_file: Path, slots: tuple[int, ...], as_json: bool) -> None:
    """Open every device of the station FILE, slot by slot, and report what answered."""
    from bench.cli.language import speak_station
    from bench.errors import EXIT_BENCH, EXIT_PASS, EXIT_USAGE
    from bench.station import load_station
    from bench.stationcheck import check_station

    loaded = load_station(station_file)
    speak_station(loaded)
    result = check_station(loaded, slots)
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
    width = min(50, max((display_width(safe.one_line(c.url)) for c in checks), default=0))
    n = len(result.slots)
    safe.echo(_("Station {name} ({path}): {slots}, {devices}").format(
        name=safe.one_line(st.name), path=safe.one_line(st.path),
        slots=ngettext("{n} slot checked", "{n} slots checked", n).format(n=n),
        devices=ngettext("{n} device", "{n} devices", len(checks)).format(n=len(checks))))
    if result.shared:
        safe.echo(_("shared"))
        for c in result.shared:
            _line(c, width)
    for slot, slot_checks in result.slots.items():
        safe.echo(_("slot {n}").format(n=slot))
        for c in slot_checks:
            _line(c, width)
        if not slot_checks:
            safe.echo("  ", _("(shared devices only)"))
    for problem in result.problems:
        safe.echo(_("problem: {problem}").format(problem=safe.one_line(tr(problem))))
    answered = sum(c.ok for c in checks)
    silent = [_("shared {role}").format(role=c.role) for c in result.shared if not c.ok]
    slots = [str(n) for n, cs in result.slots.items() if not all(c.ok for c in cs)]
    if slots:
        silent.append(ngettext("slot {slots}", "slots {slots}", len(slots)).format(slots=", ".join(slots)))
    if silent:
        safe.echo(_("{answered} of {total} devices answered; not answering: {silent}.").format(
            answered=answered, total=len(checks), silent=", ".join(silent)))
    else:
        safe.echo(_("{answered} of {total} devices answered.").format(answered=answered, total=len(checks)))


def _line(c: DeviceCheck, width: int) -> None:
    what = _describe(c.role, c.identity) if c.ok else tr(c.error)
    if c.server is not None:  # a unit behind a serial server: was the server there, whatever the unit said
        if c.server_error:
            what = _("serial server {server} unreachable: {reason}").format(server=c.server, reason=c.server_error)
        else:
            what = _("{answer} (serial server {server} reachable)").format(answer=what, server=c.server)
    mark = _("OK") if c.ok else _("FAIL")
    state = pad(mark, max(display_width(_("OK")), display_width(_("FAIL"))))
    safe.echo(f"  {c.role:<12} {pad(safe.one_line(c.url), width)}  {state}  {safe.one_line(what)}")


def _describe(role: str, ident: dict[str, Any]) -> str:
    """One line of what a device said about itself."""
    if role == "unit":
        return _("{model} serial {serial}, firmware {firmware}").format(
            model=ident["model"], serial=ident["serial"], firmware=ident["firmware"])
    if role == "card_reader":
        card = _("card in") if ident["card_present"] else _("no card")
        return f"{ident['reader']}, {card}"
    names = {"serial": _("serial"), "firmware": _("firmware")}
    if role == "printer":
        name = " ".join(x for x in (ident.get("manufacturer"), ident.get("model")) if x)
        extra = ", ".join(f"{names[k]} {ident[k]}" for k in ("serial", "firmware") if ident.get(k))
        said = (name or _("printer")) + (f" ({extra})" if extra else "")
        return f"{said}: {tr(ident['status'])}"
    if role in OPTIONAL_ROLES:  # an instrument: its *IDN?
        name = " ".join(x for x in (ident.get("manufacturer"), ident.get("model")) if x) or _("instrument")
        extra = ", ".join(f"{names[k]} {ident[k]}" for k in ("serial", "firmware") if ident.get(k))
        return f"{name}{' (' + extra + ')' if extra else ''}"
    return ", ".join(f"{k} {v}" for k, v in ident.items())
