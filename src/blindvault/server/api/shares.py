"""Grants: an owner lets another account read (or write) one space of its objects.

The server stores, per grant, the member's account, the role and the envelope (the
folder key HPKE-sealed to the member and signed by the owner — opaque here). It
enforces the role on every record and blob route (`deps.resolve_scope`); whether the
envelope, the roster and the writer of a manifest are genuine is checked by clients,
which never take the server's word for it.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from blindvault.server.codec import b64decode, b64encode, check_id
from blindvault.server.context import Limits
from blindvault.server.deps import Ctx, ShareId, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.groups import incoming_group_shares
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts, grants
from blindvault.wire.shares import ShareAccepted, ShareList, ShareWrite
from blindvault.wire.shares import ShareId as ShareIdAnswer

router = APIRouter(prefix="/v1", tags=["shares"])

MAX_ENVELOPE = 4096


@router.put("/shares", response_model=ShareIdAnswer)
def put_share(
    body: ShareWrite,
    who: Who,
    ctx: Ctx,
) -> dict[str, Any]:
    """Grant (or update the role and envelope of) a member of one of the caller's spaces,
    or, with `owner`, of another account's space the caller may re-share (P-RESHARE: the
    server's check is a hint; members accept a re-share only from the signed roster)."""
    for value in (body.id, body.space, body.member):
        check_id(value)
    owner = who.account_id if body.owner is None else check_id(body.owner)
    if body.member in (owner, who.account_id):
        raise invalid("an owner does not share with itself")
    envelope = b64decode(body.envelope, "envelope", max_size=MAX_ENVELOPE)
    now = time.time()
    key = (
        grants.c.owner == owner,
        grants.c.space == body.space,
        grants.c.member == body.member,
    )
    with transaction(ctx.engine) as conn:
        member = conn.execute(select(accounts.c.email).where(accounts.c.id == body.member)).first()
        if member is None:
            raise not_found("account")
        by = None if owner == who.account_id else _check_reshare(conn, owner, body, who.account_id)
        existing = conn.execute(
            select(grants.c.id, grants.c.role, grants.c.granted_by).where(*key)
        ).first()
        values: dict[str, Any] = {"role": body.role, "envelope": envelope, "updated_at": now}
        values |= {"reshare": body.reshare, "granted_by": by}
        event, was = "share.grant", {}
        if existing is not None:
            if by is not None and existing.granted_by != by:
                raise ApiError(409, "conflict", "this person is a member already")
            # a new role (`updated_at`: the role's "since"), or the same one with a new
            # envelope (the key rotated on unshare: the role's "since" stays)
            changed = existing.role != body.role
            if not changed:
                del values["updated_at"]
            conn.execute(update(grants).where(*key).values(**values))
            share_id = existing.id
            event = "share.change" if changed else "share.rekey"
            was = {"was": existing.role} if changed else {}
        else:
            _check_pending(conn, ctx.limits, owner, body.member)
            conn.execute(
                insert(grants).values(
                    id=body.id,
                    owner=owner,
                    space=body.space,
                    member=body.member,
                    accepted=False,
                    created_at=now,
                    **values,
                )
            )
            share_id = body.id
        detail = {"share": share_id, "space": body.space, "member": member.email}
        if by is not None:  # a member re-shared: the owner's log says who
            detail["reshared_by"] = by
        audit_log.record(conn, owner, event, **detail, role=body.role, **was)
    return {"id": share_id}


def _check_reshare(conn: Connection, owner: str, body: ShareWrite, caller: str) -> str:
    """A re-share: the caller holds a grant of the space with the re-share right, gives no
    more than its own role and no re-share right; returns the caller (`granted_by`)."""
    mine = conn.execute(
        select(grants.c.role, grants.c.reshare).where(
            grants.c.owner == owner, grants.c.space == body.space, grants.c.member == caller
        )
    ).first()
    if mine is None:
        raise not_found("share")
    # mutant: server.reshare-grant
    if not mine.reshare or body.reshare or (body.role == "write" and mine.role != "write"):
        raise ApiError(403, "forbidden", "you may not re-share this folder so")
    return caller


