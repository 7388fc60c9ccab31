"""`flask --app wsgi ...`: backup and restore (the work is in portal/backup)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from ..backup import BackupError, create_backup, restore_backup
from . import fail


def _bar(label: str, length: int):
    return click.progressbar(length=length, label=label)


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The archive to write (mode 0600: it holds the signing keys and the secret key).")
    def backup(out: Path) -> None:
        """Write one archive: the database, every stored file, the signing keys, the secret key and
        a manifest with each member's SHA-256."""
        try:
            summary = create_backup(out, progress=_bar)
        except BackupError as err:
            fail(err)
        except OSError as err:  # a folder not writable, a full disk: the partial archive is gone
            fail(BackupError(f"Không ghi được tệp sao lưu {out}: {err.strerror or err}."))
        for sha256 in summary.missing:
            click.echo(f"MISSING  {sha256}")
        for sha256 in summary.altered:
            click.echo(f"ALTERED  {sha256}  (in the archive as found; restore leaves it out)")
        click.echo(f"Backup written to {summary.path}: {summary.files} files, {summary.size} bytes. "
                   "Keep it secret: it holds the signing keys and the secret key.")
        if summary.altered or summary.missing:
            raise SystemExit(1)

    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def restore(archive: Path) -> None:
        """Fill an empty database and an empty data directory from a backup archive, put the keys
        where the portal reads them and rebuild the search index."""
        try:
            summary = restore_backup(archive, progress=_bar)
        except BackupError as err:
            fail(err)
        for note in summary.notes:
            click.echo(f"NOTE  {note}")
        click.echo(f"Restored from {archive}: {summary.results} results, {summary.files} files; index rebuilt.")
