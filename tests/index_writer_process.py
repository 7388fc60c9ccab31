"""A separate process that writes results while others do (used by test_search_concurrency).

python -m tests.index_writer_process DB_URL DATA_DIR NAME COUNT [die]
"""

import io
import os
import sys

from pypdf import PdfWriter
from sqlalchemy import select

from portal import search
from portal.extensions import db
from portal.models import Procedure, User
from portal.operations import results as ops
from portal.scans import Spooled, prepare
from portal.storage import storage
from tests.conftest import CCCD_A, make_app


def tiny_pdf(label: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": label})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main(db_url: str, data_dir: str, name: str, count: int, die: bool) -> None:
    from datetime import date

    app = make_app(db_url, data_dir)
    with app.app_context():
        staff = db.session.scalars(select(User).where(User.username == "staff_a")).one()
        reviewer = db.session.scalars(select(User).where(User.username == "reviewer_a")).one()
        procedure = db.session.scalars(select(Procedure).where(Procedure.code == "1.010711")).one()
        for n in range(count):
            path, sha, size = storage().spool(io.BytesIO(tiny_pdf(f"{name}-{n}")))
            scan = prepare(storage(), Spooled(path, sha, size, ""), "scan.pdf")
            data = ops.ResultInput(
                procedure=procedure, unit=staff.unit, document_number=f"{n + 1}/{name.upper()}-SKHCN",
                issue_date=date(2020, 1, 1 + n % 28), signer_name="Trần Văn Hùng", signer_title="Giám đốc",
                summary=f"Kết quả {name} số {n}", holder_kind="person", holder_id=CCCD_A,
                holder_name="Phạm Minh Khánh", formed_year=2020,
            )
            result = ops.create_draft(staff, data, scan)
            ops.publish(reviewer, result, seen_version=result.version)
            if die:
                os._exit(0)  # dies after the commit, before anything reached the index
            search.sync(timeout=0.05)  # a busy writer elsewhere: leave the rows queued


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), len(sys.argv) > 5 and sys.argv[5] == "die")
