"""A share link opened by anyone who has it: no account, rate-limited per address, every opening
recorded (portal/operations/shares.py)."""

from flask import Blueprint, current_app, render_template

from ..extensions import limiter
from ..models.shares import DOWNLOADED, REFUSED_EXPIRED, REFUSED_FILE, REFUSED_RESULT
from ..operations import shares
from ..operations.copies import why_no_copy
from .documents import send_copy
from .errors import answer

bp = Blueprint("shares", __name__)
UNKNOWN_TEXT = ("Không có đường dẫn chia sẻ nào như vậy. Hãy kiểm tra lại đường dẫn đã nhận (chép đủ cả đoạn cuối), "
                "hoặc hỏi lại người đã gửi.")


@bp.get(f"{shares.LINK_PATH}<token>")
@limiter.limit(lambda: current_app.config["SHARE_RATE_LIMIT"])
def open_link(token: str):
    used = shares.use(token)
    if used is None:
        return answer(404, UNKNOWN_TEXT, title="Không tìm thấy đường dẫn chia sẻ")
    share = used.share
    if used.outcome in (DOWNLOADED, REFUSED_FILE):
        # A damaged file is met again there, and answered as any download of it is (503, the
        # operators told); checked again, nothing but the whole file is ever sent.
        return send_copy(share.copy, recorded=True)
    # Gone (410): the link was good once; say why, so the recipient knows to ask the holder.
    reason = why_no_copy(share.copy.result) if used.outcome == REFUSED_RESULT else None
    return render_template("shares/refused.html", share=share, outcome=used.outcome, reason=reason,
                           expired=used.outcome == REFUSED_EXPIRED), 410
