"""Share links: a holder lets someone without an account (a bank, say) download one certified
copy for a few days (issue 17). The link's token is shown once and kept only as its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .copies import CertifiedCopy
from .types import UTCDateTime
from .users import User

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
STATUS_LABELS = {ACTIVE: "Đang mở", EXPIRED: "Đã hết hạn", REVOKED: "Đã thu hồi"}

# What happened when the link was opened.
DOWNLOADED, REFUSED_EXPIRED, REFUSED_REVOKED, REFUSED_RESULT = "downloaded", "link_expired", "link_revoked", \
    "result_invalid"
REFUSED_FILE = "file_unavailable"  # the stored copy is not whole: nothing was sent
OUTCOME_LABELS = {
    DOWNLOADED: "Đã tải bản sao",
    REFUSED_EXPIRED: "Từ chối: đường dẫn đã hết hạn",
    REFUSED_REVOKED: "Từ chối: đường dẫn đã bị thu hồi",
    REFUSED_RESULT: "Từ chối: kết quả không còn hiệu lực",
    REFUSED_FILE: "Không tải được: tệp bản sao tạm thời không đọc được",
}


class CopyShare(db.Model):
    """A link to one copy, for one recipient, until `expires_at` or until revoked."""

    __tablename__ = "copy_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("certified_copies.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Whom the holder says it is for: their own note, shown to them (and their business) only.
    recipient: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    copy: Mapped[CertifiedCopy] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    uses: Mapped[list[ShareUse]] = relationship(order_by="ShareUse.id.desc()", back_populates="share")

    def status(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return REVOKED
        return EXPIRED if (now or utcnow()) >= self.expires_at else ACTIVE

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status()]


class ShareUse(db.Model):
    """One opening of a share link, whatever the answer: when, from which address, what happened."""

    __tablename__ = "copy_share_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("copy_shares.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(32))

    share: Mapped[CopyShare] = relationship(back_populates="uses")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)
