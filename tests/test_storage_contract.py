"""The storage interface, one set of tests for every backend: the local directory tree and an S3
bucket (moto's S3 server over HTTP). What a caller may rely on: a file kept is read back byte for
byte, a damaged or missing one is told apart and never read as whole, iteration, removal, and a
checked local copy for the tools that need a real file."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.storage import ALTERED, FILES, HELD, MISSING, FileDamaged, PreviewCache, TooLarge
from portal.storage.local import LocalPreviewCache, LocalStorage

SCAN = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024 + 17) + b"\n%%EOF\n"  # past one read chunk


@pytest.fixture(params=["local", "s3"])
def kind(request):
    return request.param


@pytest.fixture
def make_store(kind, tmp_path, request):
    """make_store(area) -> a store of that area; damage(store, sha256, data) overwrites a file."""
    if kind == "local":
        def make(area=FILES, **_):
            return LocalStorage(tmp_path / area, tmp=tmp_path / "tmp")
        return make
    request.getfixturevalue("s3_env")
    s3_server = request.getfixturevalue("s3_server")
    from portal.storage.s3 import S3Storage, client_for

    def make(area=FILES):
        return S3Storage(client_for(s3_server.config()), s3_server.bucket, "contract", area, tmp=tmp_path / "tmp")
    return make


@pytest.fixture
def store(make_store):
    return make_store()


def overwrite(store, sha256: str, data: bytes) -> None:
    """Damage a stored file behind the store's back (a disk's fault, an operator's mistake)."""
    if isinstance(store, LocalStorage):
        path = store.path_for(sha256)
        path.chmod(0o640)
        path.write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store._key(sha256), Body=data)


def leftovers(store) -> list[Path]:
    return [p for p in store.tmp.rglob("*") if p.is_file()]


def test_a_kept_upload_reads_back_byte_for_byte(store):
    path, sha256, size = store.spool(io.BytesIO(SCAN))
    assert (sha256, size) == (hashlib.sha256(SCAN).hexdigest(), len(SCAN))
    assert not store.exists(sha256)
    store.keep(path, sha256)
    assert not path.exists()  # the spooled file went into the store
    assert store.exists(sha256) and store.state_of(sha256) is None and store.hash_of_stored(sha256) == sha256
    store.check(sha256)
    with store.open_verified(sha256) as fh:
        assert fh.read() == SCAN
        assert os.fstat(fh.fileno()).st_size == len(SCAN)  # a real file, as send_file wants
    with store.open_unchecked(sha256) as fh:
        assert fh.read() == SCAN
    assert leftovers(store) == []


def test_the_same_content_is_kept_once(store):
    first = store.put_bytes(b"%PDF-1.7 one\n%%EOF\n")
    path, again, _size = store.spool(io.BytesIO(b"%PDF-1.7 one\n%%EOF\n"))
    store.keep(path, again)
    assert again == first and not path.exists()
    assert list(store.stored()) == [first]


def test_an_altered_file_is_never_read_as_whole(store):
    sha256 = store.put_bytes(SCAN)
    overwrite(store, sha256, SCAN[:-1] + b"X")
    assert store.exists(sha256)
    assert store.state_of(sha256) == ALTERED and store.hash_of_stored(sha256) not in (None, sha256)
    for read in (store.check, store.open_verified):
        with pytest.raises(FileDamaged) as caught:
            read(sha256)
        assert caught.value.state == ALTERED and caught.value.sha256 == sha256
    with pytest.raises(FileDamaged) as caught, store.local_copy(sha256):
        pass
    assert caught.value.state == ALTERED
    assert leftovers(store) == []  # no copy of the altered bytes stays behind


def test_a_missing_file_is_told_apart(store):
    sha256 = store.put_bytes(SCAN)
    store.remove(sha256)
    store.remove(sha256)  # forgetting twice is no error
    assert not store.exists(sha256) and store.hash_of_stored(sha256) is None
    assert store.state_of(sha256) == MISSING
    for read in (store.check, store.open_verified):
        with pytest.raises(FileDamaged) as caught:
            read(sha256)
        assert caught.value.state == MISSING
    with pytest.raises(FileDamaged) as caught, store.local_copy(sha256):
        pass
    assert caught.value.state == MISSING
    with pytest.raises(FileNotFoundError):
        store.open_unchecked(sha256)


