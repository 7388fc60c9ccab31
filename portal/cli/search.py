"""`flask --app wsgi ...`: the search index."""

from __future__ import annotations

import os

import click
from flask import Flask
from sqlalchemy import func, select

from ..extensions import db
from ..models import Result


def register(app: Flask) -> None:
    @app.cli.command("reindex")
    @click.option("--batch-size", default=2000, show_default=True, help="Results read from the database at a time.")
    @click.option("--procs", default=min(2, os.cpu_count() or 1), show_default=True, help="Indexing processes.")
    def reindex(batch_size: int, procs: int) -> None:
        """Rebuild the search index from the database into a fresh directory and swap it in
        (PostgreSQL backend: write every row of the search table again from its result)."""
        from .. import search

        total = db.session.scalar(select(func.count(Result.id)))
        with click.progressbar(length=total, label="Lập chỉ mục") as bar:
            count = search.rebuild(progress=bar.update, batch_size=batch_size, procs=procs)
        if search.backend() == search.POSTGRESQL:
            click.echo(f"Search table in PostgreSQL recomputed: {count} results.")
        else:
            click.echo(f"Search index rebuilt: {count} results.")

    @app.cli.command("index-worker")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between checks of the queue.")
    @click.option("--once", is_flag=True, help="Drain the queue once and exit.")
    def index_worker(interval: float, once: bool) -> None:
        """Write queued result changes to the search index (one per node is enough)."""
        import time

        from .. import search

        if search.backend() == search.POSTGRESQL:
            click.echo("The PostgreSQL search backend has no queue: each change is written with its result.")
            return
        while True:
            handled = search.sync(timeout=interval)
            search.search_index().compact(timeout=interval)
            if once:
                click.echo(f"{handled} queued changes indexed.")
                return
            time.sleep(interval)
