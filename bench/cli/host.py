"""``bench host``: run the bench acquirer host alone, for a real unit on the bench network.

It answers ISO 8583 (docs/iso8583.md) per a behaviour file and prints each message it handles,
masked (no full PAN, no track data, no PIN block), one line each (``--json``: one JSON object
per line). Ctrl-C stops it with exit 0, after a line per finding that only the end of the
session can make (an authorisation that timed out and was never reversed). Heavy modules are
imported inside the command.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.errors import UsageError
from drivers.i18n import N_, _, tr


def _address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(N_("--listen {text}: give ADDRESS:PORT, e.g. --listen 0.0.0.0:8583 (port 0: any free port)",
                            text=text))
    return host, int(port)


def _emit(as_json: bool, data: dict[str, Any], line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        if as_json:
            safe.echo_json(json.dumps(data))
        else:
            safe.echo(line)
        sys.stdout.flush()


@command()
@click.option("--listen", "listen", required=True, metavar="ADDR:PORT",
              help=N_("Address and TCP port to listen on (port 0: any free port, printed at start)."))
@click.option("--behaviour", "behaviour_file", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Behaviour file (YAML): how to answer each transaction. Default: approve everything."))
@click.option("--json", "as_json", is_flag=True,
              help=N_("One JSON object per line: the address, each message, findings."))
def host(listen: str, behaviour_file: Path | None, as_json: bool) -> None:
    """Run the bench acquirer host (ISO 8583 over TCP) until Ctrl-C, which stops it with exit 0.

    Authorisations (0100), reversals (0400/0401) and echo tests (0800) are answered per the
    behaviour file: approve, decline with a code, answer late, never answer, close the
    connection or send garbage. Each message is printed masked, with what the host did and
    what it found wrong (missing fields, a reused STAN, a reversal naming nothing it saw...).
    """
    from drivers.acquirer import AcquirerHost, Behaviours, Exchange, Finding, load_behaviours

    address = _address(listen)
    behaviours = load_behaviours(behaviour_file) if behaviour_file is not None else Behaviours()

    def on_exchange(exchange: Exchange) -> None:
        _emit(as_json, {"exchange": exchange.to_dict()}, tr(exchange.line()))

    def on_finding(finding: Finding) -> None:
        _emit(as_json, {"finding": finding.to_dict()},
              _("finding {code}: {message}").format(code=finding.code, message=tr(finding.message)))

    acquirer = AcquirerHost(behaviours, *address, listener=on_exchange, finding_listener=on_finding)
    acquirer.start()
    try:
        bound = acquirer.address
        _emit(as_json, {"listening": f"{bound[0]}:{bound[1]}", "url": acquirer.url},
              _("bench host listening on {address} ({url}); Ctrl-C stops it.").format(
                  address=f"{bound[0]}:{bound[1]}", url=acquirer.url))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        from bench import interrupts

        interrupts.hold()  # stop whole: the end-of-session findings are printed
        acquirer.stop()
    counts = {"exchanges": len(acquirer.exchanges()), "findings": len(acquirer.findings())}
    _emit(as_json, {"stopped": counts},
          _("bench host stopped: {exchanges} messages, {findings} findings").format(**counts))
