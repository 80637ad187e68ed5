"""Groups (issue 19): an owner's signed group roster, the group key sealed to each member,
and the spaces shared with a group (each key sealed to the group). All opaque here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from blindvault.wire.common import Model

MAX_GROUP_MEMBERS = 1000


class GroupMemberWrite(Model):
    member: str = Field(description="the member's account id (32 hex)")
    envelope: str = Field(description="base64 of the group key sealed to the member")


class GroupWrite(Model):
    expected_version: int = Field(ge=0, description="0 to create; else the current version")
    roster: str = Field(description="base64 of the owner-signed group roster")
    members: list[GroupMemberWrite] = Field(max_length=MAX_GROUP_MEMBERS)


class GroupVersion(Model):
    id: str
    version: int


class GroupSpaceWrite(Model):
    role: Literal["read"]
    envelope: str = Field(description="base64 of the space's key sealed to the group")


class GroupSpace(Model):
    space: str
    role: str
    envelope: str


class GroupMemberItem(Model):
    member: str
    member_email: str
    envelope: str


class OwnedGroup(Model):
    id: str
    version: int
    roster: str
    members: list[GroupMemberItem]
    spaces: list[GroupSpace]


class MemberGroup(Model):
    id: str
    owner: str
    owner_email: str
    version: int
    roster: str
    envelope: str = Field(description="the group key sealed to the caller")


class GroupList(Model):
    owned: list[OwnedGroup]
    member_of: list[MemberGroup]
