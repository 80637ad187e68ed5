"""The local-disk blob store: small objects packed as rows of one SQLite database
(`packed`), larger ones a temporary file each, fsynced and renamed into place."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from blindvault.server.storage.blobstore.base import (
    KEY_BATCH,
    READ_CHUNK,
    Data,
    MissingPartsError,
    check_key,
    chunks_of,
    put_in_parallel,
)
from blindvault.server.storage.blobstore.packed import SmallBlobs, small_bytes


class LocalBlobStore:
    """Objects of at most `packed.PACK_MAX` bytes are rows of ROOT/small.sqlite3; larger
    ones live under ROOT/blobs/ab/cd/KEY (a reader looks in both, so objects stored as
    files by an older version stay readable). An upload writes its parts in place into
    ROOT/uploads/HANDLE/data (each at its offset) and leaves a marker ROOT/uploads/HANDLE/N
    per part; commit fsyncs that file and renames it into place, so every byte is
    written once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "uploads").mkdir(parents=True, exist_ok=True)
        self.small = SmallBlobs(root / "small.sqlite3")

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / "blobs" / key[:2] / key[2:4] / key

    def _write_atomic(
        self, path: Path, chunks: Iterator[bytes] | list[bytes], *, durable: bool = True
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                if durable:
                    os.fsync(f.fileno())
            os.replace(tmp, path)
            if durable:
                dfd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, key: str, data: Data) -> None:
        self.put_many([key], [data])

    def put_many(self, keys: list[str], datas: list[Data]) -> None:
        """Small objects in one transaction (one fsync), the others as files in parallel."""
        small: list[tuple[str, bytes]] = []
        large: list[tuple[str, Data]] = []
        for key, data in zip(keys, datas, strict=True):
            path = self._path(key)  # validates the key
            whole = small_bytes(data)
            if whole is None:
                large.append((key, data))
            else:
                path.unlink(missing_ok=True)  # never two copies of one key
                small.append((key, whole))
        self.small.put_all(small)
        put_in_parallel(self._put_file, large)

    def _put_file(self, key: str, data: Data) -> None:
        self.small.delete(key)  # never two copies of one key
        self._write_atomic(self._path(key), chunks_of(data))

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._path(key)
        whole = self.small.get(key)
        if whole is not None:
            if end > start:
                yield whole[start:end]
            return
        with path.open("rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                chunk = f.read(min(READ_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    def size(self, key: str) -> int | None:
        path = self._path(key)
        small = self.small.size(key)
        if small is not None:
            return small
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self.small.delete(key)

    def keys(self, older_than: float) -> Iterator[list[str]]:
        """Stored keys last written before `older_than` (epoch seconds), in batches."""
        batch: list[str] = []
        for path in (self.root / "blobs").glob("*/*/*"):
            try:
                old = path.stat().st_mtime < older_than
            except FileNotFoundError:
                continue
            if old and not path.name.startswith(".") and path.is_file():
                batch.append(path.name)
                if len(batch) >= KEY_BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch
        yield from self.small.keys(older_than)

    def _upload_dir(self, handle: str) -> Path:
        check_key(handle)
        return self.root / "uploads" / handle

    def begin(self, key: str) -> str:
        handle = secrets.token_hex(16)
        self._upload_dir(handle).mkdir(parents=True)
        return handle

    def put_part(self, key: str, handle: str, number: int, data: Data, offset: int) -> str:
        # not fsynced: a part whose marker a crash lost is found missing at commit and
        # sent again; only the committed blob must be durable, and it is fsynced
        folder = self._upload_dir(handle)
        if not folder.is_dir():
            raise FileNotFoundError("the upload is no longer open")
        fd = os.open(folder / "data", os.O_WRONLY | os.O_CREAT, 0o600)
        at = offset
        try:
            for chunk in chunks_of(data):
                view = memoryview(chunk)
                while view:
                    done = os.pwrite(fd, view, at)
                    view, at = view[done:], at + done
        finally:
            os.close(fd)
        size = at - offset
        (folder / f"{number:06d}").write_text(f"{offset} {size}", encoding="ascii")
        return f"local-{size}"

    def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None:
        folder = self._upload_dir(handle)
        if not folder.exists() and self.size(key) is not None:
            return  # completed before (a commit whose process died after the rename)
        lost, end = [], 0
        for n, etag in parts:
            marker = folder / f"{n:06d}"
            try:
                offset, size = (int(x) for x in marker.read_text(encoding="ascii").split())
            except (OSError, ValueError):
                lost.append(n)
                continue
            if size != int(etag.removeprefix("local-")):
                lost.append(n)
            end = max(end, offset + size)
        if lost:
            raise MissingPartsError(sorted(lost))
        data = folder / "data"
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # never O_CREAT: a commit repeated after the rename must not make a new, zeroed
            # file and move it over the committed blob
            fd = os.open(data, os.O_RDWR)
        except FileNotFoundError:
            if target.exists() and target.stat().st_size == end:
                return  # a previous commit of this upload completed it
            raise MissingPartsError(sorted(n for n, _ in parts)) from None
        try:
            if os.fstat(fd).st_size != end:
                os.ftruncate(fd, end)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(data, target)
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        shutil.rmtree(folder, ignore_errors=True)

    def abort(self, key: str, handle: str) -> None:
        shutil.rmtree(self._upload_dir(handle), ignore_errors=True)
