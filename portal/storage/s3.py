"""The store in an S3-compatible bucket (PORTAL_STORAGE=s3), for nodes that share no directory.

Keys: `<prefix><area>/ab/cd/<sha256>` for files, `<prefix>previews/ab/<name>` for page images.
An object is written whole by S3 (a PUT, or a multipart upload completed at once) or not at all.
Reads are checked like the local store's: the SHA-256 of the bytes read must be the key's name.
Credentials come the standard way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an instance
role); boto3's client is thread-safe and made once per process.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from . import CHUNK, PreviewCache, Storage, StorageUnavailable, checked_hash, is_hash

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def client_for(config):
    """One client per endpoint and region in this process (made after a fork: gunicorn's workers)."""
    import boto3
    from botocore.config import Config

    endpoint = config.get("S3_ENDPOINT_URL") or None
    # The process id too: a client made before a fork (gunicorn --preload) is not shared with the children.
    key = (endpoint, config.get("S3_REGION") or "us-east-1", os.getpid())
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.client(
                "s3", endpoint_url=endpoint, region_name=key[1],
                # Path-style addresses where an endpoint is given: MinIO and most S3-compatible services want them.
                config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
                              connect_timeout=5, read_timeout=60,
                              s3={"addressing_style": "path" if endpoint else "auto"}))
        return _clients[key]


@contextmanager
def _answering(what: str):
    """The bucket's failures to answer (refused, timed out, an error of its own) as StorageUnavailable."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, S3UploadFailedError) as err:
        if _missing(err):
            raise
        raise StorageUnavailable(f"the bucket did not answer ({what}): {err}") from err


def _missing(err: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError) and str(err.response.get("Error", {}).get("Code")) in _NOT_FOUND


def _prefix(prefix: str | None) -> str:
    prefix = (prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


class S3Storage(Storage):
    def __init__(self, client, bucket: str, prefix: str | None, area: str, tmp):
        super().__init__(tmp)
        self.client, self.bucket = client, bucket
        self.base = f"{_prefix(prefix)}{area}/"

    def _key(self, sha256: str) -> str:
        sha256 = checked_hash(sha256)
        return f"{self.base}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        try:
            with _answering("head"):
                self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as err:
            if _missing(err):
                return False
            raise
        return True

    def keep(self, temp_path: Path, sha256: str, synced: bool = False) -> None:
        try:
            if not self.exists(sha256):
                with _answering("put"):
                    self.client.upload_file(str(temp_path), self.bucket, self._key(sha256),
                                            ExtraArgs={"ContentType": "application/octet-stream"})
        finally:
            Path(temp_path).unlink(missing_ok=True)

    def _open_stream(self, sha256: str) -> BinaryIO:
        try:
            with _answering("get"):
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as err:
            if _missing(err):
                raise FileNotFoundError(sha256) from None
            raise
        return answer["Body"]

    def open_unchecked(self, sha256: str) -> BinaryIO:
        """Read into a private temporary file (deleted when closed): a real file to send or copy."""
        body = self._open_stream(sha256)
        fh = tempfile.TemporaryFile(dir=self.tmp, prefix="s3-")
        try:
            with body:
                while chunk := body.read(CHUNK):
                    fh.write(chunk)
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    def stored(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.base)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.base):]
                parts = name.split("/")
                if len(parts) == 3 and is_hash(parts[2]) and parts[0] == parts[2][:2] and parts[1] == parts[2][2:4]:
                    yield parts[2]

    def remove(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def reachable(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        return True

    def download_url(self, sha256: str, file_name: str, media_type: str, seconds: int) -> str | None:
        ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=int(seconds),
            Params={"Bucket": self.bucket, "Key": self._key(sha256), "ResponseContentType": media_type,
                    "ResponseContentDisposition": disposition, "ResponseCacheControl": "private, no-store"})


class S3PreviewCache(PreviewCache):
    def __init__(self, client, bucket: str, prefix: str | None):
        self.client, self.bucket = client, bucket
        self.base = f"{_prefix(prefix)}previews/"

    def _key(self, name: str) -> str:
        if not self._NAME.fullmatch(name):
            raise ValueError("not a page image's name")
        return f"{self.base}{name[:2]}/{name}"

    def get(self, name: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except Exception as err:
            if _missing(err):
                return None
            raise
        with answer["Body"] as body:
            return body.read()

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, ContentType="image/png")

    def remove_all_of(self, sha256: str) -> None:
        sha256 = checked_hash(sha256)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.base}{sha256[:2]}/{sha256}-")
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
