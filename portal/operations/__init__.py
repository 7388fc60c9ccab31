"""Operations that change state: one function, one transaction, one audit event each."""

import functools

from sqlalchemy.orm.exc import StaleDataError

from ..errors import UserError
from ..extensions import db


class OperationError(UserError):
    """The operation was refused; str(err) says why, in Vietnamese. Nothing was changed."""


CHANGED_MEANWHILE = "Dữ liệu vừa được người khác thay đổi nên thao tác không được thực hiện; hãy tải lại trang."


def transactional(fn):
    """Commit what the operation did, or roll all of it back if it raised. A row changed by
    someone else since it was read (a versioned row, see models.Result) refuses the whole change."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            value = fn(*args, **kwargs)
            db.session.commit()
            return value
        except StaleDataError:
            db.session.rollback()
            raise OperationError(CHANGED_MEANWHILE) from None
        except BaseException:
            db.session.rollback()
            raise

    return wrapper
