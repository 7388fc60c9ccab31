"""Content-addressed file storage: every file is kept once, under its SHA-256.

`storage()` gives the configured store (PORTAL_STORAGE: `local`, a directory tree, the default;
`s3`, an S3-compatible bucket, for several nodes). Callers speak only the interface below: keep a
spooled upload under its hash, put bytes, check a file's state, open it verified, iterate, remove,
and `local_copy` for a tool that needs a real file. Where a store keeps its files (paths, keys) is
known only inside this package, and only after a name is checked to be a hash, so nothing a user
typed can reach a path or a key.

Uploads are spooled to a local temporary folder first (`spool`: hashed on the way, within a size
limit), checked, then kept. A file is checked on every read against its name (the SHA-256 of what
is read); `state_of` tells MISSING from ALTERED, for fixity, /healthz and the download pages.
Beside the files, `previews()` caches page images drawn from them, in the same place.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The stores' areas: the results' files (and certified copies), which backups copy and nothing
# deletes; the holding area's scans; the hand-over slips (claim codes in clear, deleted after days);
# web import jobs' folders, each as one archive, while the job lasts (only with a store the nodes share).
FILES, HELD, SLIPS, JOBS = "files", "held", "slips", "jobs"
AREAS = (FILES, HELD, SLIPS, JOBS)


class TooLarge(Exception):
    pass


# What can be wrong with a stored file: gone, or no longer the content it is named after.
MISSING, ALTERED = "missing", "altered"


class FileDamaged(Exception):
    """A stored file is missing or altered; `state` says which."""

    def __init__(self, sha256: str, state: str):
        super().__init__(f"stored file {sha256} is {state}")
        self.sha256, self.state = sha256, state


class StorageUnavailable(Exception):
    """The file store did not answer (a bucket out of reach): nothing was read or kept; the person
    is told to try again later (views/errors.py), not shown a system error."""


def out_of_space(err: BaseException) -> bool:
    """Whether a write failed because the file system, or the user's quota, is full."""
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


def checked_hash(sha256: str) -> str:
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def is_hash(name: str) -> bool:
    return bool(_SHA256.fullmatch(name))


