"""Blobs: single small writes, batches, listings."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import Model

MAX_BATCH_ITEMS = 1000  # blobs in one batch upload or batch-get


class BlobBatchGet(Model):
    ids: list[str] = Field(max_length=MAX_BATCH_ITEMS)


class BlobStored(Model):
    blob_id: str
    size: int


class BlobBatchStored(Model):
    stored: int
    size: int


class BlobInfo(Model):
    id: str
    size: int
    created_at: float  # when the server stored it (seconds since the epoch)


class BlobList(Model):
    blobs: list[BlobInfo]
