"""Several processes write at once; a process dies after committing; the index ends equal to the database."""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from portal import search
from portal.extensions import db
from portal.models import IndexQueueEntry, Result

ROOT = Path(__file__).resolve().parent.parent


def _indexed_ids() -> set[int]:
    reader = search.search_index().searcher().reader()
    return {int(fields["id"]) for fields in reader.all_stored_fields()}


def _spawn(db_url, data_dir, name, count, *extra):
    return subprocess.Popen([sys.executable, "-m", "tests.index_writer_process", db_url, str(data_dir), name,
                             str(count), *extra], cwd=ROOT, stderr=subprocess.PIPE, text=True)


def test_concurrent_writers_and_a_crash_lose_nothing(app, db_url, world):
    data_dir = app.config["PORTAL_DATA_DIR"]
    writers = [_spawn(db_url, data_dir, f"w{n}", 6) for n in range(4)]
    crasher = _spawn(db_url, data_dir, "crash", 1, "die")
    for process in [*writers, crasher]:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
    in_database = set(db.session.scalars(select(Result.id)))
    assert len(in_database) == 25
    search.sync(timeout=10)
    stuck = db.session.execute(select(IndexQueueEntry.result_id, IndexQueueEntry.last_error)).all()
    assert not stuck
    assert _indexed_ids() == in_database
    # Every result is findable by its holder, the one whose process died included.
    found = search.search_results(world["holder_a"], "crash", search.Filters())
    assert [r.summary for r, _ in found.items] == ["Kết quả crash số 0"]
