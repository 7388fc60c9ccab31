"""`flask --app wsgi ...` commands (DESIGN §5). Each exits non-zero with a clear message on bad input."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from . import audit
from .extensions import db
from .models import Result, StoredFile
from .models.users import ROLES
from .operations import user_errors
from .storage import storage


def _fail(err: Exception) -> None:
    db.session.rollback()
    raise click.ClickException(str(err))


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--results", "count", default=200, show_default=True, help="How many demo results.")
    def seed_demo(count: int) -> None:
        """Load demo units, procedures, accounts and results (idempotent)."""
        from .demo import seed

        existing = db.session.scalar(select(func.count(Result.id)))
        with click.progressbar(length=count, label="Kết quả mẫu") as bar:
            try:
                added = seed(count, progress=bar.update)
            except user_errors() as err:
                _fail(err)
        click.echo(f"Demo data: {added} results added, {existing} already present.")

    @app.cli.command("create-unit")
    @click.argument("code")
    @click.option("--name", required=True, help="The unit's name.")
    def create_unit(code: str, name: str) -> None:
        """Add a unit of the department."""
        from .operations.accounts import create_unit as create

        try:
            unit = create(None, code, name)
        except user_errors() as err:
            _fail(err)
        click.echo(f"Unit {unit.code} created: {unit.name}")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password", required=True, help="At least 10 characters.")
    @click.option("--unit", "unit_code", help="Unit code (staff and reviewers).")
    @click.option("--holder-id", help="CCCD or tax code the holder account is bound to.")
    @click.option("--name", "full_name", default="", help="Full name.")
    def create_user(username, role, password, unit_code, holder_id, full_name) -> None:
        """Add a user: an admin, a unit's staff or reviewer, or a holder bound to a CCCD/MST."""
        from .operations.accounts import create_user as create

        try:
            user = create(None, username, role, password, full_name=full_name, unit_code=unit_code,
                          holder_id=holder_id)
        except user_errors() as err:
            _fail(err)
        click.echo(f"User {user.username} created ({user.role}).")

    @app.cli.command("reindex")
    @click.option("--batch-size", default=2000, show_default=True, help="Results read from the database at a time.")
    @click.option("--procs", default=min(2, os.cpu_count() or 1), show_default=True, help="Indexing processes.")
    def reindex(batch_size: int, procs: int) -> None:
        """Rebuild the search index from the database into a fresh directory and swap it in."""
        from . import search

        total = db.session.scalar(select(func.count(Result.id)))
        with click.progressbar(length=total, label="Lập chỉ mục") as bar:
            count = search.rebuild(progress=bar.update, batch_size=batch_size, procs=procs)
        click.echo(f"Search index rebuilt: {count} results.")

    @app.cli.command("index-worker")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between checks of the queue.")
    @click.option("--once", is_flag=True, help="Drain the queue once and exit.")
    def index_worker(interval: float, once: bool) -> None:
        """Write queued result changes to the search index (one per node is enough)."""
        import time

        from . import search

        while True:
            handled = search.sync(timeout=interval)
            search.search_index().compact(timeout=interval)
            if once:
                click.echo(f"{handled} queued changes indexed.")
                return
            time.sleep(interval)

    @app.cli.command("import-batch")
    @click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--files", "files_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="Folder the manifest's file paths are relative to.")
    @click.option("--publish", is_flag=True, help="Publish at once instead of waiting for a reviewer.")
    @click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write the failed rows (default: MANIFEST.errors.csv beside it).")
    def import_batch(manifest: Path, files_dir: Path, publish: bool, report: Path | None) -> None:
        """Import a manifest (.csv or .xlsx) and its scans; a rerun resumes where it stopped."""
        from .operations import imports

        batch = imports.open_batch(None, manifest, files_dir, publish=publish, source="cli")
        resumed = batch.imported + batch.skipped + batch.failed
        if resumed:
            click.echo(f"Resuming batch {batch.id}: {resumed} rows already handled.")
        with click.progressbar(length=1, label=f"Batch {batch.id}", show_pos=True, show_eta=True) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            batch = imports.run_batch(batch, manifest, progress)
        if batch.error:
            raise click.ClickException(batch.error)
        click.echo(f"Imported {batch.imported}, skipped (already in) {batch.skipped}, failed {batch.failed}"
                   f" of {batch.total_rows} rows.")
        if batch.failed:
            report = report or manifest.with_name(manifest.stem + ".errors.csv")
            imports.write_report(batch, report)
            click.echo(f"Failed rows, with their line and reason: {report}", err=True)
            raise SystemExit(3)

    @app.cli.command("import-worker")
    @click.option("--once", is_flag=True, help="Handle what is waiting, then stop.")
    def import_worker(once: bool) -> None:
        """Run the import jobs uploaded on the web (each web process also does, between requests)."""
        import time

        from .operations import imports

        while True:
            batch = imports.claim_next_web_batch()
            if batch is not None:
                imports.run_web_batch(batch)
                click.echo(f"Batch {batch.id}: imported {batch.imported}, skipped {batch.skipped}, "
                           f"failed {batch.failed}.")
            elif once:
                return
            else:
                time.sleep(3)

    @app.cli.command("ocr-pending")
    @click.option("--limit", type=int, default=None, help="Stop after this many files.")
    def ocr_pending(limit: int | None) -> None:
        """Recognise the text of stored scans that have no text layer (Tesseract, Vietnamese)."""
        from . import ocr

        if not ocr.available():
            raise click.ClickException("OCR is unavailable: install ocrmypdf and tesseract-ocr-vie.")
        stuck = ocr.requeue_interrupted()
        if stuck:
            click.echo(f"{stuck} file(s) whose recognition was interrupted are queued again.")
        waiting = ocr.pending_count()
        with click.progressbar(length=waiting, label="OCR", show_pos=True) as bar:
            done = 0
            while limit is None or done < limit:
                if not ocr.run_pending(limit=1):
                    break
                done += 1
                bar.update(1)
        click.echo(f"{done} file(s) recognised; {ocr.pending_count()} waiting.")

    @app.cli.command("report")
    @click.argument("year", type=click.IntRange(1990, 2100))
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf", "csv"]), required=True)
    @click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
    @click.option("--price", type=click.IntRange(0), default=None,
                  help="Đồng per page (default PORTAL_PRICE_PER_PAGE).")
    def report(year: int, fmt: str, out: Path, price: int | None) -> None:
        """The yearly digitization report of every unit, as XLSX, PDF or CSV."""
        from . import plan, reports
        from .copies.pdf import CopyFailed

        price = app.config["PRICE_PER_PAGE"] if price is None else price
        rows = plan.yearly_report(None, year, price)
        try:
            data = reports.export(rows, year, price, fmt)
        except CopyFailed as err:
            raise click.ClickException(str(err)) from None
        out.write_bytes(data)
        click.echo(f"Report {year} ({fmt}, {len(rows)} units) written to {out}.")

    @app.cli.command("signing-key")
    def signing_key() -> None:
        """Show the key certified copies are signed with; make the demo one if none is configured."""
        from .copies.keys import ensure_demo_keys, load_trust_roots, signing_config

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
