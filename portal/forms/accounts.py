from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..identifiers import normalize_procedure_code, normalize_unit_code
from ..models.users import ROLE_LABELS, ROLES
from ..passwords import HINT as PASSWORD_HINT
from . import REQUIRED, Form, normalizing


class LoginForm(Form):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)])


class LookupForm(Form):
    result_code = StringField("Mã kết quả", validators=[DataRequired(REQUIRED), Length(max=64)],
                              description="In trên văn bản hoặc phiếu trả kết quả, ví dụ 000.00.21.H48-240315-0012-KQ1")
    holder_id = StringField("Số CCCD hoặc mã số thuế của người được cấp",
                            validators=[DataRequired(REQUIRED), Length(max=20)])


class ClaimForm(Form):
    code = StringField("Mã nhận tài khoản", validators=[DataRequired(REQUIRED), Length(max=32)],
                       description="In trên phiếu trả kết quả, dạng XXXX-XXXX-XXXX")
    holder_id = StringField("Số CCCD hoặc mã số thuế", validators=[DataRequired(REQUIRED), Length(max=20)])
    full_name = StringField("Họ và tên", validators=[Optional(), Length(max=255)])
    username = StringField("Tên đăng nhập muốn dùng", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)],
                             description=PASSWORD_HINT)
    confirm = PasswordField("Nhập lại mật khẩu", validators=[
        DataRequired(REQUIRED), EqualTo("password", "Hai lần nhập mật khẩu không khớp.")])


class MemberForm(Form):
    full_name = StringField("Họ và tên", validators=[DataRequired(REQUIRED), Length(max=255)])
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=40)],
                           description="Tên ngắn, ví dụ «ketoan»: tài khoản sẽ là <mã số thuế>.ketoan.")
    password = PasswordField("Mật khẩu ban đầu", validators=[DataRequired(REQUIRED), Length(max=256)],
                             description=PASSWORD_HINT + " Người đó nên đổi sau lần đăng nhập đầu.")


class PasswordForm(Form):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(REQUIRED), Length(max=256)])
    new = PasswordField("Mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)],
                        description=PASSWORD_HINT)
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)])


class NewPasswordForm(Form):
    """A password set from a VNeID session, for an account whose password login is off."""

    new = PasswordField("Mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)],
                        description=PASSWORD_HINT)
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[DataRequired(REQUIRED), Length(max=256)])


class UnitForm(Form):
    code = StringField("Mã đơn vị (QCVN 102:2016)", validators=[DataRequired(REQUIRED),
                       normalizing(normalize_unit_code)])
    name = StringField("Tên đơn vị", validators=[DataRequired(REQUIRED), Length(max=255)])
    active = BooleanField("Đang hoạt động", default=True)
    push_publishes = BooleanField("Kết quả do hệ thống một cửa gửi qua API được phát hành ngay", default=True,
                                  description="Bỏ chọn để các kết quả đó chờ cán bộ kiểm tra trước khi phát hành.")


