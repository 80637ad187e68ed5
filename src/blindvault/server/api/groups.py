"""Groups (issue 19): an owner's group roster and member envelopes, replaced in one request,
and the spaces shared with a group.

Adding or removing a member is one `PUT /v1/groups/{id}` whatever the number of spaces
shared with the group: a member reaches those spaces through `group_members`
(`deps.resolve_scope`). Rosters and envelopes are opaque; clients verify them (the roster is
owner-signed and pinned per device, the envelopes are owner-signed).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import Connection, delete, insert, select, update

from blindvault.server.codec import b64decode, b64encode, check_id
from blindvault.server.deps import Ctx, GroupId, SpaceId, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import accounts, group_members, group_spaces, groups
from blindvault.wire.groups import GroupList, GroupSpaceWrite, GroupVersion, GroupWrite

router = APIRouter(prefix="/v1", tags=["groups"])

MAX_ROSTER = 400_000
MAX_ENVELOPE = 4096


def _stale(current: int) -> ApiError:
    return ApiError(
        409, "stale_version", "the group changed meanwhile", extra={"current_version": current}
    )


def _owned(conn: Connection, group_id: str, owner: str) -> Any:
    row = conn.execute(select(groups).where(groups.c.id == group_id)).first()
    if row is not None and row.owner != owner:  # mutant: server.group-owner
        raise not_found("group")  # another account's group: as if it did not exist
    return row


@router.put("/groups/{group_id}", response_model=GroupVersion)
def put_group(group_id: GroupId, body: GroupWrite, who: Who, ctx: Ctx) -> dict[str, Any]:
    """Create a group or replace its roster and its members (with their envelopes) at once;
    compare-and-swap on `expected_version`."""
    roster = b64decode(body.roster, "roster", max_size=MAX_ROSTER)
    members: dict[str, bytes] = {}
    for m in body.members:
        check_id(m.member)
        if m.member == who.account_id:
            raise invalid("the owner is not a member of its group")
        if m.member in members:
            raise invalid("a member is listed twice")
        members[m.member] = b64decode(m.envelope, "envelope", max_size=MAX_ENVELOPE)
    now = time.time()
    with transaction(ctx.engine) as conn:
        if members:
            found = conn.execute(select(accounts.c.id).where(accounts.c.id.in_(members))).all()
            if len(found) != len(members):
                raise not_found("account")
        row = _owned(conn, group_id, who.account_id)
        if row is None and body.expected_version != 0:
            raise not_found("group")  # as for another account's group: no existence oracle
        current = 0 if row is None else int(row.version)
        if body.expected_version != current:
            raise _stale(current)
        version = current + 1
        if row is None:
            values = {"id": group_id, "owner": who.account_id, "roster": roster}
            if not insert_if_absent(conn, groups, {**values, "version": 1, "updated_at": now}):
                raise _stale(1)  # created meanwhile
        else:
            done = conn.execute(
                update(groups)
                .where(groups.c.id == group_id, groups.c.version == current)
                .values(version=version, roster=roster, updated_at=now)
            )
            if done.rowcount != 1:
                raise _stale(current + 1)
        conn.execute(delete(group_members).where(group_members.c.group_id == group_id))
        if members:
            conn.execute(
                insert(group_members),
                [{"group_id": group_id, "member": k, "envelope": v} for k, v in members.items()],
            )
        audit_log.record(conn, who.account_id, "group.update", members=len(members))
    return {"id": group_id, "version": version}


@router.put("/groups/{group_id}/spaces/{space}", status_code=204)
def put_group_space(
    group_id: GroupId, space: SpaceId, body: GroupSpaceWrite, who: Who, ctx: Ctx
) -> Response:
    """Share one of the caller's spaces with one of its groups (or replace the envelope)."""
    envelope = b64decode(body.envelope, "envelope", max_size=MAX_ENVELOPE)
    now = time.time()
    with transaction(ctx.engine) as conn:
        if _owned(conn, group_id, who.account_id) is None:
            raise not_found("group")
        key = (group_spaces.c.group_id == group_id, group_spaces.c.space == space)
        row = {"group_id": group_id, "space": space, "owner": who.account_id}
        full = {**row, "role": body.role, "envelope": envelope, "created_at": now}
        if not insert_if_absent(conn, group_spaces, full):
            conn.execute(update(group_spaces).where(*key).values(envelope=envelope))
        audit_log.record(conn, who.account_id, "share.grant", role=body.role, group=True)
    return Response(status_code=204)


@router.delete("/groups/{group_id}/spaces/{space}", status_code=204)
def delete_group_space(group_id: GroupId, space: SpaceId, who: Who, ctx: Ctx) -> Response:
    """End the share of one of the caller's spaces with one of its groups (`unshare
    --with-group`); 204 also when it was not shared with it (a retry after a cut)."""
    with transaction(ctx.engine) as conn:
        if _owned(conn, group_id, who.account_id) is None:
            raise not_found("group")
        done = conn.execute(
            delete(group_spaces).where(
                group_spaces.c.group_id == group_id,
                group_spaces.c.space == space,
                group_spaces.c.owner == who.account_id,
            )
        )
        if done.rowcount:
            audit_log.record(conn, who.account_id, "share.revoke", group=group_id, space=space)
    return Response(status_code=204)


@router.delete("/groups/spaces/{space}", status_code=204)
def delete_group_spaces(space: SpaceId, who: Who, ctx: Ctx) -> Response:
    """End the shares of one of the caller's spaces with every group (the folder is gone);
    204 whether or not it had any."""
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            delete(group_spaces).where(
                group_spaces.c.owner == who.account_id, group_spaces.c.space == space
            )
        )
        if done.rowcount:
            audit_log.record(conn, who.account_id, "share.revoke", group=True)
    return Response(status_code=204)


@router.get("/groups", response_model=GroupList)
def list_groups(who: Who, ctx: Ctx) -> dict[str, Any]:
    """The caller's groups (rosters, members, spaces) and the groups it is a member of."""
    with transaction(ctx.engine) as conn:
        owned = conn.execute(
            select(groups).where(groups.c.owner == who.account_id).order_by(groups.c.id)
        ).all()
        ids = [g.id for g in owned]
        mrows = conn.execute(
            select(group_members, accounts.c.email)
            .join(accounts, accounts.c.id == group_members.c.member)
            .where(group_members.c.group_id.in_(ids))
        ).all()
        srows = conn.execute(select(group_spaces).where(group_spaces.c.group_id.in_(ids))).all()
        mine = conn.execute(
            select(groups, group_members.c.envelope, accounts.c.email)
            .join(group_members, group_members.c.group_id == groups.c.id)
            .join(accounts, accounts.c.id == groups.c.owner)
            .where(group_members.c.member == who.account_id)
            .order_by(groups.c.id)
        ).all()
    return {
        "owned": [
            {
                "id": g.id,
                "version": g.version,
                "roster": b64encode(g.roster),
                "members": [
                    {"member": m.member, "member_email": m.email, "envelope": b64encode(m.envelope)}
                    for m in mrows
                    if m.group_id == g.id
                ],
                "spaces": [
                    {"space": s.space, "role": s.role, "envelope": b64encode(s.envelope)}
                    for s in srows
                    if s.group_id == g.id
                ],
            }
            for g in owned
        ],
        "member_of": [
            {
                "id": g.id,
                "owner": g.owner,
                "owner_email": g.email,
                "version": g.version,
                "roster": b64encode(g.roster),
                "envelope": b64encode(g.envelope),
            }
            for g in mine
        ],
    }
