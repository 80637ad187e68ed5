"""The unencrypted baselines, each a process of its own like the CLI (so both pay the same
interpreter start-up), with the client's own transfer pattern:

* through the same server, on the raw blob endpoints: parts of the server's part size
  with `IN_FLIGHT` in flight (as `put`), one streamed download written and fsynced as it
  arrives (as `get`), small files in the same batches with the same parallelism;
* straight to the object store with its own client (boto3 multipart, the same part size
  and concurrency; downloads fsynced like the client's), for the S3 path.

    python -m blindvault.bench.rawclient put-big URL FILE          → BLOB_ID PART_SIZE
    python -m blindvault.bench.rawclient get-big URL BLOB_ID DEST
    python -m blindvault.bench.rawclient put-small URL FOLDER IDS_FILE
    python -m blindvault.bench.rawclient get-small URL IDS_FILE DEST_FOLDER
    python -m blindvault.bench.rawclient s3-put-big ENDPOINT BUCKET PART_SIZE FILE
    python -m blindvault.bench.rawclient s3-get-big ENDPOINT BUCKET PART_SIZE DEST
    python -m blindvault.bench.rawclient s3-put-small ENDPOINT BUCKET FOLDER
    python -m blindvault.bench.rawclient s3-get-small ENDPOINT BUCKET DEST_FOLDER

The bearer token comes from $BV_TOKEN, S3 keys from $AWS_ACCESS_KEY_ID/SECRET.
"""

from __future__ import annotations

import os
import secrets
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from blindvault.client.net.batching import BATCH_ITEM, PARALLEL, groups
from blindvault.client.net.sink import FileSink
from blindvault.client.net.transfer import IN_FLIGHT

__all__ = ["main"]

BIG_KEY = "big.bin"
SMALL_PREFIX = "small/"


def _client(url: str) -> httpx.Client:
    token = os.environ["BV_TOKEN"]
    return httpx.Client(base_url=url, timeout=120.0, headers={"Authorization": f"Bearer {token}"})


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response


def _parts(src: Path, part_size: int) -> Any:
    with src.open("rb", buffering=0) as f:
        while True:
            buf = bytearray(part_size)
            view = memoryview(buf)
            got = 0
            while got < part_size and (n := f.readinto(view[got:])):
                got += n
            if not got:
                return
            yield buf if got == part_size else buf[:got]


def put_big(url: str, src: Path) -> str:
    size = src.stat().st_size
    blob = secrets.token_hex(16)
    with _client(url) as http, ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        start = _check(http.post("/v1/uploads", json={"blob_id": blob, "size": size})).json()
        part_size = int(start["part_size"])
        flying: list[Future[httpx.Response]] = []
        for number, part in enumerate(_parts(src, part_size), 1):
            while len(flying) >= IN_FLIGHT:
                _check(flying.pop(0).result())
            path = f"/v1/uploads/{start['upload_id']}/parts/{number}"
            flying.append(pool.submit(http.put, path, content=bytes(part)))
        for f in flying:
            _check(f.result())
        _check(http.post(f"/v1/uploads/{start['upload_id']}/commit"))
    return f"{blob} {part_size}"


def _sunk(dest: Path, chunks: Any) -> None:
    with dest.open("wb") as f:
        sink = FileSink(f)
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                for at in range(0, len(view), sink.block):
                    piece = view[at : at + sink.block]
                    sink.ensure(len(piece))
                    sink.view()[: len(piece)] = piece
                    sink.commit(len(piece))
        except BaseException:
            sink.abandon()
            raise
        sink.close()
        f.flush()
        os.fsync(f.fileno())


