"""Issue 18: an upload's parts go to S3 as they arrive (`S3BlobStore.put_part_stream`,
`bodies.exact_body`), with no temporary file. On a real SeaweedFS: the object appears only
at complete; a part cut short is not kept and the upload goes on once it is sent again;
through a real server, a part too short or too long is refused (400, 413) and the blob
stays invisible until its commit, then reads back byte for byte."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from blindvault.server.errors import ApiError
from blindvault.server.storage.blobstore import PartStreamer, S3BlobStore, open_store
from helpers.real_server import Real, new_id, real_server
from helpers.servers import s3_spec

MIB = 1 << 20


def _run(coro: Any) -> Any:
    """The coroutine on a loop of its own thread (Playwright's sync API may keep a loop
    running in this test process)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def s3(weed: str, tmp_path: Path) -> S3BlobStore:
    store = open_store(s3_spec(weed), tmp_path)
    assert isinstance(store, S3BlobStore) and isinstance(store, PartStreamer)
    return store


async def _pieces(
    data: bytes, step: int = 64 << 10, fail_at: int | None = None
) -> AsyncIterator[bytes]:
    for at in range(0, len(data), step):
        if fail_at is not None and at >= fail_at:
            raise ApiError(408, "timeout", "the request body did not arrive in time")
        await asyncio.sleep(0)
        yield data[at : at + step]


def _read(store: S3BlobStore, key: str, size: int) -> bytes:
    return b"".join(store.read(key, 0, size))


def test_streamed_parts_make_the_object_only_at_complete(s3: S3BlobStore) -> None:
    key = "ab" * 20
    parts = [os.urandom(5 * MIB + 3), os.urandom(1234)]
    handle = s3.begin(key)
    etags = [
        (n + 1, _run(s3.put_part_stream(key, handle, n + 1, len(p), _pieces(p))))
        for n, p in enumerate(parts)
    ]
    assert s3.size(key) is None  # nothing visible before complete
    s3.complete(key, handle, etags)
    assert _read(s3, key, sum(map(len, parts))) == b"".join(parts)


def test_a_part_cut_short_is_not_kept_and_can_be_sent_again(s3: S3BlobStore) -> None:
    key = "cd" * 20
    part = os.urandom(5 * MIB)
    handle = s3.begin(key)
    with pytest.raises(ApiError) as cut:  # the client's stall is the answer, not a 503
        _run(s3.put_part_stream(key, handle, 1, len(part), _pieces(part, fail_at=2 * MIB)))
    assert cut.value.status == 408
    listed = s3.client.list_parts(Bucket=s3.bucket, Key=s3._key(key), UploadId=handle)
    assert listed.get("Parts", []) == []  # the store kept nothing of the cut part
    assert s3.size(key) is None
    etag = _run(s3.put_part_stream(key, handle, 1, len(part), _pieces(part)))
    s3.complete(key, handle, [(1, etag)])
    assert _read(s3, key, len(part)) == part


@pytest.fixture(scope="module")
def real_s3(weed: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    data = tmp_path_factory.mktemp("s3stream") / "data"
    with real_server(data, None, "--blobs", s3_spec(weed)) as r:
        yield r


def _chunked(data: bytes) -> Iterator[bytes]:
    """No Content-Length: the server counts the bytes as they come."""
    for at in range(0, len(data), 1 << 20):
        yield data[at : at + (1 << 20)]


def test_parts_of_the_wrong_size_are_refused_and_nothing_shows_before_commit(
    real_s3: Real,
) -> None:
    blob = os.urandom(8 * MIB + 100)
    blob_id = new_id()
    with real_s3.account().client() as c:
        r = c.post("/v1/uploads", json={"blob_id": blob_id, "size": len(blob)})
        assert r.status_code == 201, r.text
        up, part = r.json()["upload_id"], r.json()["part_size"]
        first, second = blob[:part], blob[part:]
        url = f"/v1/uploads/{up}/parts/1"
        assert c.put(url, content=first[:-1]).status_code == 400  # one byte short
        assert c.put(url, content=_chunked(first + b"x")).status_code == 413  # one too many
        assert c.put(url, content=_chunked(first[: 3 * MIB])).status_code == 400  # cut short
        assert c.put(url, content=_chunked(first)).status_code == 200
        assert c.put(f"/v1/uploads/{up}/parts/2", content=second).status_code == 200
        assert c.get(f"/v1/blobs/{blob_id}").status_code == 404  # not before the commit
        status = c.get(f"/v1/uploads/{up}").json()
        assert [p["number"] for p in status["received"]] == [1, 2]
        assert c.post(f"/v1/uploads/{up}/commit").status_code == 201
        got = c.get(f"/v1/blobs/{blob_id}")
        assert got.status_code == 200 and got.content == blob
