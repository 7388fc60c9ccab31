"""`flask --app wsgi ...`: the yearly digitization report."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("report")
    @click.argument("year", type=click.IntRange(1990, 2100))
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf", "csv"]), required=True)
    @click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
    @click.option("--price", type=click.IntRange(0), default=None,
                  help="Đồng per page (default PORTAL_PRICE_PER_PAGE).")
    def report(year: int, fmt: str, out: Path, price: int | None) -> None:
        """The yearly digitization report of every unit, as XLSX, PDF or CSV."""
        from .. import plan, reports
        from ..copies.pdf import CopyFailed

        price = app.config["PRICE_PER_PAGE"] if price is None else price
        rows = plan.yearly_report(None, year, price)
        try:
            data = reports.export(rows, year, price, fmt)
        except CopyFailed as err:
            raise click.ClickException(str(err)) from None
        out.write_bytes(data)
        click.echo(f"Report {year} ({fmt}, {len(rows)} units) written to {out}.")
