"""One contract, every blob store: local disk and S3 (a real SeaweedFS on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize("size", [0, 1, 4173, 16 << 10, (16 << 10) + 1])
def test_small_and_large_objects_round_trip(store: BlobStore, size: int) -> None:
    """On both sides of the local store's packing threshold: bytes, spooled files, ranges."""
    import tempfile

    key, data = new_storage_key(), os.urandom(size)
    with tempfile.SpooledTemporaryFile(max_size=1024) as f:
        f.write(data)
        store.put(key, f)
    assert store.size(key) == size
    assert read_all(store, key, 0, size) == data
    if size > 2:
        assert read_all(store, key, 1, size - 1) == data[1:-1]
    store.delete(key)
    assert store.size(key) is None
    assert read_all_or_missing(store, key) is None


def read_all_or_missing(store: BlobStore, key: str) -> bytes | None:
    try:
        return read_all(store, key, 0, 1)
    except FileNotFoundError:
        return None


def test_put_many_stores_every_object(store: BlobStore) -> None:
    sizes = [100, 4173, 9000, 20_000, 3 * MIB]
    keys = [new_storage_key() for _ in sizes]
    datas = [os.urandom(n) for n in sizes]
    store.put_many(keys, list(datas))
    for key, data in zip(keys, datas, strict=True):
        assert store.size(key) == len(data)
        assert read_all(store, key, 0, len(data)) == data


def _stored(store: LocalBlobStore, older_than: float) -> set[str]:
    return {k for batch in store.keys(older_than) for k in batch}


def test_local_store_packs_small_objects(tmp_path: Path) -> None:
    """Small objects are rows of one database: no file each, listed for the orphan sweep,
    deleted for real, and a larger object under the same key replaces the row."""
    import time

    store = LocalBlobStore(tmp_path)
    small, large = new_storage_key(), new_storage_key()
    store.put(small, b"s" * 4173)
    store.put(large, b"L" * (64 << 10))
    files = [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert files == [large]
    assert _stored(store, time.time() + 1) == {small, large}
    assert _stored(store, 0) == set()  # nothing is older than the epoch
    store.put(small, b"x" * (32 << 10))  # the same key, now large: one copy only
    assert store.size(small) == 32 << 10
    assert read_all(store, small, 0, 3) == b"xxx"
    store.delete(small)
    store.delete(large)
    assert store.size(small) is None and store.size(large) is None
    assert _stored(store, time.time() + 1) == set()
    # a fresh store on the same folder (another process) sees the same rows
    store.put(small, b"again")
    assert LocalBlobStore(tmp_path).size(small) == 5


def test_local_store_reads_objects_stored_as_files_before(tmp_path: Path) -> None:
    """A small object an older version stored as a file stays readable and deletable."""
    store = LocalBlobStore(tmp_path)
    key = new_storage_key()
    store._write_atomic(store._path(key), [b"old small file"])
    assert store.size(key) == 14
    assert read_all(store, key, 4, 9) == b"small"
    store.delete(key)
    assert store.size(key) is None


def test_packed_batch_is_all_or_nothing(tmp_path: Path) -> None:
    """A batch whose write fails leaves none of its objects visible."""
    store = LocalBlobStore(tmp_path)
    keys = [new_storage_key() for _ in range(3)]
    bad: Any = object()  # SQLite refuses to store it, after the first two rows
    with pytest.raises(ApiError) as err:
        store.small.put_all([(keys[0], b"a"), (keys[1], b"b"), (keys[2], bad)])
    assert err.value.status == 503
    assert [store.size(k) for k in keys] == [None, None, None]
    store.put_many(keys[:1], [b"a"])  # the store still works
    assert store.size(keys[0]) == 1


def test_ten_thousand_small_blobs_cost_little_disk(tmp_path: Path) -> None:
    """10,000 blobs of 4,173 bytes (a 4 KiB file sealed) take at most 1.2x their bytes on
    disk (as files of their own they took ~3x: a block each and directories)."""
    store = LocalBlobStore(tmp_path)
    size, count = 4173, 10_000
    for _ in range(count // 1000):
        keys = [new_storage_key() for _ in range(1000)]
        store.put_many(keys, [os.urandom(size) for _ in keys])
    used = sum(p.stat().st_blocks * 512 for p in tmp_path.rglob("*") if p.is_file())
    assert used <= 1.2 * size * count, used / (size * count)


_WRITER = """
import os, sys
from pathlib import Path
from blindvault.server.storage.blobstore import LocalBlobStore, new_storage_key
store = LocalBlobStore(Path(sys.argv[1]))
keys = []
for _ in range(20):
    batch = [new_storage_key() for _ in range(25)]
    store.put_many(batch, [k.encode() * 50 for k in batch])
    store.put(k := new_storage_key(), k.encode())
    keys += [*batch, k]
print(" ".join(keys))
"""


def test_two_processes_write_packed_objects_at_once(tmp_path: Path) -> None:
    """Server processes share one packed database: writers from two processes at once
    (each with threads of its own) lose nothing and see each other's rows."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0].decode().split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    store = LocalBlobStore(tmp_path)
    for keys in outs:
        assert len(keys) == 20 * 26
        for key in keys:
            want = key.encode() * (1 if store.size(key) == len(key) else 50)
            assert read_all(store, key, 0, len(want)) == want
    assert sum(len(b) for b in store.keys(float("inf"))) == 2 * 20 * 26
