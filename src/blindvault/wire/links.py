"""Share links: the owner's side and a link holder's side."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from blindvault.wire.common import MAX_VERSION, Model

MAX_LINK_ITEMS = 100_000  # blobs, and snapshot records, of one link


class LinkCreate(Model):
    id: str = Field(description="the link id: 22 characters of unpadded base64url")
    token: str = Field(description="unpadded base64url of the 32-byte link token")
    descriptor: str = Field(description="base64 of the sealed link descriptor")
    kind: Literal["file", "folder", "drop"]
    password: bool = False
    snapshot: dict[str, str] = Field(
        default_factory=dict,
        description="folder links: snapshot id (32 hex) -> base64 of a re-sealed manifest",
    )
    blobs: list[str] = Field(default_factory=list, max_length=MAX_LINK_ITEMS)
    expires_at: float | None = Field(default=None, allow_inf_nan=False)
    max_downloads: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    # upload-only links (kind "drop", issue 19)
    max_uploads: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    max_drop_size: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="drop links: largest sealed drop (bytes)"
    )
    owner_note: str | None = Field(
        default=None, description="drop links: base64 of the owner's sealed note (opaque)"
    )


class LinkCreated(Model):
    id: str


class LinkInfo(Model):
    id: str
    kind: str
    password: bool
    created_at: float
    expires_at: float | None
    max_downloads: int | None
    downloads: int
    revoked: bool
    max_uploads: int | None = None
    uploads: int = 0


class LinkList(Model):
    links: list[LinkInfo]


class LinkOpened(Model):
    descriptor: str = Field(description="base64 of the sealed link descriptor")
    kind: str
    expires_at: float | None
    downloads_left: int | None
    password: bool
    uploads_left: int | None = None
    max_drop_size: int | None = None


class LinkManifest(Model):
    version: int
    data: str = Field(description="base64 of a re-sealed manifest of the link's snapshot")


class DropStored(Model):
    id: str = Field(description="the server's id of the stored drop (32 hex)")
    size: int


class DropInfo(Model):
    id: str = Field(description="the drop's blob id (32 hex): GET /v1/blobs/{id} reads it")
    link: str = Field(description="the link it came through (22 characters of base64url)")
    note: str | None = Field(description="base64 of the link's owner note (opaque)")
    size: int
    created_at: float


class DropList(Model):
    drops: list[DropInfo]
