"""`flask --app wsgi archive-export`: a unit's results of a year as a BagIt package for the archive."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import Flask

from . import fail


def register(app: Flask) -> None:
    @app.cli.command("archive-export")
    @click.option("--unit", "unit_code", required=True, help="Unit code, e.g. 000.02.21.H48.")
    @click.option("--year", required=True, type=int, help="Year of issue of the results.")
    @click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="A new (or empty) folder for the package.")
    def archive_export(unit_code: str, year: int, out: Path) -> None:
        """Write a BagIt package of a unit's results issued in a year (every one ever published), check
        each PDF for PDF/A, and record the transfer in the register."""
        from ..archive import package as archive
        from ..errors import UserError
        from ..operations.archive import record_transfer

        try:
            unit = archive.find_unit(unit_code)
            archive.check_year(year)
            archive.check_out(out)
            count = len(archive.results_of(unit, year))
            with click.progressbar(length=count, label=f"Đóng gói {count} kết quả") as bar:
                package = archive.export(unit, year, out, bar.update)
            record_transfer(package, getpass.getuser())
        except UserError as err:
            fail(err)
        click.echo(f"Package {out}: {package.result_count} results, {package.file_count} files, "
                   f"Payload-Oxum {package.payload_oxum}.")
        if package.not_pdfa:
            click.echo(f"{len(package.not_pdfa)} PDF files are not PDF/A: see data/pdfa-report.txt in the package.")
