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
                                    app.config["PROVINCE_NAME"])
            click.echo(f"{'Generated' if made else 'Using'} the DEMO signing key {signing.p12_path} "
                       f"(trust root {signing.trust_roots_path}); set PORTAL_SIGNING_P12 for a real one.")
        elif not Path(signing.p12_path).is_file():
            raise click.ClickException(f"PORTAL_SIGNING_P12 names a missing file: {signing.p12_path}")
        else:
            click.echo(f"Signing with {signing.p12_path}; {len(load_trust_roots(signing.trust_roots_path))} "
                       "trusted root certificate(s) for verification.")
