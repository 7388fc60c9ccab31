"""`flask --app wsgi ...`: the stored files."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import StoredFile
from ..storage import storage


def register(app: Flask) -> None:
    @app.cli.command("fixity")
    def fixity() -> None:
        """Re-hash every stored file; list the missing and the altered; exit 1 if any."""
        store = storage()
        rows = db.session.execute(select(StoredFile.id, StoredFile.sha256, StoredFile.original_name)).all()
        missing, altered = [], []
        with click.progressbar(rows, label="Kiểm tra tệp") as bar:
            for _id, sha, name in bar:
                actual = store.hash_of_stored(sha)
                if actual is None:
                    missing.append((sha, name))
                elif actual != sha:
                    altered.append((sha, name))
        for sha, name in missing:
            click.echo(f"MISSING  {sha}  {name}")
        for sha, name in altered:
            click.echo(f"ALTERED  {sha}  {name}")
        audit.record("fixity.check", details={"files": len(rows), "missing": len(missing), "altered": len(altered)})
        db.session.commit()
        click.echo(f"{len(rows)} files checked: {len(missing)} missing, {len(altered)} altered.")
        if missing or altered:
            raise SystemExit(1)
