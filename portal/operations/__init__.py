"""Operations that change state: one function, one transaction, one audit event each."""

import functools

from ..extensions import db


class OperationError(Exception):
    """The operation was refused; str(err) says why, in Vietnamese. Nothing was changed."""


def transactional(fn):
    """Commit what the operation did, or roll all of it back if it raised."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            value = fn(*args, **kwargs)
            db.session.commit()
            return value
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions whose message is meant for the person who asked (all in Vietnamese)."""
    from ..access import PermissionDenied
    from ..identifiers import InvalidInput

    return (OperationError, InvalidInput, PermissionDenied)
