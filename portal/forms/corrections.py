from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..models.corrections import FIELDS
from ..operations.corrections import REASON_MAX, VALUE_MAX
from . import Form


class CorrectionForm(Form):
    field = SelectField("Thông tin bị sai", choices=[("", "— Chọn —"), *FIELDS.items()],
                        validators=[DataRequired("Hãy chọn thông tin cần sửa trong danh sách.")])
    value = TextAreaField("Thông tin đúng phải là", validators=[
        DataRequired("Hãy ghi thông tin đúng phải là gì."),
        Length(max=VALUE_MAX, message=f"Thông tin đúng không được dài quá {VALUE_MAX} ký tự.")])
    attachment = FileField("Tài liệu chứng minh (không bắt buộc)",
                           description="Một tệp PDF hoặc ảnh (JPEG, PNG, TIFF), ví dụ ảnh thẻ căn cước.")


class RefuseForm(Form):
    reason = TextAreaField("Lý do từ chối", validators=[
        DataRequired("Cần ghi lý do từ chối để người yêu cầu được biết."),
        Length(max=REASON_MAX, message=f"Lý do không được dài quá {REASON_MAX} ký tự.")])


class ReplacementForm(Form):
    code = StringField("Mã kết quả thay thế", validators=[DataRequired("Hãy ghi mã của kết quả thay thế."),
                                                          Length(max=64)],
                       description="Kết quả thay thế đã phát hành, tạo bằng chức năng «Thay thế» trên trang kết quả.")
