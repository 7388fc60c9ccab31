from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from . import REQUIRED, Form


class VerifyCodeForm(Form):
    code = StringField("Mã xác thực", validators=[DataRequired(REQUIRED), Length(max=40)],
                       description="In trên trang đầu của bản sao, dạng XXXX-XXXX-XXXX-XXXX")


class VerifyFileForm(Form):
    file = FileField("Tệp PDF bản sao cần kiểm tra", validators=[FileRequired("Chưa chọn tệp.")])
