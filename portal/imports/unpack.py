"""Unpacking an uploaded ZIP without trusting anything in it.

Entry names never become paths: each file is written under a name of our own, and the names
from the ZIP are kept only to match the manifest. Symbolic links, encrypted entries, absolute or
`..` names, too many entries, too many bytes and implausible compression ratios (zip bombs) are
refused; sizes are counted while writing, not taken from the headers.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..storage import out_of_space

CHUNK = 1024 * 1024
MAX_RATIO = 200  # scans barely compress; 200:1 is a bomb, not a PDF


class UnpackError(Exception):
    """The ZIP is refused; str() says why in Vietnamese."""


def clean_name(name: str) -> str | None:
    """The entry's name as a relative POSIX path, or None when it could point outside the folder."""
    name = name.replace("\\", "/")
    if "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def unpack(archive: Path, dest: Path, *, max_files: int, max_bytes: int) -> dict[str, Path]:
    """Write the ZIP's files into `dest`; returns {name in the ZIP: file on disk}."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise UnpackError("Tệp tải lên không phải tệp ZIP đọc được.") from None
    with zf:
        entries = [i for i in zf.infolist() if not i.is_dir()]
        if len(entries) > max_files:
            raise UnpackError(f"Tệp ZIP có {len(entries)} tệp, quá giới hạn {max_files} tệp mỗi lô.")
        if sum(i.file_size for i in entries) > max_bytes:
            raise UnpackError(f"Tệp ZIP giải nén ra hơn {max_bytes // 1024**2} MB, quá giới hạn mỗi lô.")
        dest.mkdir(parents=True, exist_ok=True)
        written_total, names = 0, {}
        for n, info in enumerate(entries):
            name = clean_name(info.filename)
            if name is None:
                raise UnpackError(f"Tệp ZIP chứa đường dẫn không an toàn «{info.filename[:100]}»; lô bị từ chối.")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnpackError(f"Tệp ZIP chứa liên kết tượng trưng «{name[:100]}»; lô bị từ chối.")
            if info.flag_bits & 0x1:
                raise UnpackError("Tệp ZIP có tệp được đặt mật khẩu; hãy nén lại không mật khẩu.")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise UnpackError("Tệp ZIP có tỉ lệ nén bất thường (nghi «bom ZIP»); lô bị từ chối.")
            if name in names:
                raise UnpackError(f"Tệp ZIP có hai tệp cùng tên «{name[:100]}».")
            target = dest / f"{n:06d}{Path(name).suffix.lower()[:10]}"
            written = 0
            try:
                with zf.open(info) as source, open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        written_total += len(chunk)
                        if written > info.file_size or written_total > max_bytes:
                            raise UnpackError("Tệp ZIP giải nén ra nhiều hơn khai báo (nghi «bom ZIP»); lô bị từ chối.")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as err:
                if out_of_space(err):
                    raise  # our disk is full, the ZIP may be fine
                raise UnpackError(f"Tệp «{name[:100]}» trong ZIP bị hỏng.") from None
            names[name] = target
        return names