def _check_pending(conn: Connection, limits: Limits, owner: str, member: str) -> None:
    """A recipient holds at most `Limits.pending_per_sender` unaccepted grants from one
    sender and `Limits.pending_shares` from everyone, so unsolicited shares cannot swell
    their `GET /v1/shares` without bound, and one sender cannot fill it alone (declining a
    share, `DELETE /v1/shares/{id}`, frees its place)."""
    for extra, limit in (
        ([grants.c.owner == owner], limits.pending_per_sender),
        ([], limits.pending_shares),
    ):
        pending = (
            select(grants.c.id)
            .where(grants.c.member == member, grants.c.accepted.is_(False), *extra)
            .limit(limit + 1)
            .subquery()
        )
        if conn.execute(select(func.count()).select_from(pending)).scalar_one() >= limit:
            raise ApiError(
                429, "too_many_pending", "this account has too many shares waiting to be accepted"
            )


@router.get("/shares", response_model=ShareList)
def list_shares(who: Who, ctx: Ctx) -> dict[str, Any]:
    """Grants the caller made (outgoing) and received (incoming, with envelopes)."""
    other, by = aliased(accounts), aliased(accounts)
    with transaction(ctx.engine) as conn:
        out_rows = conn.execute(
            select(grants, other.c.email, by.c.email.label("by_email"))
            .join(other, other.c.id == grants.c.member)
            .outerjoin(by, by.c.id == grants.c.granted_by)
            .where(grants.c.owner == who.account_id)
            .order_by(grants.c.created_at)
        ).all()
        in_rows = conn.execute(
            select(grants, other.c.email, by.c.email.label("by_email"))
            .join(other, other.c.id == grants.c.owner)
            .outerjoin(by, by.c.id == grants.c.granted_by)
            .where(grants.c.member == who.account_id)
            .order_by(grants.c.created_at)
        ).all()
        via_groups = incoming_group_shares(conn, who.account_id)
    return {
        "outgoing": [
            {
                "id": r.id,
                "space": r.space,
                "member": r.member,
                "member_email": r.email,
                "role": r.role,
                "accepted": r.accepted,
                "envelope": b64encode(r.envelope),
                "created_at": r.created_at,
                "reshare": bool(r.reshare),
                "by_email": r.by_email or "",
                "role_since": r.updated_at,
            }
            for r in out_rows
        ],
        "incoming": [
            {
                "id": r.id,
                "space": r.space,
                "owner": r.owner,
                "owner_email": r.email,
                "role": r.role,
                "accepted": r.accepted,
                "envelope": b64encode(r.envelope),
                "created_at": r.created_at,
                "reshare": bool(r.reshare),
                "by_email": r.by_email or "",
            }
            for r in in_rows
        ]
        + via_groups,
    }


def _grant_for(conn: Connection, share_id: str, account: str) -> Any:
    row = conn.execute(select(grants).where(grants.c.id == share_id)).first()
    if row is None or account not in (row.owner, row.member):
        raise not_found("share")
    return row


def _detail(conn: Connection, row: Any) -> dict[str, Any]:
    """What the owner's audit log says about a grant: its id, space, member and role."""
    email = conn.execute(select(accounts.c.email).where(accounts.c.id == row.member)).scalar()
    return {"share": row.id, "space": row.space, "member": email, "role": row.role}


@router.post("/shares/{share_id}/accept", response_model=ShareAccepted)
def accept_share(
    share_id: ShareId,
    who: Who,
    ctx: Ctx,
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        row = _grant_for(conn, share_id, who.account_id)
        if row.member != who.account_id:
            raise not_found("share")
        conn.execute(update(grants).where(grants.c.id == share_id).values(accepted=True))
        if not row.accepted:
            audit_log.record(conn, row.owner, "share.accept", **_detail(conn, row))
    return {"id": share_id, "accepted": True}


@router.delete("/shares/{share_id}", status_code=204)
def delete_share(
    share_id: ShareId,
    who: Who,
    ctx: Ctx,
) -> Response:
    """The owner revokes a member, or a member leaves; access ends at once."""
    with transaction(ctx.engine) as conn:
        row = _grant_for(conn, share_id, who.account_id)
        conn.execute(delete(grants).where(grants.c.id == share_id))
        by = "owner" if who.account_id == row.owner else "member"  # a member may leave
        audit_log.record(conn, row.owner, "share.revoke", **_detail(conn, row), by=by)
    return Response(status_code=204)
