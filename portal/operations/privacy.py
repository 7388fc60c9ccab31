"""The processing record of the privacy notice: which version each holder was shown, and when."""

from __future__ import annotations

from .. import audit, privacy
from ..models import User
from ..timeutil import utcnow
from . import transactional


@transactional
def record_notice_shown(user: User) -> bool:
    """At a login: a holder not yet shown the current notice is shown it now (the caller puts it on
    the next page) and that is recorded on the account. True when it is to be shown."""
    if not privacy.notice_due(user):
        return False
    version = privacy.NOTICE_VERSION
    user.privacy_notice_version, user.privacy_notice_seen_at = version, utcnow()
    audit.record("privacy.notice", actor=user, target=user.username, details={"notice_version": version})
    return True
