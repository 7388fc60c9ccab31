from ..errors import UserError


class BackupError(UserError):
    """A backup or a restore was refused or failed; str(err) says why, in Vietnamese."""
