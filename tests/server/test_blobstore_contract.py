"""One contract, every blob store: local disk and S3 (a real SeaweedFS on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from blindvault.server.errors import ApiError
from blindvault.server.storage.blobstore import (
    BlobStore,
    LocalBlobStore,
    new_storage_key,
    open_store,
)
from helpers.servers import s3_spec

MIB = 1 << 20


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
    else:
        endpoint = request.getfixturevalue("weed")
        yield open_store(s3_spec(endpoint), tmp_path)


def read_all(store: BlobStore, key: str, start: int, end: int) -> bytes:
    return b"".join(store.read(key, start, end))


def test_put_read_size_delete(store: BlobStore) -> None:
    key, data = new_storage_key(), os.urandom(3 * MIB + 5)
    assert store.size(key) is None
    store.put(key, data)
    assert store.size(key) == len(data)
    assert read_all(store, key, 0, len(data)) == data
    assert read_all(store, key, 10, 20) == data[10:20]
    assert read_all(store, key, len(data) - 7, len(data)) == data[-7:]
    store.delete(key)
    assert store.size(key) is None
    store.delete(key)  # idempotent


def test_empty_object(store: BlobStore) -> None:
    key = new_storage_key()
    store.put(key, b"")
    assert store.size(key) == 0
    assert read_all(store, key, 0, 0) == b""


def test_multipart_is_invisible_until_complete(store: BlobStore) -> None:
    key = new_storage_key()
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1234)]
    handle = store.begin(key)
    etags = [
        (i + 1, store.put_part(key, handle, i + 1, p, i * 5 * MIB)) for i, p in enumerate(parts)
    ]
    assert store.size(key) is None  # nothing visible yet
    # a part sent again replaces the first copy
    etags[1] = (2, store.put_part(key, handle, 2, parts[1], 5 * MIB))
    store.complete(key, handle, list(reversed(etags)))
    whole = b"".join(parts)
    assert store.size(key) == len(whole)
    assert read_all(store, key, 0, len(whole)) == whole
    assert read_all(store, key, 5 * MIB - 3, 5 * MIB + 3) == whole[5 * MIB - 3 : 5 * MIB + 3]


def test_abort_leaves_nothing(store: BlobStore) -> None:
    key = new_storage_key()
    handle = store.begin(key)
    store.put_part(key, handle, 1, b"x" * 100, 0)
    store.abort(key, handle)
    assert store.size(key) is None
    store.abort(key, handle)  # idempotent


def test_keys_are_validated(store: BlobStore) -> None:
    with pytest.raises(ApiError):
        store.put("../../etc/passwd", b"x")


def test_local_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    for _ in range(5):
        store.put(new_storage_key(), os.urandom(1000))
    leftovers = list(tmp_path.rglob(".tmp-*"))
    assert leftovers == []


def test_unreachable_s3_is_a_clean_503(tmp_path: Path) -> None:
    from blindvault.server.storage.blobstore import S3BlobStore

    dead = S3BlobStore("s3://bvdead?endpoint=http://127.0.0.1:9")
    with pytest.raises(ApiError) as err:
        dead.put(new_storage_key(), b"x")
    assert err.value.status == 503


def test_local_store_reports_parts_lost_before_commit(tmp_path: Path) -> None:
    from blindvault.server.storage.blobstore import MissingPartsError

    store = LocalBlobStore(tmp_path)
    key = new_storage_key()
    handle = store.begin(key)
    etags = [(n, store.put_part(key, handle, n, b"p" * 10, (n - 1) * 10)) for n in (1, 2)]
    (tmp_path / "uploads" / handle / "000002").unlink()  # as if a crash lost it
    with pytest.raises(MissingPartsError) as lost:
        store.complete(key, handle, etags)
    assert lost.value.numbers == [2]
    assert store.size(key) is None
