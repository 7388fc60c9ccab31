"""`flask --app wsgi ...`: batch imports and text recognition."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("import-batch")
    @click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--files", "files_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="Folder the manifest's file paths are relative to.")
    @click.option("--publish", is_flag=True, help="Publish at once instead of waiting for a reviewer.")
    @click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write the failed rows (default: MANIFEST.errors.csv beside it).")
    def import_batch(manifest: Path, files_dir: Path, publish: bool, report: Path | None) -> None:
        """Import a manifest (.csv or .xlsx) and its scans; a rerun resumes where it stopped."""
        from ..operations import imports

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

        from .. import jobs
        from ..operations import imports

        while True:
            jobs.tidy_if_due()
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
        from .. import ocr

        if not ocr.available():
            raise click.ClickException("OCR is unavailable: install ocrmypdf and tesseract-ocr-vie.")
        waiting = ocr.pending_count()
        with click.progressbar(length=waiting, label="OCR", show_pos=True) as bar:
            done = 0
            while limit is None or done < limit:
                if not ocr.run_pending(limit=1):
                    break
                done += 1
                bar.update(1)
        click.echo(f"{done} file(s) recognised; {ocr.pending_count()} waiting.")
