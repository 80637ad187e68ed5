"""Groups (issue 19), server side: who reaches a space through a group, and the group shares
listed to a member. The roster and every envelope are opaque here; clients verify them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from blindvault.server.codec import b64encode
from blindvault.server.storage.schema import accounts, group_members, group_spaces

__all__ = ["group_role", "incoming_group_shares"]


def group_role(conn: Connection, owner: str, space: str, member: str) -> str | None:
    """The role `member` holds on `owner`'s `space` through a group, if any."""
    return conn.execute(
        select(group_spaces.c.role)
        .join(group_members, group_members.c.group_id == group_spaces.c.group_id)
        .where(
            group_spaces.c.owner == owner,
            group_spaces.c.space == space,
            group_members.c.member == member,
        )
        .limit(1)
    ).scalar()


def incoming_group_shares(conn: Connection, member: str) -> list[dict[str, Any]]:
    """The spaces shared with the groups `member` is in, as `GET /v1/shares` items (with
    `group`; accepted by being in the group; the envelope is sealed to the group)."""
    rows = conn.execute(
        select(group_spaces, accounts.c.email)
        .join(group_members, group_members.c.group_id == group_spaces.c.group_id)
        .join(accounts, accounts.c.id == group_spaces.c.owner)
        .where(group_members.c.member == member)
        .order_by(group_spaces.c.created_at)
    ).all()
    return [
        {
            "id": r.group_id,
            "space": r.space,
            "owner": r.owner,
            "owner_email": r.email,
            "role": r.role,
            "accepted": True,
            "envelope": b64encode(r.envelope),
            "created_at": r.created_at,
            "group": r.group_id,
        }
        for r in rows
    ]
