"""`flask --app wsgi ...` commands, one module per subject. Each command exits
non-zero with a clear message on bad input."""

from __future__ import annotations

import click
from flask import Flask

from ..extensions import db


def fail(err: Exception) -> None:
    db.session.rollback()
    raise click.ClickException(str(err))


def register_commands(app: Flask) -> None:
    from . import accounts, archive, backup, copies, files, imports, privacy, reports, search, sync

    for module in (accounts, search, imports, reports, copies, files, backup, sync, archive, privacy):
        module.register(app)
