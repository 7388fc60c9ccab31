"""What staff do about the messages to the national data store (portal/outbox.py)."""

from __future__ import annotations

from .. import audit
from ..access import require
from ..models import OutboxMessage, User
from ..models.outbox import SENT
from ..timeutil import utcnow
from . import OperationError, transactional


@transactional
def retry_now(actor: User, message: OutboxMessage) -> OutboxMessage:
    """An admin sends a message again at the next look instead of at its backoff time (after the
    receiver was mended, say). Its result's earlier messages still go first."""
    require(actor, "manage")
    if message.status == SENT:
        raise OperationError("Bản tin này đã được gửi thành công.")
    message.next_attempt_at = utcnow()
    audit.record("sync.retry", actor=actor, result=message.result,
                 details={"version": message.version, "attempts": message.attempts})
    return message
