"""Blob storage: one small interface (`base.BlobStore`) and its backends, local disk and
S3, which pass the same contract suite (`tests/server/test_blobstore_contract.py`)."""

from __future__ import annotations

from pathlib import Path

from blindvault.server.storage.blobstore.base import BlobStore as BlobStore
from blindvault.server.storage.blobstore.base import (
    Data,
    MissingPartsError,
    PartStreamer,
    chunks_of,
    new_storage_key,
)
from blindvault.server.storage.blobstore.local import LocalBlobStore
from blindvault.server.storage.blobstore.s3 import S3BlobStore

__all__ = [
    "BlobStore",
    "Data",
    "LocalBlobStore",
    "MissingPartsError",
    "PartStreamer",
    "S3BlobStore",
    "chunks_of",
    "new_storage_key",
    "open_store",
]


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
