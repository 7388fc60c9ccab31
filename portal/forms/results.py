from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..identifiers import (
    InvalidInput,
    normalize_document_number,
    normalize_dossier_code,
    normalize_holder_id,
    normalize_result_code,
    parse_date,
    parse_past_date,
)
from ..models.results import BORN_DIGITAL, DIGITIZED, ORIGIN_LABELS
from ..timeutil import today
from . import REQUIRED, Form, normalizing

RETENTION_CHOICES = [("", "Vĩnh viễn"), ("50", "50 năm"), ("20", "20 năm"), ("10", "10 năm"), ("5", "5 năm")]


def _date_field(label, *, past_only=True, required=True):
    def validator(form, field):
        if not field.data:
            return
        try:
            field.parsed = (parse_past_date if past_only else parse_date)(field.data, label=label)
        except InvalidInput as err:
            raise ValidationError(str(err)) from None

    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return StringField(label, validators=[*validators, validator],
                       description="ngày/tháng/năm, ví dụ 25/03/2021")


class ResultMetadataForm(Form):
    result_code = StringField("Mã kết quả", validators=[Optional(), normalizing(normalize_result_code)],
                              description="Để trống để hệ thống tự sinh theo mã hồ sơ.")
    dossier_code = StringField("Mã hồ sơ", validators=[Optional(), normalizing(normalize_dossier_code)],
                               description="Để trống với hồ sơ giấy cũ không có mã hồ sơ.")
    unit_id = SelectField("Đơn vị", coerce=int, validate_choice=True)
    procedure_code = SelectField("Thủ tục hành chính", validators=[DataRequired(REQUIRED)],
                                 validate_choice=True)
    document_number = StringField("Số, ký hiệu", validators=[DataRequired(REQUIRED),
                                  normalizing(normalize_document_number)],
                                  description="ví dụ 125/GP-SKHCN")
    issue_date = _date_field("Ngày ban hành")
    signer_name = StringField("Người ký", validators=[DataRequired(REQUIRED), Length(max=255)])
    signer_title = StringField("Chức vụ người ký", validators=[DataRequired(REQUIRED), Length(max=255)])
    summary = TextAreaField("Trích yếu", validators=[DataRequired(REQUIRED), Length(max=2000)])
    holder_id = StringField("Số CCCD hoặc mã số thuế của người được cấp",
                            validators=[DataRequired(REQUIRED), Length(max=20)])
    holder_name = StringField("Tên người được cấp", validators=[DataRequired(REQUIRED), Length(max=255)])
    holder_address = StringField("Địa chỉ", validators=[Optional(), Length(max=500)])
    valid_from = _date_field("Có hiệu lực từ ngày", past_only=False, required=False)
    valid_until = _date_field("Có hiệu lực đến ngày", past_only=False, required=False)
    formed_year = IntegerField("Năm hình thành hồ sơ giấy", validators=[
        Optional(), NumberRange(1945, 2100, "Năm hình thành không hợp lệ.")],
        description="Để trống nếu bằng năm ban hành.")
    origin = SelectField("Hình thức", choices=[(DIGITIZED, ORIGIN_LABELS[DIGITIZED]),
                                               (BORN_DIGITAL, ORIGIN_LABELS[BORN_DIGITAL])])
    retention_years = SelectField("Thời hạn lưu trữ", choices=[("procedure", "Theo thủ tục")] + RETENTION_CHOICES)
    paper_pages = IntegerField("Số trang bản giấy", validators=[
        Optional(), NumberRange(1, 10000, "Số trang phải từ 1 trở lên.")],
        description="Nếu nhập, phải bằng số trang của bản quét.")

    def validate_holder_id(self, field):
        try:
            self.holder_kind, field.data = normalize_holder_id(field.data)
        except InvalidInput as err:
            raise ValidationError(str(err)) from None

    def validate_formed_year(self, field):
        if field.data and field.data > today().year:
            raise ValidationError("Năm hình thành không được ở tương lai.")

    def date(self, name):
        return getattr(getattr(self, name), "parsed", None) if getattr(self, name).data else None


class UploadForm(ResultMetadataForm):
    # Required unless a scan is held for this form (views/admin/results.py decides, not a validator).
    file = FileField("Tệp bản quét (PDF, JPEG, PNG, TIFF)")
    held_token = HiddenField()


class ReasonForm(Form):
    reason = TextAreaField("Lý do", validators=[DataRequired("Cần ghi rõ lý do."), Length(min=5, max=2000,
                           message="Lý do cần từ 5 đến 2000 ký tự.")])


class ConfirmForm(Form):
    """A button that changes state: a form so that it carries the CSRF token."""
