"""The unencrypted baseline: the same bytes through the same server and store, on the raw
blob endpoints, with the same transfer pattern as the client (parts of the server's part
size sent one after another; downloads streamed to a file and fsynced). Run as its own
process, like the CLI, so both pay the same interpreter start-up.

    python -m blindvault.bench.rawclient put-big URL FILE
    python -m blindvault.bench.rawclient get-big URL BLOB_ID DEST
    python -m blindvault.bench.rawclient put-small URL FOLDER IDS_FILE
    python -m blindvault.bench.rawclient get-small URL IDS_FILE DEST_FOLDER

The bearer token comes from $BV_TOKEN. Prints the blob id (put-big).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import httpx

__all__ = ["main"]


def _client(url: str) -> httpx.Client:
    token = os.environ["BV_TOKEN"]
    return httpx.Client(base_url=url, timeout=120.0, headers={"Authorization": f"Bearer {token}"})


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response


def put_big(url: str, src: Path) -> str:
    size = src.stat().st_size
    blob = secrets.token_hex(16)
    with _client(url) as http:
        start = _check(http.post("/v1/uploads", json={"blob_id": blob, "size": size})).json()
        part_size = int(start["part_size"])
        buf = bytearray(part_size)
        view = memoryview(buf)
        with src.open("rb", buffering=0) as f:
            number = 1
            while True:
                got = 0
                while got < part_size and (n := f.readinto(view[got:])):
                    got += n
                if not got:
                    break
                path = f"/v1/uploads/{start['upload_id']}/parts/{number}"
                _check(http.put(path, content=bytes(view[:got])))
                number += 1
        _check(http.post(f"/v1/uploads/{start['upload_id']}/commit"))
    return blob


def get_big(url: str, blob: str, dest: Path) -> None:
    with _client(url) as http, dest.open("wb") as f:
        with http.stream("GET", f"/v1/blobs/{blob}") as response:
            _check(response)
            for chunk in response.iter_bytes(1 << 20):
                f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def put_small(url: str, folder: Path, ids_file: Path) -> None:
    ids = []
    with _client(url) as http:
        for path in sorted(folder.iterdir()):
            blob = secrets.token_hex(16)
            _check(http.put(f"/v1/blobs/{blob}", content=path.read_bytes()))
            ids.append(blob)
    ids_file.write_text("\n".join(ids))


def get_small(url: str, ids_file: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with _client(url) as http:
        for blob in ids_file.read_text().split():
            data = _check(http.get(f"/v1/blobs/{blob}")).content
            with (dest / blob).open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())


def main(argv: list[str]) -> int:
    cmd, url, *rest = argv
    if cmd == "put-big":
        print(put_big(url, Path(rest[0])))
    elif cmd == "get-big":
        get_big(url, rest[0], Path(rest[1]))
    elif cmd == "put-small":
        put_small(url, Path(rest[0]), Path(rest[1]))
    elif cmd == "get-small":
        get_small(url, Path(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
