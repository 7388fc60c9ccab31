"""The store in a local directory tree: `objects/ab/cd/<sha256>`, read-only files.

Writes go to a temporary file in the same file system and are moved into place with os.replace,
so a file is either absent or whole; a write that fails (a full disk: OSError ENOSPC) removes its
temporary file and lets the error rise, for the caller to answer (portal/views/errors.py: 507).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from . import PreviewCache, Storage, checked_hash, is_hash


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike, tmp: str | os.PathLike | None = None, mode: int = 0o440):
        """`tmp`: where uploads are spooled; on the same file system as `root` (keep renames).
        `mode`: of the stored files."""
        self.root, self.mode = Path(root), mode
        super().__init__(tmp if tmp else self.root / "tmp")

    def path_for(self, sha256: str) -> Path:
        """Only for this backend (and tests that damage a file on purpose): callers use the interface."""
        sha256 = checked_hash(sha256)
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def keep(self, temp_path: Path, sha256: str, synced: bool = False) -> None:
        target = self.path_for(sha256)
        if target.is_file():
            Path(temp_path).unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if not synced:
            with open(temp_path, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(temp_path, self.mode)
        os.replace(temp_path, target)

    def open_unchecked(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def stored(self) -> Iterator[str]:
        objects = self.root / "objects"
        for first in _subdirectories(objects):
            for second in _subdirectories(first):
                for entry in os.scandir(second):
                    if entry.is_file(follow_symlinks=False) and is_hash(entry.name):
                        yield entry.name

    def remove(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)


class LocalPreviewCache(PreviewCache):
    """`<root>/ab/<name>`, each image written whole (a temporary file moved into place)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if not self._NAME.fullmatch(name):
            raise ValueError("not a page image's name")
        return self.root / name[:2] / name

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, name: str, data: bytes) -> None:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".png")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp_name, target)
        except BaseException:  # a full disk, say: no half-written image stays in the cache
            Path(temp_name).unlink(missing_ok=True)
            raise

    def remove_all_of(self, sha256: str) -> None:
        sha256 = checked_hash(sha256)
        for image in (self.root / sha256[:2]).glob(f"{sha256}-*.png"):
            image.unlink(missing_ok=True)


def _subdirectories(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(Path(entry.path) for entry in os.scandir(path) if entry.is_dir(follow_symlinks=False))
