"""``bench sync``: upload the runs this PC buffered while its database could not be reached."""

from __future__ import annotations

import json

import click

from bench.cli import safe
from bench.cli.clicktr import command
from bench.errors import UsageError
from drivers.i18n import N_, _


@command()
@click.option("--db", help=N_("The database whose buffered runs to upload (default: every outbox on this PC)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print what was uploaded as JSON."))
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
            raise UsageError(N_("runs are buffered for {url}: give its URL with --db (with its password)",
                                url=hidden[0]))
        urls = [b.url for b in boxes]
    results = [sync_url(url) for url in urls]
    if as_json:
        safe.echo_json(json.dumps([r.to_dict() for r in results], indent=2))
        return
    if not any(r.uploaded or r.running for r in results):
        if db is not None:
            safe.echo(_("nothing to upload: no runs are buffered for {url}").format(url=results[0].url))
        else:
            safe.echo(_("nothing to upload: no runs are buffered"))
        return
    for r in results:
        safe.echo(_("uploaded {runs} run(s) ({completed} completed), {steps} step(s) to {url}").format(
            runs=len(r.uploaded), completed=len(r.completed), steps=r.steps, url=r.url))
        for rid in r.uploaded:
            safe.echo("  " + rid)
        if r.running:
            safe.echo(_("{count} run(s) still running on this PC, left buffered: run bench sync again when they "
                        "end").format(count=len(r.running)))
        elif not r.removed:
            safe.echo(_("the outbox is in use by a running bench: it stays (empty) until the next bench sync"))
