"""Flask-WTF forms. Every message a person can see is in Vietnamese.

WTForms ships no Vietnamese catalogue, so its few built-in messages are translated here.
"""

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ..identifiers import InvalidInput

REQUIRED = "Trường này bắt buộc."

_VI = {
    "This field is required.": REQUIRED,
    "Not a valid choice.": "Lựa chọn không hợp lệ.",
    "Invalid Choice: could not coerce.": "Lựa chọn không hợp lệ.",
    "Not a valid integer value.": "Giá trị phải là một số nguyên.",
    "Not a valid decimal value.": "Giá trị phải là một số.",
    "Not a valid date value.": "Ngày không hợp lệ.",
    "Invalid input.": "Giá trị không hợp lệ.",
    "Number must be at least %(min)s.": "Số phải từ %(min)s trở lên.",
    "Number must be at most %(max)s.": "Số phải nhỏ hơn hoặc bằng %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Số phải từ %(min)s đến %(max)s.",
    "Field must be at least %(min)d character long.": "Cần ít nhất %(min)d ký tự.",
    "Field must be at least %(min)d characters long.": "Cần ít nhất %(min)d ký tự.",
    "Field cannot be longer than %(max)d character.": "Không được dài quá %(max)d ký tự.",
    "Field cannot be longer than %(max)d characters.": "Không được dài quá %(max)d ký tự.",
    "Field must be between %(min)d and %(max)d characters long.": "Độ dài phải từ %(min)d đến %(max)d ký tự.",
}


class _Vietnamese:
    def gettext(self, message):
        return _VI.get(message, message)

    def ngettext(self, singular, plural, n):
        return _VI.get(singular if n == 1 else plural, singular if n == 1 else plural)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Vietnamese()


def normalizing(fn, **kwargs):
    """A WTForms validator from an identifiers.normalize_* function; stores the normalised value."""

    def validator(form, field):
        if not field.data:
            return
        try:
            field.data = fn(field.data, **kwargs)
        except InvalidInput as err:
            raise ValidationError(str(err)) from None

    return validator
