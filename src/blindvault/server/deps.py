"""FastAPI dependencies as `Annotated` aliases, and typed path ids.

    def route(item: BlobId, ctx: Ctx, who: Who) -> ...

`Ctx` is the server's context, `Who` the authenticated caller (401 otherwise), `InScope`
whose objects the request acts on (the caller's own, or a shared space it holds a grant
for; see `domain.scopes`). A path id that does not match its pattern is refused with
400 `invalid_request` before the route runs (see `app.validation_error`).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy import select, update

from blindvault.server.context import Principal, ServerContext
from blindvault.server.domain.credentials import token_hash
from blindvault.server.domain.scopes import ROLE_WRITE, Scope
from blindvault.server.errors import not_found, unauthorized
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import devices, grants
from blindvault.wire.common import ID_PATTERN, KIND_PATTERN


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(get_context)]


def authenticate(request: Request, ctx: Ctx) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    digest = token_hash(token.strip())
    now = time.time()
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(
                devices.c.id,
                devices.c.account_id,
                devices.c.revoked,
                devices.c.last_seen,
                devices.c.created_at,
            ).where(devices.c.token_hash == digest)
        ).first()
        if row is None or row.revoked:
            raise unauthorized()
        if now - row.created_at > ctx.limits.token_ttl:
            raise unauthorized("this device's sign-in has expired; sign in again")
        if now - row.last_seen > 60:
            conn.execute(update(devices).where(devices.c.id == row.id).values(last_seen=now))
    return Principal(row.account_id, row.id)


Who = Annotated[Principal, Depends(authenticate)]


def _path_id(description: str) -> object:
    return Path(pattern=ID_PATTERN, description=f"{description} (32 lowercase hex)")


BlobId = Annotated[str, _path_id("a blob id")]
RecordId = Annotated[str, _path_id("a record id")]
UploadId = Annotated[str, _path_id("an upload id")]
DeviceId = Annotated[str, _path_id("a device id")]
ShareId = Annotated[str, _path_id("a share id")]
SpaceId = Annotated[str, _path_id("a space id")]
LockId = Annotated[str, _path_id("a lock's resource id")]
NodeId = Annotated[str, _path_id("a snapshot manifest id")]
Kind = Annotated[str, Path(pattern=KIND_PATTERN, description="a record kind")]
LinkToken = Annotated[str | None, Header(description="the link's token (never in the URL)")]


def resolve_scope(
    who: Who,
    ctx: Ctx,
    owner: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="another account's id (shared space)")
    ] = None,
    space: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="the shared space's id")
    ] = None,
) -> Scope:
    """Whose objects the request acts on; 404 for a space the caller holds no grant for
    (the same answer as a missing object: no existence oracle)."""
    if owner is None or owner == who.account_id:
        return Scope(who.account_id, space or "", who.account_id, True)
    if space is None:
        raise not_found("object")
    with transaction(ctx.engine) as conn:
        role = conn.execute(
            select(grants.c.role).where(
                grants.c.owner == owner, grants.c.space == space, grants.c.member == who.account_id
            )
        ).scalar()
    if role is None:
        raise not_found("object")
    return Scope(owner, space, who.account_id, role == ROLE_WRITE)


InScope = Annotated[Scope, Depends(resolve_scope)]
