"""Hand-over slips of published batches: listed and sent to the reviewer who made them only."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ...access import get_slip_or_404, is_reviewer
from ...operations import slips as ops
from ..documents import send_slip
from ..errors import answer
from . import bp

GONE = ("Phiếu trả kết quả này đã quá {days} ngày lưu nên đã bị xóa, cùng các mã nhận tài khoản in trên đó. "
        "Nếu người được cấp chưa nhận phiếu, hãy cấp mã mới tại trang của từng kết quả (mã cũ sẽ hết hiệu lực).")


@bp.get("/slips")
def slips():
    ops.purge_expired()
    made = ops.mine(current_user) if is_reviewer(current_user) else []
    return render_template("admin/slips.html", slips=made, live=ops.live)


@bp.get("/slips/<int:slip_id>.pdf")
def slip(slip_id: int):
    item = get_slip_or_404(current_user, slip_id)
    ops.purge_expired()
    if not ops.live(item):
        from flask import current_app

        return answer(410, GONE.format(days=current_app.config["HANDOVER_SLIP_DAYS"]),
                      title="Phiếu đã hết hạn lưu", error="slip_expired")
    return send_slip(item)
