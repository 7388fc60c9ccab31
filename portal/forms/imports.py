from flask_wtf.file import FileField, FileRequired, MultipleFileField

from . import Form


class ImportForm(Form):
    upload = FileField("Tệp ZIP của lô, hoặc bảng kê (.csv, .xlsx)",
                       validators=[FileRequired("Chưa chọn tệp ZIP hoặc bảng kê.")],
                       description="ZIP gồm một bảng kê và các bản quét; đường dẫn tệp trong bảng kê tính từ thư mục "
                                   "chứa bảng kê.")
    files = MultipleFileField("Các bản quét (khi tải bảng kê riêng)",
                              description="Chọn nhiều tệp một lúc; bảng kê gọi tệp theo tên tệp.")
