from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from . import REQUIRED, Form


class ApiClientForm(Form):
    name = StringField("Tên ứng dụng kết nối", validators=[DataRequired(REQUIRED), Length(max=120)],
                       description="Ví dụ: Hệ thống thông tin giải quyết TTHC tỉnh")
    unit_code = SelectField("Đơn vị được gửi kết quả", validate_choice=False,
                            validators=[DataRequired(REQUIRED)])
