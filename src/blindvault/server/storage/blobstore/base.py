"""The blob store interface every backend implements, and what they share.

Keys are server-chosen random names (never client ids or names). Whole objects and
multipart uploads become visible atomically. Failures of a store become `ApiError` 503
at this edge. Every backend passes the same contract suite
(`tests/server/test_blobstore_contract.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Protocol, runtime_checkable

from blindvault.server.errors import invalid

READ_CHUNK = 1 << 20
KEY_BATCH = 500
WRITERS = 8  # objects of a batch written at once (their fsyncs or requests overlap)


Data = bytes | IO[bytes]  # what is stored: bytes, or a (spooled) file read from its start


def chunks_of(data: Data) -> Iterator[bytes]:
    """The bytes of `data` in pieces of at most READ_CHUNK (a file is read from its start)."""
    if isinstance(data, bytes):
        yield data
        return
    data.seek(0)
    while chunk := data.read(READ_CHUNK):
        yield chunk


class MissingPartsError(Exception):
    """Parts recorded as received are gone from the store (e.g. after a crash)."""

    def __init__(self, numbers: list[int]) -> None:
        super().__init__(f"{len(numbers)} part(s) must be sent again")
        self.numbers = numbers


class BlobStore(Protocol):
    def put(self, key: str, data: Data) -> None: ...
    def put_many(self, keys: list[str], datas: list[Data]) -> None: ...
    def read(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def begin(self, key: str) -> str: ...
    def put_part(self, key: str, handle: str, number: int, data: Data, offset: int) -> str: ...
    def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None: ...
    def abort(self, key: str, handle: str) -> None: ...


@runtime_checkable
class PartStreamer(Protocol):
    """A store that takes an upload's part as it arrives (S3), instead of from a spooled
    file: `chunks` yields exactly `size` bytes or raises, and a part cut short is not kept."""

    async def put_part_stream(
        self, key: str, handle: str, number: int, size: int, chunks: AsyncIterator[bytes]
    ) -> str: ...


def put_in_parallel(put: Callable[[str, Data], None], items: list[tuple[str, Data]]) -> None:
    """`put` every (key, data), up to WRITERS at once; the first failure is raised."""
    if len(items) <= 1:
        for key, data in items:
            put(key, data)
        return
    with ThreadPoolExecutor(max_workers=min(WRITERS, len(items))) as pool:
        list(pool.map(put, *zip(*items, strict=True)))


def new_storage_key() -> str:
    return secrets.token_hex(20)


def check_key(key: str) -> None:
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise invalid("bad storage key")
