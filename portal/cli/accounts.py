"""`flask --app wsgi ...`: demo data, units and users."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from ..errors import UserError
from ..extensions import db
from ..models import Result
from ..models.users import ROLES
from . import fail


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--results", "count", default=200, show_default=True, help="How many demo results.")
    def seed_demo(count: int) -> None:
        """Load demo units, procedures, accounts and results (idempotent)."""
        from ..demo import seed

        existing = db.session.scalar(select(func.count(Result.id)))
        with click.progressbar(length=count, label="Kết quả mẫu") as bar:
            try:
                added = seed(count, progress=bar.update)
            except UserError as err:
                fail(err)
        click.echo(f"Demo data: {added} results added, {existing} already present.")

    @app.cli.command("create-unit")
    @click.argument("code")
    @click.option("--name", required=True, help="The unit's name.")
    def create_unit(code: str, name: str) -> None:
        """Add a unit of the department."""
        from ..operations.accounts import create_unit as create

        try:
            unit = create(None, code, name)
        except UserError as err:
            fail(err)
        click.echo(f"Unit {unit.code} created: {unit.name}")

    @app.cli.command("create-api-client")
    @click.argument("name")
    @click.option("--unit", "unit_code", required=True, help="Code of the unit whose results the client pushes.")
    def create_api_client(name: str, unit_code: str) -> None:
        """Add a machine client (a unit's one-stop-shop system); prints its secret, once."""
        from ..operations.api_clients import create_client

        try:
            client, secret = create_client(None, name, unit_code)
        except UserError as err:
            fail(err)
        click.echo(f"client_id: {client.client_id}")
        click.echo(f"client_secret: {secret}")
        click.echo("The secret is shown only now; keep it in the client's configuration.", err=True)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password", required=True, help="At least 10 characters.")
    @click.option("--unit", "unit_code", help="Unit code (staff and reviewers).")
    @click.option("--holder-id", help="CCCD or tax code the holder account is bound to.")
    @click.option("--name", "full_name", default="", help="Full name.")
    def create_user(username, role, password, unit_code, holder_id, full_name) -> None:
        """Add a user: an admin, a unit's staff or reviewer, or a holder bound to a CCCD/MST."""
        from ..operations.accounts import create_user as create

        try:
            user = create(None, username, role, password, full_name=full_name, unit_code=unit_code,
                          holder_id=holder_id)
        except UserError as err:
            fail(err)
        click.echo(f"User {user.username} created ({user.role}).")
