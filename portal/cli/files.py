"""`flask --app wsgi ...`: the stored files."""

from __future__ import annotations

import click
from flask import Flask

from .. import fixity as checks
from ..operations import held, slips


def register(app: Flask) -> None:
    @app.cli.command("fixity")
    def fixity() -> None:
        """Re-hash every stored file, certified copies included; list the missing and the altered; exit 1 if any."""
        with click.progressbar(length=checks.count(), label="Kiểm tra tệp") as bar:
            report = checks.check_all(bar.update)
        for item in report.missing:
            click.echo(f"MISSING  {item.sha256}  {item.label}")
        for item in report.altered:
            click.echo(f"ALTERED  {item.sha256}  {item.label}")
        click.echo(f"{report.checked} files checked: {len(report.missing)} missing, {len(report.altered)} altered.")
        if report.missing or report.altered:
            raise SystemExit(1)

    @app.cli.command("purge-expired")
    def purge_expired() -> None:
        """Delete what is kept for a time only: scans held for an upload form, hand-over slips (both are
        purged by their own pages too; this is for a nightly timer)."""
        click.echo(f"{held.purge_expired()} held scans removed, {slips.purge_expired()} hand-over slips deleted.")
