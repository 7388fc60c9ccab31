"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
timeout = 120  # large uploads are checked and converted in the request


def post_worker_init(worker):
    """Open and warm the search index in each worker before it takes requests.

    A fresh searcher's first query on a large index is slow; pay it here, not in a user's request.
    """
    from portal import search

    app = worker.wsgi
    with app.app_context():
        try:
            search.search_index().doc_count()
        except search.IndexUnavailable:
            worker.log.warning("search index unavailable at start; it will be rebuilt at the first request")
