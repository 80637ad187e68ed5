"""Grants of a space to another account, and moving objects into a space."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from blindvault.wire.common import Model
from blindvault.wire.records import RecordRef

MAX_ADOPT = 100_000  # records, and blobs, in one adopt


class ShareWrite(Model):
    id: str = Field(description="a random 32-hex share id (kept if the grant exists)")
    space: str = Field(description="the shared space (32 hex)")
    member: str = Field(description="the member's account id (32 hex)")
    role: Literal["read", "write"]
    envelope: str = Field(description="base64 of the sealed, signed envelope")
    owner: str | None = Field(
        default=None,
        description="the space's owner (32 hex) when a member re-shares it; else the caller",
    )
    reshare: bool = Field(
        default=False, description="the owner lets the member re-share (a hint for the server)"
    )


class Adopt(Model):
    records: list[RecordRef] = Field(default_factory=list, max_length=MAX_ADOPT)
    blobs: list[str] = Field(default_factory=list, max_length=MAX_ADOPT)


class ShareId(Model):
    id: str


class ShareAccepted(Model):
    id: str
    accepted: bool


class Outgoing(Model):
    id: str
    space: str
    member: str
    member_email: str
    role: str
    accepted: bool
    envelope: str
    created_at: float
    reshare: bool = False
    by_email: str = ""  # the member who re-shared, "" when the owner granted it
    role_since: float | None = None  # when the role was last set (a new grant: created_at)


class Incoming(Model):
    id: str
    space: str
    owner: str
    owner_email: str
    role: str
    accepted: bool
    envelope: str
    created_at: float
    group: str | None = Field(
        default=None, description="issue 19: shared with this group (envelope sealed to it)"
    )
    reshare: bool = False
    by_email: str = ""  # who sealed the envelope when a member re-shared; "" = the owner


class ShareList(Model):
    outgoing: list[Outgoing]
    incoming: list[Incoming]


class Adopted(Model):
    moved: int
