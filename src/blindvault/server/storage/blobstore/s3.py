"""Any S3-compatible blob store (PUT and CompleteMultipartUpload are atomic)."""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from blindvault.server.errors import unavailable
from blindvault.server.storage.blobstore.base import (
    READ_CHUNK,
    Data,
    MissingPartsError,
    check_key,
    put_in_parallel,
)


class S3BlobStore:
    """Any S3-compatible store: s3://BUCKET?endpoint=URL&region=R (keys from the env)."""

    def __init__(self, url: str) -> None:
        import boto3
        from botocore.config import Config

        self._tls: ssl.SSLContext | None = None  # for the parts sent as they arrive
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
                # no CRC32 of every body (one more pass over each byte): the store's
                # checksum is not what protects a blob, its AEAD tags are
                request_checksum_calculation="when_required",
            ),
        )

    def _key(self, key: str) -> str:
        check_key(key)
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

    def put_many(self, keys: list[str], datas: list[Data]) -> None:
        put_in_parallel(self.put, list(zip(keys, datas, strict=True)))

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

    async def put_part_stream(
        self, key: str, handle: str, number: int, size: int, chunks: AsyncIterator[bytes]
    ) -> str:
        """Send one part of `size` bytes to the store as it arrives (`chunks`, which ends
        with exactly `size` bytes or raises): nothing spooled, memory one network chunk.

        The part goes to a presigned `UploadPart` URL (the payload is not hashed first,
        which would need the whole part at hand). A part whose body stops short is cut
        off mid-request: the store keeps no part for it, and the upload stays open for
        the part to be sent again; only `complete` makes an object. Returns the ETag."""
        url = self._call(
            self.client.generate_presigned_url,
            ClientMethod="upload_part",
            Params={"Bucket": self.bucket, "Key": self._key(key), "UploadId": handle,
                    "PartNumber": number},
            ExpiresIn=3600,
        )  # fmt: skip
        failed: list[BaseException] = []

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in chunks:
                    yield chunk
            except BaseException as exc:  # the client's side: its error is the answer
                failed.append(exc)
                raise

        timeout = httpx.Timeout(60.0, connect=5.0)
        if self._tls is None:  # once: building it (the CA bundle) costs more than a part
            self._tls = ssl.create_default_context()
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=self._tls) as http:
                resp = await http.put(url, content=body(), headers={"Content-Length": str(size)})
        except Exception as exc:
            if failed:
                raise failed[0] from None
            raise unavailable("object store") from exc
        if failed:
            raise failed[0]
        if resp.status_code == 404:  # NoSuchUpload: completed or aborted meanwhile
            raise FileNotFoundError("the upload is no longer open")
        etag = resp.headers.get("etag")
        if resp.status_code != 200 or not etag:
            raise unavailable("object store")
        return str(etag)

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
