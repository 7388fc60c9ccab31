"""Content-addressed file storage: every file is kept once, under its SHA-256.

Only this module turns a hash into a path, and only after checking that it is a hash, so nothing
a user typed can reach the file system. Writes go to a temporary file in the same directory tree
and are moved into place with os.replace, so a file is either absent or whole; a write that
fails (a full disk: OSError ENOSPC) removes its temporary file and lets the error rise, for the
caller to answer (portal/views/errors.py: 507).
An S3-compatible store can stand behind the same methods later.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    pass


# What can be wrong with a stored file: gone, or no longer the content it is named after.
MISSING, ALTERED = "missing", "altered"


class FileDamaged(Exception):
    """A stored file is missing or altered; `state` says which."""

    def __init__(self, sha256: str, state: str):
        super().__init__(f"stored file {sha256} is {state}")
        self.sha256, self.state = sha256, state


def out_of_space(err: BaseException) -> bool:
    """Whether a write failed because the file system, or the user's quota, is full."""
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


class LocalStorage:
    def __init__(self, root: str | os.PathLike, tmp: str | os.PathLike | None = None):
        """`tmp`: where uploads are spooled; on the same file system as `root` (keep renames)."""
        self.root = Path(root)
        self.tmp = Path(tmp) if tmp else self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def spool(self, stream: BinaryIO, limit: int | None = None, sync: bool = False) -> tuple[Path, str, int]:
        """Copy a stream into a private temporary file: (path, sha256, size).

        The caller inspects the file, then `keep()`s it or `discard()`s it. `sync` writes it
        to disk now (a batch import's reader does, so that keeping it is only a rename).
        """
        digest = hashlib.sha256()
        size = 0
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
        except BaseException:
            os.unlink(name)
            raise
        return Path(name), digest.hexdigest(), size

    def keep(self, temp_path: Path, sha256: str, synced: bool = False) -> Path:
        """Move a spooled file to its place (a no-op if that content is already stored)."""
        target = self.path_for(sha256)
        if target.is_file():
            temp_path.unlink(missing_ok=True)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        if not synced:
            with open(temp_path, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(temp_path, 0o440)
        os.replace(temp_path, target)
        return target

    def put_bytes(self, data: bytes) -> str:
        path, sha, _size = self.spool(io.BytesIO(data))
        try:
            self.keep(path, sha)
        except BaseException:
            self.discard(path)
            raise
        return sha

    @staticmethod
    def discard(temp_path: Path | None) -> None:
        if temp_path is not None:
            Path(temp_path).unlink(missing_ok=True)

    def hash_of_stored(self, sha256: str) -> str | None:
        """Re-hash a stored file (fixity); None when it is missing."""
        try:
            with open(self.path_for(sha256), "rb") as fh:
                return _digest_of(fh)
        except FileNotFoundError:
            return None

    def state_of(self, sha256: str) -> str | None:
        """None when the stored file is whole; MISSING or ALTERED otherwise."""
        actual = self.hash_of_stored(sha256)
        if actual is None:
            return MISSING
        return None if actual == sha256 else ALTERED

    def check(self, sha256: str) -> None:
        """Raise FileDamaged unless the stored file is whole."""
        if (state := self.state_of(sha256)) is not None:
            raise FileDamaged(sha256, state)

    def open_verified(self, sha256: str) -> BinaryIO:
        """The stored file, opened for reading once its content is checked to still hash to its
        name; raises FileDamaged otherwise. The caller sends this very handle, so a file replaced
        after the check is not what goes out (hashing costs ~1 ms a MB here, a scan is a few MB)."""
        try:
            fh = open(self.path_for(sha256), "rb")
        except FileNotFoundError:
            raise FileDamaged(sha256, MISSING) from None
        try:
            if _digest_of(fh) != sha256:
                raise FileDamaged(sha256, ALTERED)
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    def stored(self) -> Iterator[str]:
        """The SHA-256 of every file in the store, in no particular order (backup walks it)."""
        objects = self.root / "objects"
        for first in _subdirectories(objects):
            for second in _subdirectories(first):
                for entry in os.scandir(second):
                    if entry.is_file(follow_symlinks=False) and _SHA256.fullmatch(entry.name):
                        yield entry.name

    def open_unchecked(self, sha256: str) -> BinaryIO:
        """The stored file as it is (no check): for copying it whole elsewhere, e.g. a backup."""
        return open(self.path_for(sha256), "rb")


def _digest_of(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _subdirectories(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(Path(entry.path) for entry in os.scandir(path) if entry.is_dir(follow_symlinks=False))


def storage() -> LocalStorage:
    from flask import current_app  # not above: the scan reader's processes import this module

    ext = current_app.extensions
    if "portal_storage" not in ext:
        ext["portal_storage"] = LocalStorage(Path(current_app.config["PORTAL_DATA_DIR"]) / "files")
    return ext["portal_storage"]
