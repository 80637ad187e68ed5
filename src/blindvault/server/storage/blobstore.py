"""Blob storage: one small interface, a local-disk store and an S3 store.

Keys are server-chosen random names (never client ids or names). Whole objects and
multipart uploads become visible atomically: the local store writes a temporary file,
fsyncs and renames it; the S3 store relies on PUT and CompleteMultipartUpload being
atomic. Failures of the store become `ApiError` 503 at this edge.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import parse_qs, urlparse

from blindvault.server.errors import invalid, unavailable

READ_CHUNK = 1 << 20
KEY_BATCH = 500


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
    def read(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def begin(self, key: str) -> str: ...
    def put_part(self, key: str, handle: str, number: int, data: Data, offset: int) -> str: ...
    def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None: ...
    def abort(self, key: str, handle: str) -> None: ...


def new_storage_key() -> str:
    return secrets.token_hex(20)


def _check_key(key: str) -> None:
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise invalid("bad storage key")


class LocalBlobStore:
    """Blobs under ROOT/blobs/ab/cd/KEY. An upload writes its parts in place into
    ROOT/uploads/HANDLE/data (each at its offset) and leaves a marker ROOT/uploads/HANDLE/N
    per part; commit fsyncs that file and renames it into place, so every byte is
    written once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "uploads").mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        _check_key(key)
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
        self._write_atomic(self._path(key), chunks_of(data))

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._path(key)
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
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

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

    def _upload_dir(self, handle: str) -> Path:
        _check_key(handle)
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


class S3BlobStore:
    """Any S3-compatible store: s3://BUCKET?endpoint=URL&region=R (keys from the env)."""

    def __init__(self, url: str) -> None:
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        if parsed.scheme != "s3" or len(parsed.netloc) < 3:
            raise ValueError("blob store URL must be s3://BUCKET (3+ characters)?endpoint=...")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region", "us-east-1"),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "blindvault"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "blindvault"),
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/blobs/{key}" if self.prefix else f"blobs/{key}"

    def ensure_bucket(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._call(self.client.create_bucket, Bucket=self.bucket)
        except BotoCoreError as exc:
            raise unavailable("object store") from exc

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = exc.response.get("Error", {}).get("Code", "")
            if status == 404 or code in ("NoSuchKey", "NoSuchUpload", "NotFound"):
                raise FileNotFoundError from exc
            raise unavailable("object store") from exc
        except BotoCoreError as exc:
            raise unavailable("object store") from exc

    def put(self, key: str, data: Data) -> None:
        if not isinstance(data, bytes):
            data.seek(0)
        self._call(self.client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data)

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        if end <= start:
            return
        resp = self._call(
            self.client.get_object,
            Bucket=self.bucket,
            Key=self._key(key),
            Range=f"bytes={start}-{end - 1}",
        )
        body = resp["Body"]
        try:
            while chunk := body.read(READ_CHUNK):
                yield chunk
        finally:
            body.close()

    def size(self, key: str) -> int | None:
        try:
            resp = self._call(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return int(resp["ContentLength"])

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def keys(self, older_than: float) -> Iterator[list[str]]:
        """Stored keys last written before `older_than` (epoch seconds), in batches."""
        prefix = self._key("00")[:-2]
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(paginator.paginate, Bucket=self.bucket, Prefix=prefix)
        try:
            for page in pages:
                batch = [
                    o["Key"][len(prefix) :]
                    for o in page.get("Contents", [])
                    if o["LastModified"].timestamp() < older_than
                ]
                if batch:
                    yield batch
        except FileNotFoundError:
            return

    def begin(self, key: str) -> str:
        resp = self._call(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=self._key(key)
        )
        return str(resp["UploadId"])

    def put_part(self, key: str, handle: str, number: int, data: Data, offset: int) -> str:
        if not isinstance(data, bytes):
            data.seek(0)
        resp = self._call(
            self.client.upload_part,
            Bucket=self.bucket,
            Key=self._key(key),
            UploadId=handle,
            PartNumber=number,
            Body=data,
        )
        return str(resp["ETag"])

    def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None:
        try:
            self._call(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=self._key(key),
                UploadId=handle,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(parts)]},
            )
        except FileNotFoundError:  # no such upload: completed before, or lost
            if self.size(key) is None:
                raise MissingPartsError(sorted(n for n, _ in parts)) from None

    def abort(self, key: str, handle: str) -> None:
        try:
            self._call(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=self._key(key),
                UploadId=handle,
            )
        except FileNotFoundError:
            return


def open_store(spec: str | None, data_dir: Path) -> BlobStore:
    """`None` → local disk under DATA/blobstore; `s3://…` → S3."""
    if spec is None:
        return LocalBlobStore(data_dir / "blobstore")
    if spec.startswith("s3://"):
        store = S3BlobStore(spec)
        store.ensure_bucket()
        return store
    if spec.startswith("file://"):
        return LocalBlobStore(Path(spec[len("file://") :]))
    raise ValueError("--blobs must be s3://BUCKET?endpoint=URL or file:///PATH")