def get_big(url: str, blob: str, dest: Path) -> None:
    with _client(url) as http, http.stream("GET", f"/v1/blobs/{blob}") as response:
        _check(response)
        _sunk(dest, response.iter_bytes())


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def put_small(url: str, folder: Path, ids_file: Path) -> None:
    files = sorted(folder.iterdir())
    ids = [secrets.token_hex(16) for _ in files]
    items = [((bid, p), p.stat().st_size) for bid, p in zip(ids, files, strict=True)]
    if any(n > BATCH_ITEM for _, n in items):
        raise SystemExit("put-small: files larger than a batch item")

    def send(group: list[tuple[str, Path]]) -> None:
        body = b"".join(
            bid.encode() + p.stat().st_size.to_bytes(4, "big") + p.read_bytes() for bid, p in group
        )
        _check(http.post("/v1/blobs/batch", content=body))

    with _client(url) as http, ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(send, groups(items)))
    ids_file.write_text("\n".join(ids))


def get_small(url: str, ids_file: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    ids = ids_file.read_text().split()
    sizes = [(bid, 4096) for bid in ids]  # grouped as the client groups files this small

    def fetch(group: list[str]) -> None:
        data = _check(http.post("/v1/blobs/batch-get", json={"ids": group})).content
        pos = 0
        while pos < len(data):
            bid = data[pos : pos + 32].decode()
            size = int.from_bytes(data[pos + 32 : pos + 36], "big")
            _write_synced(dest / bid, data[pos + 36 : pos + 36 + size])
            pos += 36 + size

    with _client(url) as http, ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(fetch, groups(sizes)))


def _s3(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=PARALLEL * 2),
    )


def _transfer(part_size: int) -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=part_size,
        multipart_chunksize=part_size,
        max_concurrency=IN_FLIGHT,
        use_threads=True,
    )


def _bucket(s3: Any, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:  # absent: make it
        s3.create_bucket(Bucket=bucket)


def s3_put_big(endpoint: str, bucket: str, part_size: int, src: Path) -> None:
    s3 = _s3(endpoint)
    _bucket(s3, bucket)
    s3.upload_file(str(src), bucket, BIG_KEY, Config=_transfer(part_size))


def s3_get_big(endpoint: str, bucket: str, part_size: int, dest: Path) -> None:
    _s3(endpoint).download_file(bucket, BIG_KEY, str(dest), Config=_transfer(part_size))
    with dest.open("rb+") as f:  # as durable as the client's download
        os.fsync(f.fileno())


def s3_put_small(endpoint: str, bucket: str, folder: Path) -> None:
    s3 = _s3(endpoint)
    _bucket(s3, bucket)

    def put(p: Path) -> None:
        s3.put_object(Bucket=bucket, Key=SMALL_PREFIX + p.name, Body=p.read_bytes())

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(put, sorted(folder.iterdir())))


def s3_get_small(endpoint: str, bucket: str, dest: Path) -> None:
    s3 = _s3(endpoint)
    dest.mkdir(parents=True, exist_ok=True)
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=SMALL_PREFIX)
        for o in page.get("Contents", [])
    ]

    def get(key: str) -> None:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        _write_synced(dest / key.removeprefix(SMALL_PREFIX), body)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(get, keys))


def main(argv: list[str]) -> int:
    cmd, where, *rest = argv
    if cmd == "put-big":
        print(put_big(where, Path(rest[0])))
    elif cmd == "get-big":
        get_big(where, rest[0], Path(rest[1]))
    elif cmd == "put-small":
        put_small(where, Path(rest[0]), Path(rest[1]))
    elif cmd == "get-small":
        get_small(where, Path(rest[0]), Path(rest[1]))
    elif cmd == "s3-put-big":
        s3_put_big(where, rest[0], int(rest[1]), Path(rest[2]))
    elif cmd == "s3-get-big":
        s3_get_big(where, rest[0], int(rest[1]), Path(rest[2]))
    elif cmd == "s3-put-small":
        s3_put_small(where, rest[0], Path(rest[1]))
    elif cmd == "s3-get-small":
        s3_get_small(where, rest[0], Path(rest[1]))
    else:
        raise SystemExit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
