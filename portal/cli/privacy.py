"""`flask --app wsgi breach-affected`: whose documents a staff account or an address touched in a
period, for the notices a breach calls for (docs/BREACH.md)."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask

COLUMNS = ("Loại chủ thể", "Số định danh", "Tên chủ thể", "Mã kết quả", "Số, ký hiệu", "Thao tác", "Mã thao tác",
           "Thời điểm", "Người thực hiện", "Địa chỉ IP")
DAY = click.DateTime(formats=["%Y-%m-%d"])
PROGRESS_FROM = 1000  # events: below this the list is written before a bar would show


def register(app: Flask) -> None:
    @app.cli.command("breach-affected")
    @click.option("--user", "username", help="The staff account whose actions to follow.")
    @click.option("--address", help="The IP address whose requests to follow.")
    @click.option("--from", "start", type=DAY, required=True, help="First day, YYYY-MM-DD (Asia/Ho_Chi_Minh).")
    @click.option("--to", "end", type=DAY, required=True, help="Last day, YYYY-MM-DD, included.")
    @click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                  help="Write the CSV here (UTF-8 with BOM) instead of to standard output.")
    def breach_affected(username: str | None, address: str | None, start: datetime, end: datetime,
                        out: Path | None) -> None:
        """Every holder whose results the account or the address touched in the period: the holder, the
        result, what was done and when (one CSV row per audit event)."""
        from ..models.results import HOLDER_KIND_LABELS
        from ..privacy import BadQuery, count_touches, find_account, parse_address, touches

        try:
            if (username is None) == (address is None):
                raise BadQuery("Give exactly one of --user and --address.")
            actor = find_account(username) if username is not None else None
            address = parse_address(address) if address is not None else None
            total = count_touches(actor, address, start.date(), end.date())
        except BadQuery as err:
            raise click.ClickException(str(err)) from None
        rows = touches(actor, address, start.date(), end.date())
        holders, results = set(), set()
        # A file opens in Excel with its BOM; standard output stays open after (click's KeepOpenFile).
        try:
            opened = out.open("w", newline="", encoding="utf-8-sig") if out else click.open_file("-", "w")
        except OSError as err:  # a folder that does not exist, or not ours
            raise click.ClickException(f"Cannot write {out}: {err.strerror}.") from None
        with opened as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            with click.progressbar(rows, length=total, label="Sự kiện", file=sys.stderr,
                                   hidden=total < PROGRESS_FROM) as bar:
                for row in bar:
                    holders.add(row.holder_id)
                    results.add(row.result_code)
                    writer.writerow((HOLDER_KIND_LABELS[row.holder_kind], row.holder_id, row.holder_name,
                                     row.result_code, row.document_number, row.action_label, row.action,
                                     row.at.strftime("%Y-%m-%d %H:%M:%S"), row.actor_name, row.ip))
        who = f"account {actor.username}" if actor is not None else f"address {address}"
        where = f"; written to {out}." if out else "."
        click.echo(f"{len(holders)} holders, {len(results)} results, {total} events by {who} from "
                   f"{start.date()} to {end.date()} ({app.config['TIMEZONE']}){where}", err=True)

