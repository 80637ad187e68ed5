"""What small objects cost on disk: N blobs of 4,173 bytes (a 4 KiB file, padded and
sealed) written through the server's own blob stores, in batches as the batch route
writes them; bytes on disk (allocated blocks) against the padded bytes stored.

* local store (`LocalBlobStore`: packed rows for small objects), 10,000 blobs;
* S3 path (`S3BlobStore` into SeaweedFS), 1,000 blobs: the growth of SeaweedFS's data
  folder (volume file, its index, the filer's metadata store) per object.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.server.storage.blobstore import LocalBlobStore, S3BlobStore, new_storage_key

__all__ = ["BLOB", "run_storage"]

BLOB = 4173  # sealed size of a 4 KiB file
BATCH = 500  # objects per batch request (the client's BATCH_COUNT)


def _allocated(folder: Path) -> int:
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_blocks * 512
        except FileNotFoundError:
            continue
    return total


def _fill(store: Any, count: int) -> None:
    for at in range(0, count, BATCH):
        keys = [new_storage_key() for _ in range(min(BATCH, count - at))]
        store.put_many(keys, [os.urandom(BLOB) for _ in keys])


def run_storage(
    work: Path, s3: str | None, *, quick: bool, weed: Path | None = None
) -> dict[str, Any]:
    local_count = 1_000 if quick else 10_000
    folder = work / "local"
    shutil.rmtree(folder, ignore_errors=True)
    _fill(LocalBlobStore(folder), local_count)
    local = _allocated(folder)
    shutil.rmtree(folder, ignore_errors=True)
    out: dict[str, Any] = {
        "blob_size": BLOB,
        "local": {"count": local_count, "bytes": local, "ratio": local / (BLOB * local_count)},
    }
    if s3 is not None and weed is not None:
        count = 100 if quick else 1_000
        env = {"AWS_ACCESS_KEY_ID": util.S3_KEY, "AWS_SECRET_ACCESS_KEY": util.S3_KEY}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            store = S3BlobStore(f"s3://bvstorage?endpoint={s3}")
            store.ensure_bucket()
            before = _allocated(weed)
            _fill(store, count)
            grown = _allocated(weed) - before
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        out["s3"] = {
            "count": count,
            "bytes": grown,
            "per_object": grown / count,
            "ratio": grown / (BLOB * count),
        }
    return out
