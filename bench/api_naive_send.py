"""The baseline of `bench/api.py`: a push that sends its message to the national data store itself,
inside the request, before answering, as a first version without an outbox would. No outbox message
is written; after the push commits, the result is read back and its "published" message is posted
(national_store.post, a new connection each time), and the client waits for the receiver's answer.
`install()` puts it in place of `operations.push.push` in this process (the bench's gunicorn calls
it in each worker before loading the app)."""

from __future__ import annotations


def install() -> None:
    from sqlalchemy import select

    from portal import national_store, outbox
    from portal.extensions import db
    from portal.models import Result
    from portal.models.results import PUBLISHED
    from portal.operations import push as push_ops

    pushed = push_ops.push
    outbox.record = lambda result, status: None  # no outbox: the request sends

    def push_and_send(client, code, row, scan, replaces_code, procedures):
        told, created = pushed(client, code, row, scan, replaces_code, procedures)
        if created and told["status"] == PUBLISHED:  # the committed result, read back for its message
            result = db.session.scalars(select(Result).where(Result.code == told["result_code"])).one()
            national_store.post(national_store.payload(result, PUBLISHED, 1),
                                national_store.idempotency_key(result.code, 1))
        return told, created

    push_ops.push = push_and_send
