from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..operations.shares import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, RECIPIENT_MAX
from . import Form

DAYS_MESSAGE = f"Số ngày phải là số nguyên từ {MIN_DAYS} đến {MAX_DAYS}."


class ShareForm(Form):
    recipient = StringField("Người nhận", validators=[
        DataRequired("Cần ghi người nhận (ví dụ tên ngân hàng hoặc cơ quan)."),
        Length(max=RECIPIENT_MAX, message=f"Người nhận không được dài quá {RECIPIENT_MAX} ký tự.")],
        description="Để bạn nhớ đã gửi đường dẫn cho ai, ví dụ «Ngân hàng Vietcombank chi nhánh Quảng Ngãi».")
    days = IntegerField("Số ngày mở", default=DEFAULT_DAYS, validators=[
        InputRequired(DAYS_MESSAGE), NumberRange(min=MIN_DAYS, max=MAX_DAYS, message=DAYS_MESSAGE)],
        description=f"Từ {MIN_DAYS} đến {MAX_DAYS} ngày; hết hạn, đường dẫn tự đóng.")