def test_iteration_lists_every_stored_file_once(store):
    contents = [f"%PDF-1.7 {n}\n%%EOF\n".encode() for n in range(7)]
    hashes = {store.put_bytes(data) for data in contents}
    assert sorted(store.stored()) == sorted(hashes)
    removed = sorted(hashes)[0]
    store.remove(removed)
    assert sorted(store.stored()) == sorted(hashes - {removed})


def test_areas_do_not_see_each_other(make_store):
    files, held = make_store(FILES), make_store(HELD)
    sha256 = held.put_bytes(b"held scan")
    assert held.exists(sha256) and not files.exists(sha256)
    assert list(files.stored()) == [] and list(held.stored()) == [sha256]


def test_a_local_copy_is_a_checked_private_file_removed_after(store):
    sha256 = store.put_bytes(SCAN)
    with store.local_copy(sha256) as path:
        assert path.read_bytes() == SCAN
        path.write_bytes(b"scribbled on by a tool")  # the tool's own copy: the store is untouched
    assert not path.exists() and leftovers(store) == []
    assert store.state_of(sha256) is None


@pytest.mark.parametrize("name", ["../" * 3 + "etc/passwd", "A" * 64, "0" * 63, "", "0" * 64 + "/x"])
def test_only_a_sha256_names_a_file(store, name):
    for call in (store.exists, store.check, store.remove, store.open_verified):
        with pytest.raises(ValueError):
            call(name)


def test_an_upload_past_the_limit_leaves_nothing(store):
    with pytest.raises(TooLarge):
        store.spool(io.BytesIO(SCAN), limit=1024)
    assert leftovers(store) == [] and list(store.stored()) == []


def test_a_download_address_only_where_the_store_has_one(kind, make_store):
    store = make_store()
    sha256 = store.put_bytes(SCAN)
    url = store.download_url(sha256, "KQ-1.pdf", "application/pdf", 60)
    if kind == "local":
        assert url is None  # the app sends local files itself
        return
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == SCAN
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"].startswith('attachment; filename="KQ-1.pdf"')
    tampered = url.replace(sha256, hashlib.sha256(b"another").hexdigest())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered)
    assert refused.value.code == 403


def test_a_download_address_is_short_lived(kind, make_store):
    """moto does not refuse an expired address (S3 does, after X-Amz-Expires seconds from
    X-Amz-Date): what is checked is that the address says so, signed, from now."""
    if kind == "local":
        pytest.skip("the local store gives no address")
    store = make_store()
    url = store.download_url(store.put_bytes(SCAN), "KQ-1.pdf", "application/pdf", 45)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["45"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60


@pytest.fixture
def cache(kind, tmp_path, request) -> PreviewCache:
    if kind == "local":
        return LocalPreviewCache(tmp_path / "previews")
    request.getfixturevalue("s3_env")
    s3_server = request.getfixturevalue("s3_server")
    from portal.storage.s3 import S3PreviewCache, client_for

    return S3PreviewCache(client_for(s3_server.config()), s3_server.bucket, "contract")


def test_page_images_are_cached_and_removed_with_their_file(cache):
    sha256, other = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    names = [cache.name_for(sha256, 1, "normal"), cache.name_for(sha256, 2, "large"),
             cache.name_for(other, 1, "normal")]
    assert cache.get(names[0]) is None
    for n, name in enumerate(names):
        cache.put(name, b"\x89PNG" + bytes([n]))
    assert [cache.get(name) for name in names] == [b"\x89PNG\x00", b"\x89PNG\x01", b"\x89PNG\x02"]
    cache.remove_all_of(sha256)
    assert [cache.get(name) for name in names] == [None, None, b"\x89PNG\x02"]
    with pytest.raises(ValueError):
        cache.get("../" + names[2])



@pytest.mark.parametrize(("settings", "words"), [({"STORAGE": "ftp"}, "PORTAL_STORAGE='ftp'"),
                                                 ({"STORAGE": "s3", "S3_BUCKET": ""}, "PORTAL_S3_BUCKET")])
def test_wrong_storage_settings_stop_the_start(tmp_path, settings, words):
    from portal import create_app

    with pytest.raises(RuntimeError, match=words):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                    "PORTAL_DATA_DIR": str(tmp_path / "data"), **settings})
