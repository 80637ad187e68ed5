"""Leased locks on a resource id of the caller's account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from blindvault.server.deps import Ctx, LockId, Who
from blindvault.server.domain import locks
from blindvault.server.errors import invalid, not_found
from blindvault.wire.locks import Lock, LockRequest

router = APIRouter(prefix="/v1", tags=["records"])


@router.post("/locks/{resource}", response_model=Lock)
def acquire_lock(resource: LockId, body: LockRequest, who: Who, ctx: Ctx) -> dict[str, Any]:
    """Take (or, with its token, renew) a lease; it expires on its own. While another
    holds it: 409 with `expires_at`, `since` and `device` (the holder's device name)."""
    token, expires = locks.acquire(
        ctx.engine, who.account_id, resource, body.lease_seconds, body.token, who.device_id
    )
    return {"token": token, "expires_at": expires}


@router.delete("/locks/{resource}", status_code=204)
def release_lock(
    resource: LockId,
    who: Who,
    ctx: Ctx,
    x_lock_token: Annotated[
        str | None, Header(description="the lock's token (never in the URL)")
    ] = None,
) -> Response:
    if not x_lock_token:
        raise invalid("the X-Lock-Token header is required")
    if not locks.release(ctx.engine, who.account_id, resource, x_lock_token):
        raise not_found("lock")
    return Response(status_code=204)
