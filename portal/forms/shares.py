from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..operations.shares import (
    DAYS_MESSAGE,
    DEFAULT_DAYS,
    MAX_DAYS,
    MIN_DAYS,
    RECIPIENT_MAX,
    RECIPIENT_MISSING,
    RECIPIENT_TOO_LONG,
)
from . import Form


class ShareForm(Form):
    recipient = StringField("Người nhận", validators=[
        DataRequired(RECIPIENT_MISSING), Length(max=RECIPIENT_MAX, message=RECIPIENT_TOO_LONG)],
        description="Để bạn nhớ đã gửi đường dẫn cho ai, ví dụ «Ngân hàng Vietcombank chi nhánh Quảng Ngãi».")
    days = IntegerField("Số ngày mở", default=DEFAULT_DAYS, validators=[
        InputRequired(DAYS_MESSAGE), NumberRange(min=MIN_DAYS, max=MAX_DAYS, message=DAYS_MESSAGE)],
        description=f"Từ {MIN_DAYS} đến {MAX_DAYS} ngày; hết hạn, đường dẫn tự đóng.")