class Spool:
    """A local folder where uploads are copied (hashed on the way) before they are checked and
    kept: a temporary file, never the store. The scan readers of an import use one alone."""

    def __init__(self, tmp: str | os.PathLike):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def spool(self, stream: BinaryIO, limit: int | None = None, sync: bool = False) -> tuple[Path, str, int]:
        """Copy a stream into a private temporary file: (path, sha256, size).

        The caller inspects the file, then `keep()`s it or `discard()`s it. `sync` writes it
        to disk now (a batch import's reader does, so that keeping it locally is only a rename).
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

    @staticmethod
    def discard(temp_path: Path | None) -> None:
        if temp_path is not None:
            Path(temp_path).unlink(missing_ok=True)


class Storage(Spool):
    """What every store does. A backend implements the abstract methods below; the rest is
    built on them."""

    def keep(self, temp_path: Path, sha256: str, synced: bool = False) -> None:
        """Move a spooled file into the store (a no-op if that content is already stored); the
        temporary file is gone afterwards."""
        raise NotImplementedError

    def exists(self, sha256: str) -> bool:
        raise NotImplementedError

    def open_unchecked(self, sha256: str) -> BinaryIO:
        """The stored file as it is (no check), a real file (it has a fileno): for copying it
        whole elsewhere, e.g. a backup. FileNotFoundError when it is missing."""
        raise NotImplementedError

    def stored(self) -> Iterator[str]:
        """The SHA-256 of every file in the store, in no particular order (backup walks it)."""
        raise NotImplementedError

    def remove(self, sha256: str) -> None:
        """Forget a file (nothing happens if it is not there)."""
        raise NotImplementedError

    def reachable(self) -> bool:
        """Whether the store answers (/healthz); a local directory always does."""
        return True

    def download_url(self, sha256: str, file_name: str, media_type: str, seconds: int) -> str | None:
        """An address the client fetches the file from itself, valid `seconds`, or None where the
        store has none (the local one): the app then sends the file."""
        return None

    # --- built on the above ---

    def put_bytes(self, data: bytes) -> str:
        path, sha, _size = self.spool(io.BytesIO(data))
        try:
            self.keep(path, sha)
        except BaseException:
            self.discard(path)
            raise
        return sha

    def hash_of_stored(self, sha256: str) -> str | None:
        """Re-hash a stored file (fixity); None when it is missing."""
        try:
            fh = self._open_stream(sha256)
        except FileNotFoundError:
            return None
        with fh:
            return digest_of(fh)

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
        after the check is not what goes out (hashing costs ~1 ms a MB here, a scan is a few MB).
        A real file (it has a fileno)."""
        try:
            fh = self.open_unchecked(sha256)
        except FileNotFoundError:
            raise FileDamaged(sha256, MISSING) from None
        try:
            if digest_of(fh) != sha256:
                raise FileDamaged(sha256, ALTERED)
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A private temporary copy of the stored file, checked (FileDamaged otherwise), for a
        tool that reads a real file (PDFium in the rendering process, OCRmyPDF); removed after.
        A copy, not the stored file: what the tool reads is what was checked, and it cannot
        touch the store."""
        folder = Path(tempfile.mkdtemp(dir=self.tmp, prefix="copy-"))
        try:
            target = folder / f"{checked_hash(sha256)}.pdf"
            try:
                source = self._open_stream(sha256)
            except FileNotFoundError:
                raise FileDamaged(sha256, MISSING) from None
            digest = hashlib.sha256()
            with source, open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise FileDamaged(sha256, ALTERED)
            yield target
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _open_stream(self, sha256: str) -> BinaryIO:
        """The stored bytes, read once from the start (a backend may stream them without a file)."""
        return self.open_unchecked(sha256)


class PreviewCache:
    """Page images drawn from stored files, by name (`<sha256>-<page>[-<size>].png`, made here
    from a hash and numbers, never from a request); they can always be drawn again."""

    _NAME = re.compile(r"([0-9a-f]{64})-[1-9][0-9]{0,5}(-[a-z]{1,10})?\.png")

    @classmethod
    def name_for(cls, sha256: str, page_number: int, size: str) -> str:
        name = f"{checked_hash(sha256)}-{int(page_number)}" + ("" if size == "normal" else f"-{size}") + ".png"
        if not cls._NAME.fullmatch(name):
            raise ValueError("not a page image's name")
        return name

    def get(self, name: str) -> bytes | None:
        raise NotImplementedError

    def put(self, name: str, data: bytes) -> None:
        raise NotImplementedError

    def remove_all_of(self, sha256: str) -> None:
        """Every page image of that file (its pages, in every size)."""
        raise NotImplementedError


def digest_of(fh: BinaryIO) -> str:
    """The SHA-256 of what is left to read in `fh`, read in chunks."""
    digest = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


# --- the configured store ---------------------------------------------------------------------

def storage(area: str = FILES) -> Storage:
    """The store of `area` (FILES, HELD, SLIPS or JOBS), as configured."""
    from flask import current_app  # not above: the scan reader's processes import this module

    if area not in AREAS:
        raise ValueError(f"no storage area {area!r}")
    ext = current_app.extensions
    key = f"portal_storage_{area}"
    if key not in ext:
        ext[key] = _make(current_app.config, area)
    return ext[key]


def previews() -> PreviewCache:
    from flask import current_app

    ext = current_app.extensions
    if "portal_previews" not in ext:
        config = current_app.config
        if _kind(config) == "s3":
            from .s3 import S3PreviewCache, client_for

            ext["portal_previews"] = S3PreviewCache(client_for(config), config["S3_BUCKET"], config["S3_PREFIX"])
        else:
            from .local import LocalPreviewCache

            ext["portal_previews"] = LocalPreviewCache(Path(config["PORTAL_DATA_DIR"]) / "previews")
    return ext["portal_previews"]


def spool_root(config) -> Path:
    """The local folder uploads are spooled in (for the local store, inside it: keeping is a rename)."""
    return Path(config["PORTAL_DATA_DIR"]) / "files" / "tmp"


def shared_by_nodes(config) -> bool:
    """Whether every node reads the same store (object storage), not a directory of its own."""
    return _kind(config) != "local"


def check_settings(config) -> None:
    """RuntimeError naming the setting when the storage settings cannot work."""
    _kind(config)


def _kind(config) -> str:
    kind = (config.get("STORAGE") or "local").lower()
    if kind not in ("local", "s3"):
        raise RuntimeError(f"PORTAL_STORAGE={kind!r}: use 'local' or 's3'")
    if kind == "s3" and not config.get("S3_BUCKET"):
        raise RuntimeError("PORTAL_STORAGE=s3 needs PORTAL_S3_BUCKET")
    return kind


def _make(config, area: str) -> Storage:
    tmp = spool_root(config)
    if _kind(config) == "s3":
        from .s3 import S3Storage, client_for

        return S3Storage(client_for(config), config["S3_BUCKET"], config["S3_PREFIX"], area, tmp=tmp)
    from .local import LocalStorage

    # Slips are for the web user's eyes alone (0400); other files its group may read (a backup operator).
    return LocalStorage(Path(config["PORTAL_DATA_DIR"]) / area, tmp=tmp, mode=0o400 if area == SLIPS else 0o440)


def __getattr__(name: str):
    # `from portal.storage import LocalStorage` (tests, tools) without importing it with the package
    if name == "LocalStorage":
        from .local import LocalStorage

        return LocalStorage
    raise AttributeError(name)
