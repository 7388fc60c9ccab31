from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..identifiers import PHASES
from . import REQUIRED, Form


class InventoryForm(Form):
    unit_id = SelectField("Đơn vị", coerce=int, validate_choice=True)
    phase = SelectField("Giai đoạn", coerce=int, choices=[
        (phase, f"Giai đoạn {phase} (hình thành {start}-{end})" if start else f"Giai đoạn {phase} ({end} trở về trước)")
        for phase, start, end, _deadline in PHASES])
    results = IntegerField("Số kết quả bản giấy còn hiệu lực cần số hóa", validators=[
        InputRequired(REQUIRED), NumberRange(0, 10_000_000, "Số không hợp lệ.")])
    pages = IntegerField("Tổng số trang", validators=[InputRequired(REQUIRED), NumberRange(0, 100_000_000,
                                                                                       "Số không hợp lệ.")])
    note = StringField("Ghi chú (lý do điều chỉnh)", validators=[Optional(), Length(max=500)])