class UserForm(Form):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=64)])
    full_name = StringField("Họ và tên", validators=[Optional(), Length(max=255)])
    role = SelectField("Vai trò", choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    unit_code = SelectField("Đơn vị (cán bộ)", validators=[Optional()])
    holder_id = StringField("Số CCCD hoặc mã số thuế (công dân, doanh nghiệp)", validators=[Optional()])
    password = PasswordField("Mật khẩu", validators=[Optional(), Length(max=256)],
                             description=PASSWORD_HINT + " Khi sửa, để trống nếu không đổi.")
    active = BooleanField("Đang hoạt động", default=True)
    business_manager = BooleanField("Người quản lý của doanh nghiệp (thêm, gỡ thành viên)")
    reset_second_factor = BooleanField("Tắt xác thực hai bước của tài khoản này (mất điện thoại và mã khôi phục)")


EMAIL = "Địa chỉ thư điện tử không đúng."


class SettingsForm(Form):
    require_second_factor = BooleanField("Bắt buộc cán bộ (số hóa, kiểm tra, quản trị) dùng xác thực hai bước")
    copy_fee = IntegerField("Lệ phí cấp bản sao điện tử từ sổ gốc (đồng một bản)",
                            validators=[InputRequired(REQUIRED), NumberRange(min=0, max=100_000_000)],
                            description="Nhập 0 nếu miễn phí.")
    help_phone = StringField("Điện thoại hỗ trợ", validators=[DataRequired(REQUIRED), Length(max=40)])
    help_address = StringField("Địa chỉ của Sở", validators=[DataRequired(REQUIRED), Length(max=255)])
    help_hours = StringField("Giờ làm việc", validators=[DataRequired(REQUIRED), Length(max=255)])
    tax_code_id_type = IntegerField(
        "Mã loại định danh của mã số thuế (LoaiDinhDanh)",
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=99)],
        description="Số CCCD gửi đi với mã 1. Đặt theo danh mục mà Kho dữ liệu quốc gia công bố; mặc định 3.")
    privacy_contact = StringField("Đầu mối bảo vệ dữ liệu cá nhân",
                                  validators=[DataRequired(REQUIRED), Length(max=255)])
    privacy_email = StringField("Thư điện tử của đầu mối", validators=[
        DataRequired(REQUIRED), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL), Length(max=255)])
    privacy_phone = StringField("Điện thoại của đầu mối", validators=[DataRequired(REQUIRED), Length(max=40)])
    access_log_years = IntegerField("Thời hạn lưu nhật ký truy cập (năm)",
                                    validators=[InputRequired(REQUIRED), NumberRange(min=1, max=50)])
    correction_answer_days = IntegerField(
        "Thời hạn trả lời yêu cầu sửa thông tin (ngày làm việc)",
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=90)],
        description="Tính từ ngày nhận yêu cầu; việc xác nhận đã nhận luôn trong 2 ngày làm việc.")
    holidays = TextAreaField(
        "Ngày nghỉ lễ, tết (không tính là ngày làm việc)",
        validators=[Length(max=5000)],
        description="Mỗi dòng một ngày, dạng NNNN-TT-NN (ví dụ 2026-09-02). Thứ Bảy, Chủ nhật luôn được nghỉ.")

    def validate_holidays(self, field):
        from ..workdays import parse_holidays

        try:
            parse_holidays(field.data)
        except ValueError as err:
            raise ValidationError(str(err)) from None


CODE_HINT = "6 chữ số trong ứng dụng xác thực, hoặc một mã khôi phục."


class SecondFactorForm(Form):
    code = StringField("Mã xác thực", validators=[DataRequired(REQUIRED), Length(max=20)], description=CODE_HINT)


class SecondFactorSetupForm(Form):
    code = StringField("Mã 6 chữ số đang hiện trong ứng dụng", validators=[DataRequired(REQUIRED), Length(max=10)])


class SecondFactorOffForm(Form):
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)])
    code = StringField("Mã xác thực", validators=[DataRequired(REQUIRED), Length(max=20)], description=CODE_HINT)


class ProcedureForm(Form):
    code = StringField("Mã thủ tục", validators=[DataRequired(REQUIRED), normalizing(normalize_procedure_code)],
                       description="Theo Cơ sở dữ liệu quốc gia về TTHC, ví dụ 2.002131")
    name = TextAreaField("Tên thủ tục", validators=[DataRequired(REQUIRED), Length(max=1000)])
    field = StringField("Lĩnh vực", validators=[DataRequired(REQUIRED), Length(max=255)])
    retention_years = IntegerField("Thời hạn lưu trữ (năm)", validators=[
        Optional(), NumberRange(1, 200, "Thời hạn từ 1 đến 200 năm.")],
        description="Để trống nếu lưu trữ vĩnh viễn.")
