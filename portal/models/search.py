from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime


class IndexQueueEntry(db.Model):
    """A result whose index entry must be written again.

    Added in the same transaction as the change to the result, so a change is never lost even
    if the process dies right after committing; any process's indexer drains the queue.
    """

    __tablename__ = "index_queue"
    # Row ids are never reused (SQLite reuses the highest rowid after a delete without this):
    # a drainer deletes exactly the rows it handled, by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    result_id: Mapped[int] = mapped_column(index=True)  # no FK: a queued id may outlive its row
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
