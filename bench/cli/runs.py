"""``bench runs open`` and ``bench runs abandon --host``: runs left open, and closing another host's.

Every command that opens the store already marks ABORTED the runs this host left open (their
process is gone: ``kill -9``, a power cut, a reused pid). A run left RUNNING by *another* host
(a bench PC that died, on a shared PostgreSQL store) cannot be checked from here: a person says
it is over with ``bench runs abandon --host NAME``, and only then is it marked.
"""

from __future__ import annotations

import json
from datetime import UTC

import click

from bench.cli import safe
from bench.cli.clicktr import group
from bench.cli.tables import when
from bench.i18n.layout import display_width, pad
from drivers.i18n import N_, _, ngettext

_DB_HELP = N_("Results store URL (default: the local SQLite store).")


@group()
def runs() -> None:
    """Runs left open (RUNNING), here and on other hosts."""


@runs.command("open")
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def open_cmd(db: str | None, as_json: bool) -> None:
    """List the RUNNING runs (after marking this host's dead ones ABORTED)."""
    from bench.store.connect import open_store

    with open_store(db) as store:
        found = store.open_runs()
    if as_json:
        safe.echo_json(json.dumps([{"run_id": rid, "host": host, "pid": pid, "started_at": started.isoformat()}
                               for rid, host, pid, started in found], indent=2))
        return
    if not found:
        safe.echo(_("no runs are open"))
        return
    safe.echo(ngettext("{n} run open (UTC):", "{n} runs open (UTC):", len(found)).format(n=len(found)))
    width = max(display_width(when(started.astimezone(UTC))) for _rid, _host, _pid, started in found)
    for rid, host, pid, started in found:
        safe.echo(f"  {pad(when(started.astimezone(UTC)), width)}  {rid}  ",
                  _("host {host}  pid {pid}").format(host=host or "?", pid=pid))


@runs.command("abandon")
@click.option("--host", required=True, help=N_("The host whose RUNNING runs are over (it crashed, it was replaced)."))
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=N_("Print as JSON."))
def abandon(host: str, db: str | None, as_json: bool) -> None:
    """Mark ABORTED every RUNNING run of HOST (this host: only those whose process is gone)."""
    from bench.store.connect import open_store

    with open_store(db) as store:
        marked = store.mark_abandoned(host)
    if as_json:
        safe.echo_json(json.dumps({"host": host, "aborted": marked}, indent=2))
        return
    safe.echo(_("marked ABORTED: {n} run(s) of host {host}").format(n=len(marked), host=host))
    for rid in marked:
        safe.echo(f"  {rid}")
