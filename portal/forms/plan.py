from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from . import REQUIRED, Form


class InventoryForm(Form):
    unit_id = SelectField("Đơn vị", coerce=int, validate_choice=True)
    phase = SelectField("Giai đoạn", coerce=int, choices=[(2, "Giai đoạn 2 (hình thành 2016-2021)"),
                                                          (3, "Giai đoạn 3 (2006-2015)"), (4, "Giai đoạn 4 (1996-2005)"),
                                                          (5, "Giai đoạn 5 (1995 trở về trước)")])
    results = IntegerField("Số kết quả bản giấy còn hiệu lực cần số hóa", validators=[
        InputRequired(REQUIRED), NumberRange(0, 10_000_000, "Số không hợp lệ.")])
    pages = IntegerField("Tổng số trang", validators=[InputRequired(REQUIRED), NumberRange(0, 100_000_000,
                                                                                       "Số không hợp lệ.")])
    note = StringField("Ghi chú (lý do điều chỉnh)", validators=[Optional(), Length(max=500)])
