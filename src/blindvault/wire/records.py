"""Opaque records with compare-and-swap."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import MAX_VERSION, Model

MAX_RECORD = 16 << 20  # decoded bytes of one record
MAX_BATCH = 1000  # records asked for in one batch-get


class RecordWrite(Model):
    expected_version: int = Field(
        ge=0, le=MAX_VERSION - 1, description="0 creates; n replaces version n"
    )
    data: str = Field(description="base64 of the opaque record")


class RecordRef(Model):
    kind: str
    id: str


class RecordBatchGet(Model):
    items: list[RecordRef] = Field(max_length=MAX_BATCH)


class RecordWritten(Model):
    kind: str
    id: str
    version: int


class Record(RecordWritten):
    data: str = Field(description="base64 of the opaque record")


class RecordBatch(Model):
    records: list[Record]


class RecordVersion(Model):
    id: str
    version: int


class RecordList(Model):
    records: list[RecordVersion]
