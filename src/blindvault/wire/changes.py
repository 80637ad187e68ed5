"""The blind change feed (`GET /v1/changes`): record kinds, ids and versions in write order."""

from __future__ import annotations

from pydantic import Field

from blindvault.wire.common import Model


class Change(Model):
    seq: int = Field(ge=1)
    kind: str
    id: str
    version: int = Field(ge=0)
    deleted: bool


class FeedRoot(Model):
    version: int = Field(ge=1)
    data: str = Field(description="base64 of the signed root record")


class ChangePage(Model):
    changes: list[Change]
    next: int = Field(ge=0, description="ask again with since=next")
    more: bool
    root: FeedRoot | None = Field(description="the owner's signed root (the owner only)")
