"""The backup archive: one uncompressed tar (the stored PDFs and pg_dump's output are compressed
already), the manifest last, naming every other member with its size and SHA-256.

The archive holds the signing keys and the secret key: it is created readable by its owner only
(0600), written under a temporary name and renamed when complete, so a failed backup never
leaves a half archive under the name asked for. Reading trusts nothing: a member is looked up by
its name in a fixed list of shapes, never used as a path, and every byte is checked against the
manifest before anything is written anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import BackupError

FORMAT, VERSION = "portal-backup", 1
MANIFEST = "manifest.json"
SECRET_KEY = "secret_key"
SIGNER, TRUST_ROOTS = "signing/signer.p12", "signing/trust-roots.pem"
FILES = "files/"
MEMBER_NAME = re.compile(r"database\.(sqlite3|pgdump)|secret_key|signing/(signer\.p12|trust-roots\.pem)|"
                         r"files/[0-9a-f]{64}")
MAX_MANIFEST_BYTES = 1 << 30
CHUNK = 1024 * 1024


class _Hashing:
    """A file-like reader that hashes what passes through it (tarfile reads the member from it)."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


class Writer:
    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when a partial file of an earlier, failed run was there
        self.out = os.fdopen(fd, "wb")
        self.tar = tarfile.open(fileobj=self.out, mode="w", format=tarfile.PAX_FORMAT)
        self.members: dict[str, dict] = {}

    def add(self, name: str, stream: BinaryIO, size: int) -> str:
        """Add `size` bytes read from `stream` as `name`; their SHA-256."""
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        hashing = _Hashing(stream)
        self.tar.addfile(info, hashing)  # raises if the stream ends before `size` bytes
        sha256 = hashing.digest.hexdigest()
        self.members[name] = {"sha256": sha256, "size": size}
        return sha256

    def add_path(self, name: str, path: Path) -> str:
        with open(path, "rb") as fh:
            return self.add(name, fh, os.fstat(fh.fileno()).st_size)

    def add_bytes(self, name: str, data: bytes) -> str:
        return self.add(name, io.BytesIO(data), len(data))

    def finish(self, facts: dict) -> dict:
        """Write the manifest, close, and move the archive to its name; the manifest."""
        manifest = {"format": FORMAT, "version": VERSION, **facts, "members": self.members}
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        self.tar.addfile(info, io.BytesIO(data))
        self.tar.close()
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        os.replace(self.partial, self.path)
        return manifest

    def abort(self) -> None:
        for closing in (self.tar.close, self.out.close):
            try:
                closing()
            except Exception:  # noqa: BLE001 - already failing; the partial file goes anyway
                pass
        self.partial.unlink(missing_ok=True)


@contextmanager
def readable():
    """Around a loop over `members` and the reading of their bytes: a damaged archive (a bad
    header, a truncated member) is a BackupError that says so."""
    try:
        yield
    except (tarfile.TarError, EOFError) as err:
        raise BackupError(f"Tệp sao lưu bị hỏng hoặc không trọn vẹn ({err}).") from None


def members(path: Path) -> Iterator[tuple[tarfile.TarInfo, BinaryIO]]:
    """Each member and a reader of its bytes, in archive order, refusing any odd one. Iterate
    within `readable()`."""
    with tarfile.open(path, mode="r:") as tar:
        while (member := tar.next()) is not None:
            tar.members.clear()  # tarfile keeps every header it read; a store has millions
            if not member.isreg() or not (member.name == MANIFEST or MEMBER_NAME.fullmatch(member.name)):
                raise BackupError(f"Tệp sao lưu bị hỏng hoặc không phải của cổng: thành phần lạ «{member.name}».")
            yield member, tar.extractfile(member)


def verify(path: Path, advance: Callable[[int], None] = lambda n: None) -> dict:
    """Read the whole archive once, hashing every member; its manifest if every member is there,
    whole and listed. Raises BackupError naming the first problem otherwise."""
    found: dict[str, dict] = {}
    manifest = None
    with readable():
        for member, stream in members(path):
            if manifest is not None:
                raise BackupError(f"Tệp sao lưu bị hỏng: có thành phần «{member.name}» sau bảng kê.")
            if member.name == MANIFEST:
                manifest = _read_manifest(member, stream)
                continue
            if member.name in found:
                raise BackupError(f"Tệp sao lưu bị hỏng: thành phần «{member.name}» có hai lần.")
            found[member.name] = {"sha256": _hash(stream, advance), "size": member.size}
    if manifest is None:
        raise BackupError("Tệp sao lưu bị hỏng hoặc không trọn vẹn: không có bảng kê (manifest.json) ở cuối.")
    listed = manifest["members"]
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            raise BackupError(f"Tệp sao lưu bị hỏng: thiếu «{name}» mà bảng kê có.")
        if name not in listed:
            raise BackupError(f"Tệp sao lưu bị hỏng: «{name}» không có trong bảng kê.")
        entry = listed[name] if isinstance(listed[name], dict) else {}
        if found[name] != {"sha256": entry.get("sha256"), "size": entry.get("size")}:
            raise BackupError(f"Tệp sao lưu bị hỏng: «{name}» không khớp SHA-256 trong bảng kê.")
    altered = set(manifest.get("altered_files") or [])
    for name, entry in found.items():  # a stored file is named after its content
        if name.startswith(FILES) and name[len(FILES):] not in altered and entry["sha256"] != name[len(FILES):]:
            raise BackupError(f"Tệp sao lưu bị hỏng: nội dung của «{name}» không khớp tên của nó.")
    return manifest


def _hash(stream: BinaryIO, advance: Callable[[int], None]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        advance(len(chunk))
    return digest.hexdigest()


def _read_manifest(member: tarfile.TarInfo, stream: BinaryIO) -> dict:
    if member.size > MAX_MANIFEST_BYTES:
        raise BackupError("Tệp sao lưu bị hỏng: bảng kê quá lớn.")
    try:
        manifest = json.loads(stream.read())
    except ValueError:
        raise BackupError("Tệp sao lưu bị hỏng: bảng kê không đọc được.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("members"), dict):
        raise BackupError("Đây không phải tệp sao lưu của cổng (bảng kê không đúng định dạng).")
    if manifest.get("version") != VERSION:
        raise BackupError(f"Tệp sao lưu theo định dạng phiên bản {manifest.get('version')}, "
                          f"phiên bản này của cổng chỉ đọc được phiên bản {VERSION}.")
    return manifest
