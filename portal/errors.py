"""The one base class of refusals meant for the person who asked: str(err) says why, in Vietnamese,
and nothing was changed. Views catch `UserError` and show its message."""


class UserError(Exception):
    pass
