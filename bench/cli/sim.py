"""``bench sim``: keep a simulated bench (or a multi-up station, ``--units N``) up for manual work.

It writes a station file for ``bench run --station`` and any other client, can hold virtual
cards in the readers (``--card SLOT=NAME``), and reads card commands on stdin while it runs
(:mod:`bench.cli.simcards`). Heavy modules are imported inside the command.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.errors import UsageError
from bench.i18n.layout import pad
from drivers.i18n import N_, _

_MAX_UNITS = 16


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        safe.echo(text, err=True)


def _parse_cards(given: tuple[str, ...], units: int) -> dict[int, str]:
    """``--card SLOT=NAME`` (``NAME`` alone: slot 1 of a one-unit bench) -> slot: card."""
    from bench.cli.simcards import check_card

    cards: dict[int, str] = {}
    for text in given:
        slot_text, eq, name = text.partition("=")
        if not eq and units == 1:
            slot_text, name = "1", text
        if not slot_text.strip().isdigit() or not name:
            raise UsageError(N_("--card {text}: give SLOT=CARD, e.g. --card 1=emv-visa-contact", text=text))
        slot = int(slot_text)
        if not 1 <= slot <= units:
            raise UsageError(N_("--card {text}: no slot {slot} (slots 1-{units})", text=text, slot=slot, units=units))
        if slot in cards:
            raise UsageError(N_("--card {text}: slot {slot} already holds {card}", text=text, slot=slot,
                                card=cards[slot]))
        error = check_card(name)
        if error:
            raise UsageError(N_("--card {text}: {error}", text=text, error=error))
        cards[slot] = name
    return cards


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def _station_text(urls_by_slot: dict[int, dict[str, str]], one_slot: bool) -> str:
    lines = ['name = "sim"']
    if one_slot:
        lines += ["[devices]"] + [f"{role} = {_toml(url)}" for role, url in sorted(urls_by_slot[1].items())]
    for slot, urls in ([] if one_slot else sorted(urls_by_slot.items())):
        lines += [f"[slots.{slot}]"] + [f"{role} = {_toml(url)}" for role, url in sorted(urls.items())]
    return "\n".join(lines) + "\n"


@command()
@click.option("--scenario", default="good", show_default=True, help=N_("Fault scenario (name or file), for every unit."))
@click.option("--units", type=click.IntRange(1, _MAX_UNITS), default=1, show_default=True,
              help=N_("Simulated units, each in its own slot with its own devices (up to 16)."))
@click.option("--device", "roles", multiple=True,
              type=click.Choice(["unit", "card_reader", "printer", "supply", "dmm", "scope"]),
              default=("unit",), show_default=True,
              help=N_("Simulated devices to start in each slot (repeatable; supply, dmm, scope: PyVISA-sim instruments)."))
@click.option("--card", "cards", multiple=True, metavar="SLOT=CARD",
              help=N_("Hold a virtual card in that slot's reader from the start (repeatable; starts the card readers)."))
@click.option("--station-out", type=click.Path(path_type=Path),
              help=N_("Where to write the station file (default: a temp file, removed with the bench)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the station file and each slot's URLs as JSON."))
def sim(scenario: str, units: int, roles: tuple[str, ...], cards: tuple[str, ...], station_out: Path | None,
        as_json: bool) -> None:
    """Keep a simulated bench up for manual work; Ctrl-C (or `quit`) stops it, with exit 0.

    With --units N, N units in slots 1..N, each with its own card reader slot, printer and
    serial (the scenario's with the slot appended: PT3-000123-01, ...), and a station file
    with one [slots.N] table per slot.

    While it runs it reads commands on stdin, one per line, each answered with one line on
    stdout once pcscd reports the change: `insert SLOT CARD`, `remove SLOT`, `tap SLOT CARD`,
    `cards` (what each reader holds), `help`, `quit`. CARD is a card profile (`help` lists
    them); the scenario's reader faults apply. A bad command is answered with a line starting
    `error:` and the bench keeps running. When stdin ends (a script's background job, stdin
    from /dev/null) the bench stays up until Ctrl-C or a kill; a background job of an
    interactive shell reads its commands once brought back with `fg`.
    """
    from bench import interrupts
    from bench.cli.simcards import CardSlots, answer, serve
    from bench.reports.files import check_writable_file, write_atomic
    from bench.scenario import load_scenario

    if station_out is not None:
        check_writable_file(station_out, "--station-out")
    held = _parse_cards(cards, units)
    wanted = set(roles) | ({"card_reader"} if held else set())
    devices = load_scenario(scenario).devices
    bench_ = _make_bench(devices, units, wanted)
    try:
        with interrupts.shielded():  # started whole or not at all, whatever signal comes
            bench_.start()
            urls, actions, cardbench = _slots_of(bench_)
            slots = CardSlots(cardbench, {s: u["card_reader"] for s, u in urls.items() if "card_reader" in u},
                              actions)
            for slot, card in held.items():
                slots.insert(slot, card)
        try:
            path = station_out or bench_.folder / "sim.toml"  # the default goes with the bench
            write_atomic(path, _station_text(urls, units == 1))
            _print_up(scenario, path, urls, slots.held() if cardbench is not None else {}, as_json)

            def reply(line: str) -> bool:
                text, stop = answer(slots, line)
                if text is not None:
                    if as_json:
                        ok = not text.startswith("error:")
                        safe.echo_json(json.dumps({"ok": ok, "message": text,
                                                   **({"cards": _keyed(slots.held())} if ok and cardbench else {})}))
                    else:
                        safe.echo(text)
                    sys.stdout.flush()
                return stop

            if not serve(sys.stdin.fileno(), reply):
                _wait_for_a_signal()
            interrupts.hold()
            _say(_("simulated bench stopped"))
        except KeyboardInterrupt:
            interrupts.hold()  # tear the bench down whole; only a second signal cuts that short
            _say(_("simulated bench stopped"))
    finally:
        with interrupts.shielded():
            bench_.close()


def _make_bench(devices: Any, units: int, roles: set[str]) -> Any:
    if units == 1:
        from drivers.sim.bench import SimBench

        return SimBench(devices, roles)
    from drivers.sim.station import SimStation

    return SimStation(dict.fromkeys(range(1, units + 1), devices), roles)


def _slots_of(bench_: Any) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, Any]], Any]:
    """Per slot URLs and operator actions, and the card bench, of a SimBench (slot 1) or a SimStation."""
    if hasattr(bench_, "urls_by_slot"):
        return bench_.urls_by_slot, bench_.actions_by_slot, bench_.cards
    return {1: bench_.urls}, {1: bench_.actions}, bench_.cardbench


def _keyed(by_slot: dict[int, Any]) -> dict[str, Any]:
    return {str(slot): value for slot, value in by_slot.items()}


def _print_up(scenario: str, path: Path, urls: dict[int, dict[str, str]], held: dict[int, str | None],
              as_json: bool) -> None:
    if as_json:
        out: dict[str, Any] = {"station": str(path), "slots": _keyed(urls), "cards": _keyed(held)}
        if len(urls) == 1:
            out["devices"] = urls[1]
        safe.echo_json(json.dumps(out))
    else:
        if len(urls) == 1:
            safe.echo(_("Simulated bench up (scenario {scenario}).").format(scenario=scenario))
        else:
            safe.echo(_("Simulated station up: {n} units in slots 1-{n} (scenario {scenario}).").format(
                n=len(urls), scenario=scenario))
        for slot, slot_urls in sorted(urls.items()):
            indent = "  "
            if len(urls) > 1:
                safe.echo("  ", _("slot {n}").format(n=slot))
                indent = "    "
            for role, url in sorted(slot_urls.items()):
                safe.echo(f"{indent}{role:<12} {url}")
            if slot in held:
                safe.echo(indent, pad(_("card"), 12), " ", held[slot] or _("none"))
        safe.echo(_("Station file: {path}").format(path=path))
        safe.echo(_("Try: bench run pos-quick --station {path}").format(path=path))
        if held:
            safe.echo(_("Cards: type insert SLOT CARD, remove SLOT, tap SLOT CARD, cards, help or quit."))
        safe.echo(_("Ctrl-C stops the bench."))
    sys.stdout.flush()


def _wait_for_a_signal() -> None:
    """Stdin is over: keep the bench up until a signal (``bench sim &`` in a script)."""
    import time

    while True:
        time.sleep(3600)
