"""What bench/api.py made faster keeps its meaning: a machine client's push is indexed by the web
process's indexer (not after its request) when that indexer runs, and still reaches the index; SQLite
runs in write-ahead-log mode."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import search
from portal.extensions import db
from portal.search import queue

from .conftest import UNIT_A
from .test_push import CODE, Machine, metadata


def test_a_push_is_left_to_the_indexer_when_one_runs_and_then_found(app, world, pdfs):
    one_stop = Machine(app.test_client(), UNIT_A, "Một cửa A")
    assert one_stop.put(CODE, metadata(), pdfs[0]).status_code == 201
    assert queue.pending() == 0  # no indexer in this process: the request wrote it, as before

    app.config["SEARCH_INDEXER_INTERVAL"] = 3600  # an indexer thread that will not wake during the test
    other = f"{UNIT_A}-190502-0002-KQ1"
    assert one_stop.put(other, metadata(document_number="126/GP-SKHCN"), pdfs[1]).status_code == 201
    assert queue.pending() > 0  # queued in the push's transaction, for the indexer
    assert search.search_index().doc_count() == 1
    search.sync()  # what the indexer does at its next turn
    assert queue.pending() == 0
    assert search.search_index().doc_count() == 2


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_runs_in_write_ahead_log_mode(app):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
