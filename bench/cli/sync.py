"""``bench sync``: upload the runs this PC buffered while its database could not be reached."""

from __future__ import annotations

import json

import click

from bench.cli import safe
from bench.errors import UsageError


@click.command()
@click.option("--db", help="The database whose buffered runs to upload (default: every outbox on this PC).")
@click.option("--json", "as_json", is_flag=True, help="Print what was uploaded as JSON.")
def sync(db: str | None, as_json: bool) -> None:
    """Upload the runs buffered while the database was unreachable (safe to interrupt and run again)."""
    from bench.store import outbox
    from bench.store.sync import sync as sync_url

    if db is not None:
        urls = [db]
    else:
        boxes = outbox.every()
        hidden = [b.url or str(b.path) for b in boxes if not b.url or "***" in b.url]
        if hidden:
            raise UsageError(f"runs are buffered for {hidden[0]}: give its URL with --db (with its password)")
        urls = [b.url for b in boxes]
    results = [sync_url(url) for url in urls]
    if as_json:
        safe.echo_json(json.dumps([r.to_dict() for r in results], indent=2))
        return
    if not results or not any(r.uploaded or r.running for r in results):
        safe.echo("nothing to upload: no runs are buffered" + (f" for {results[0].url}" if db else ""))
        return
    for r in results:
        completed = f" ({len(r.completed)} of them completed)" if r.completed else ""
        safe.echo(f"uploaded {len(r.uploaded)} run(s){completed}, {r.steps} step(s) to {r.url}")
        for rid in r.uploaded:
            safe.echo(f"  {rid}")
        if r.running:
            safe.echo(f"{len(r.running)} run(s) still running on this PC, left buffered: run bench sync again "
                      "when they end")
        elif not r.removed:
            safe.echo("the outbox is in use by a running bench: it stays (empty) until the next bench sync")
