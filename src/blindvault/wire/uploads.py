"""Large blobs in resumable parts."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import MAX_VERSION, Model


class UploadStart(Model):
    blob_id: str
    size: int = Field(ge=0, le=MAX_VERSION)


class UploadStarted(Model):
    upload_id: str
    part_size: int
    parts: int


class Part(Model):
    number: int
    size: int


class UploadStatus(Model):
    upload_id: str
    blob_id: str
    size: int
    part_size: int
    state: str
    received: list[Part]
