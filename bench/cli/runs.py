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

_DB_HELP = "Results store URL (default: the local SQLite store)."


@click.group()
def runs() -> None:
    """Runs left open (RUNNING), here and on other hosts."""


@runs.command("open")
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
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
        safe.echo("no runs are open")
        return
    safe.echo(f"{len(found)} run(s) open (UTC):")
    for rid, host, pid, started in found:
        safe.echo(f"  {started.astimezone(UTC):%Y-%m-%d %H:%M:%S}  {rid}  host {host or '?'}  pid {pid}")


@runs.command("abandon")
@click.option("--host", required=True, help="The host whose RUNNING runs are over (it crashed, it was replaced).")
@click.option("--db", help=_DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def abandon(host: str, db: str | None, as_json: bool) -> None:
    """Mark ABORTED every RUNNING run of HOST (this host: only those whose process is gone)."""
    from bench.store.connect import open_store

    with open_store(db) as store:
        marked = store.mark_abandoned(host)
    if as_json:
        safe.echo_json(json.dumps({"host": host, "aborted": marked}, indent=2))
        return
    safe.echo(f"marked ABORTED: {len(marked)} run(s) of host {host}")
    for rid in marked:
        safe.echo(f"  {rid}")
