"""`flask --app wsgi ...`: the key certified copies are signed with."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("signing-key")
    def signing_key() -> None:
        """Show the key certified copies are signed with; make the demo one if none is configured."""
        from ..copies.keys import ensure_demo_keys, load_trust_roots, signing_config

        signing = signing_config(app.config)
        if signing.demo:
            made = ensure_demo_keys(Path(signing.p12_path).parent, app.config["DEPARTMENT_NAME"],
                                    app.config["PROVINCE_NAME"], pki_url=app.config["DEMO_PKI_URL"])
            click.echo(f"{'Generated' if made else 'Using'} the DEMO signing key {signing.p12_path} "
                       f"(trust root {signing.trust_roots_path}); set PORTAL_SIGNING_P12 for a real one.")
        elif not Path(signing.p12_path).is_file():
            raise click.ClickException(f"PORTAL_SIGNING_P12 names a missing file: {signing.p12_path}")
        else:
            click.echo(f"Signing with {signing.p12_path}; {len(load_trust_roots(signing.trust_roots_path))} "
                       "trusted root certificate(s) for verification.")

    @app.cli.command("copies-refresh")
    @click.option("--within", "days", type=click.IntRange(0, 36500), default=None,
                  help="Renew the copies whose document timestamp authority's certificate expires within "
                       "this many days (default PORTAL_COPY_REFRESH_DAYS, 180).")
    def copies_refresh(days: int | None) -> None:
        """Add a new document timestamp to B-LTA copies whose last one nears its authority's expiry."""
        from ..extensions import db
        from ..models import CertifiedCopy
        from ..operations import OperationError, copies

        if not app.config["TSA_URL"]:
            raise click.ClickException("PORTAL_TSA_URL is not set: a document timestamp needs a time-stamping "
                                       "authority.")
        days = app.config["COPY_REFRESH_DAYS"] if days is None else days
        due = copies.due_for_renewal(days)
        failed = []
        with click.progressbar(due, label=f"Renewing {len(due)} copies' document timestamps") as bar:
            for copy_id in bar:
                try:
                    copies.renew_archive_timestamp(copy_id)
                except OperationError as err:
                    failed.append((db.session.get(CertifiedCopy, copy_id).register_number, str(err)))
        click.echo(f"renewed {len(due) - len(failed)}, failed {len(failed)}")
        for number, why in failed:
            click.echo(f"  {number}: {why}", err=True)
        if failed:
            raise SystemExit(1)

    @app.cli.command("demo-pki")
    @click.option("--port", type=int, default=None, help="default: the port of PORTAL_DEMO_PKI_URL (5099)")
    def demo_pki_command(port: int | None) -> None:
        """Serve the demo CA's CRL and a demo time-stamping authority (development only)."""
        from urllib.parse import urlsplit

        from ..copies import demo_pki
        from ..copies.keys import ensure_signing_key

        signing = ensure_signing_key(app.config)
        if not signing.demo:
            raise click.ClickException("PORTAL_SIGNING_P12 is set: the demo PKI serves the demo keys only.")
        port = port or urlsplit(app.config["DEMO_PKI_URL"]).port or 5099
        demo_pki.main(["--keys", str(Path(signing.p12_path).parent), "--port", str(port)])
