class BackupError(Exception):
    """A backup or a restore was refused or failed; str(err) says why, in Vietnamese."""
