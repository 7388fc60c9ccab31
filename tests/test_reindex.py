"""`reindex` rebuilds from the database and swaps atomically; a missing or corrupt index is rebuilt."""

import os
from pathlib import Path

from portal import search

from .conftest import make_app, make_result


def _current(app) -> Path:
    root = Path(app.config["PORTAL_DATA_DIR"]) / "index"
    return root / os.readlink(root / "current")


def test_reindex_rebuilds_into_a_fresh_directory(app, world, pdfs):
    results = [make_result(world, pdfs[n], document_number=f"{n + 1}/GP-SKHCN", reviewer="reviewer_a")
               for n in range(3)]
    before = _current(app)
    old_searcher = search.search_index().searcher()
    outcome = app.test_cli_runner().invoke(args=["reindex", "--batch-size", "2"])
    assert outcome.exit_code == 0, outcome.output
    assert "Search index rebuilt: 3 results." in outcome.output
    after = _current(app)
    assert after != before and after.is_dir() and before.is_dir()  # the previous stays for open readers
    # A searcher opened before the swap still answers; the next search uses the new directory.
    assert old_searcher.doc_count() == 3
    found = search.search_results(world["holder_a"], "thiet bi", search.Filters())
    assert {r.id for r, _ in found.items} == {r.id for r in results}
    # A second rebuild removes the oldest directory.
    app.test_cli_runner().invoke(args=["reindex"])
    assert not before.exists()


def test_changes_made_during_a_rebuild_are_caught_up(app, world, pdfs, monkeypatch):
    first = make_result(world, pdfs[0], reviewer="reviewer_a")
    index = search.search_index()
    original_build = index.build

    def build_then_change(batches, progress=None, **options):
        directory = original_build(batches, progress, **options)
        # Committed after the rebuild read the database, before the swap.
        make_result(world, pdfs[1], document_number="2/GP-SKHCN", reviewer="reviewer_a")
        return directory

    monkeypatch.setattr(index, "build", build_then_change)
    search.rebuild()
    found = search.search_results(world["holder_a"], "", search.Filters())
    assert len(found.items) == 2 and first.id in {r.id for r, _ in found.items}


def test_missing_index_is_reported_then_rebuilt(db_url, tmp_path, world, pdfs, caplog):
    make_result(world, pdfs[0], reviewer="reviewer_a")
    fresh = make_app(db_url, tmp_path / "other-data", SEARCH_REBUILD_IN_BACKGROUND=True)
    client = fresh.test_client()
    # The rebuild runs in the background; until it is done /healthz says why it is not ready.
    with fresh.app_context():
        index = search.search_index()
        with index.rebuild_lock():  # hold it so the rebuild cannot start yet
            response = client.get("/healthz")
            assert response.status_code == 503 and response.json["index"] in ("rebuilding", "missing")
        assert "search index is missing" in caplog.text
        import time

        for _ in range(100):
            if client.get("/healthz").status_code == 200:
                break
            time.sleep(0.1)
        health = client.get("/healthz").json
        assert (health["status"], health["database"], health["index"]) == ("ok", "ok", "ok")
        assert health["files"]["status"] == "ok" and health["storage"]["status"] == "ok"
        assert index.doc_count() == 1


def test_corrupt_index_is_rebuilt_instead_of_crashing(app, db_url, world, pdfs, caplog):
    make_result(world, pdfs[0], reviewer="reviewer_a")
    current = _current(app)
    for toc in current.glob("_MAIN_*.toc"):
        toc.write_bytes(b"not an index")
    fresh = make_app(db_url, app.config["PORTAL_DATA_DIR"])
    client = fresh.test_client()
    assert client.get("/healthz").status_code == 200  # rebuilt at the first request
    assert "search index is corrupt" in caplog.text
    with fresh.app_context():
        assert search.search_index().doc_count() == 1
