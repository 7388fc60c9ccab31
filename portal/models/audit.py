from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .users import User

ACTION_LABELS = {
    "login": "Đăng nhập",
    "login.failed": "Đăng nhập thất bại",
    "logout": "Đăng xuất",
    "logout.all": "Đăng xuất mọi nơi",
    "login.locked": "Tạm khóa đăng nhập",
    "login.throttled": "Đăng nhập bị hoãn (sai nhiều lần)",
    "login.national_refused": "Đăng nhập VNeID bị từ chối",
    "login.password_off": "Đăng nhập bằng mật khẩu đã tắt",
    "national.link": "Gắn tài khoản với VNeID",
    "password.off": "Tắt đăng nhập bằng mật khẩu",
    "password.on": "Đặt lại mật khẩu (bật đăng nhập bằng mật khẩu)",
    "totp.enable": "Bật xác thực hai bước",
    "totp.disable": "Tắt xác thực hai bước",
    "totp.reset": "Quản trị tắt xác thực hai bước",
    "totp.recovery_used": "Dùng mã khôi phục",
    "totp.recovery_codes": "Tạo mã khôi phục mới",
    "setting.update": "Đổi cài đặt",
    "sync.retry": "Gửi lại bản tin đồng bộ",
    "password.change": "Đổi mật khẩu",
    "result.create": "Tạo bản nháp",
    "result.update": "Sửa thông tin",
    "result.publish": "Phát hành",
    "result.return": "Trả lại",
    "result.revoke": "Thu hồi",
    "result.replace": "Thay thế",
    "result.view": "Xem kết quả",
    "result.download": "Tải tệp",
    "result.preview": "Xem trang",
    "unit.create": "Tạo đơn vị",
    "api_client.create": "Tạo ứng dụng kết nối",
    "api_client.rotate": "Đổi khóa bí mật ứng dụng kết nối",
    "api_client.revoke": "Thu hồi ứng dụng kết nối",
    "api_client.token": "Ứng dụng kết nối lấy mã truy cập",
    "api_client.token_refused": "Từ chối cấp mã truy cập",
    "result.push_refused": "Từ chối kết quả gửi qua API",
    "api_client.call": "Ứng dụng kết nối gọi API",
    "unit.update": "Sửa đơn vị",
    "user.create": "Tạo tài khoản",
    "user.update": "Sửa tài khoản",
    "procedure.create": "Thêm thủ tục",
    "procedure.update": "Sửa thủ tục",
    "fixity.check": "Kiểm tra toàn vẹn tệp",
    "file.missing": "Tệp bị mất",
    "file.altered": "Tệp bị thay đổi",
    "backup.create": "Sao lưu",
    "backup.restore": "Khôi phục từ bản sao lưu",
    "lookup": "Tra cứu công khai",
    "claim.issue": "Cấp mã nhận tài khoản",
    "claim.use": "Nhận tài khoản bằng mã",
    "member.add": "Thêm thành viên doanh nghiệp",
    "member.remove": "Gỡ thành viên doanh nghiệp",
    "member.manager": "Chỉ định người quản lý doanh nghiệp",
    "member.unmanager": "Thôi là người quản lý doanh nghiệp",
    "inventory.record": "Ghi số kiểm kê",
    "import.start": "Bắt đầu nhập lô",
    "import.finish": "Kết thúc nhập lô",
    "import.files_removed": "Xóa tệp tải lên của lô",
    "ocr.done": "Nhận dạng chữ",
    "copy.issue": "Cấp bản sao điện tử",
    "copy.download": "Tải bản sao điện tử",
    "copy.verify": "Xác thực bản sao",
    "copy.renew": "Gia hạn dấu thời gian lưu trữ của bản sao",
    "share.create": "Tạo đường dẫn chia sẻ bản sao",
    "share.revoke": "Thu hồi đường dẫn chia sẻ",
    "share.use": "Mở đường dẫn chia sẻ",
    "archive.export": "Nộp lưu vào lưu trữ hiện hành",
    "privacy.notice": "Được xem thông báo xử lý dữ liệu cá nhân",
    "data.export": "Tải dữ liệu của tôi",
    "correction.submit": "Gửi yêu cầu sửa thông tin",
    "correction.acknowledge": "Xác nhận đã nhận yêu cầu sửa thông tin",
    "correction.correct": "Sửa thông tin bằng kết quả thay thế",
    "correction.refuse": "Từ chối yêu cầu sửa thông tin",
    "correction.attachment": "Xem tệp kèm yêu cầu sửa thông tin",
}


class AuditEvent(db.Model):
    """Who did what, when, from where. Written in the same transaction as the change it records."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Kept as written at the time, so the record survives renames.
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"), index=True)
    target: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    # Set instead of result_id when the result is not flushed yet (its id comes with the flush).
    result: Mapped[Result | None] = relationship()  # noqa: F821

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)
