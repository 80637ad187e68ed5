"""FastAPI dependencies as `Annotated` aliases, and typed path ids.

    def route(item: BlobId, ctx: Ctx, who: Who) -> ...

`Ctx` is the server's context, `Who` the authenticated caller (401 otherwise; an app
credential's token gets 403 there: it reaches record, blob, upload and change routes only,
through `InScope`), `AnyWho` any authenticated caller, app tokens included, `InScope`
whose objects the request acts on (the caller's own, or a shared space it holds a grant
for; see `domain.scopes`). A path id that does not match its pattern is refused with
400 `invalid_request` before the route runs (see `app.validation_error`).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from blindvault.server.context import Principal, ServerContext
from blindvault.server.domain.apps import granted_spaces
from blindvault.server.domain.credentials import token_hash
from blindvault.server.domain.groups import group_role
from blindvault.server.domain.scopes import ROLE_WRITE, Scope, app_scope
from blindvault.server.errors import ApiError, not_found, unauthorized
from blindvault.server.storage.db import statements, transaction
from blindvault.server.storage.revocations import TOUCH_ONLY
from blindvault.server.storage.schema import devices, grants
from blindvault.server.tokens import REFRESH
from blindvault.wire.common import ID_PATTERN, KIND_PATTERN


async def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(get_context)]


def _lookup(ctx: ServerContext, digest: str) -> Principal:
    """The token's `devices` row (in a worker thread): 401 if unknown, revoked or expired."""
    epoch = ctx.tokens.epoch.current() if ctx.tokens is not None else 0  # before the read
    now = time.time()
    with statements(ctx.engine) as conn:  # one read, and at most a `last_seen` refresh
        row = conn.execute(
            select(
                devices.c.id,
                devices.c.account_id,
                devices.c.revoked,
                devices.c.last_seen,
                devices.c.created_at,
                devices.c.app_id,
                devices.c.app_space,
            ).where(devices.c.token_hash == digest)
        ).first()
        if row is None or row.revoked:
            raise unauthorized()
        if now - row.created_at > ctx.limits.token_ttl:
            raise unauthorized("this device's sign-in has expired; sign in again")
        if now - row.last_seen > REFRESH:
            conn.execute(
                update(devices).where(devices.c.id == row.id).values(last_seen=now),
                execution_options={TOUCH_ONLY: True},
            )
    who = Principal(row.account_id, row.id, row.app_space, row.app_id)
    if ctx.tokens is not None:
        ctx.tokens.put(digest, who, row.created_at, epoch)
    return who


async def authenticate_any(request: Request, ctx: Ctx) -> Principal:
    """The caller behind the bearer token: a device of an account, or an app credential.
    A token this process checked recently, with no revocation since, skips the database
    (`server.tokens`); any other goes to a worker thread that reads its row."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    digest = token_hash(token.strip())
    if ctx.tokens is not None:
        cached = ctx.tokens.get(digest)
        if cached is not None:
            return cached
    return await run_in_threadpool(_lookup, ctx, digest)


AnyWho = Annotated[Principal, Depends(authenticate_any)]


async def authenticate(who: AnyWho) -> Principal:
    """An account's own device: app credentials never reach account, device, share, link,
    lock or TOTP routes (issue 16)."""
    if who.app_space is not None:  # mutant: apps.token-account-routes
        raise ApiError(403, "forbidden", "an app credential cannot use this route")
    return who


Who = Annotated[Principal, Depends(authenticate)]


def _path_id(description: str) -> object:
    return Path(pattern=ID_PATTERN, description=f"{description} (32 lowercase hex)")


BlobId = Annotated[str, _path_id("a blob id")]
RecordId = Annotated[str, _path_id("a record id")]
UploadId = Annotated[str, _path_id("an upload id")]
DeviceId = Annotated[str, _path_id("a device id")]
ShareId = Annotated[str, _path_id("a share id")]
SpaceId = Annotated[str, _path_id("a space id")]
GroupId = Annotated[str, _path_id("a group id")]
LockId = Annotated[str, _path_id("a lock's resource id")]
NodeId = Annotated[str, _path_id("a snapshot manifest id")]
Kind = Annotated[str, Path(pattern=KIND_PATTERN, description="a record kind")]
LinkToken = Annotated[str | None, Header(description="the link's token (never in the URL)")]


async def resolve_scope(
    who: AnyWho,
    ctx: Ctx,
    owner: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="another account's id (shared space)")
    ] = None,
    space: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="the shared space's id")
    ] = None,
) -> Scope:
    """Whose objects the request acts on; 404 for a space the caller holds no grant for
    (the same answer as a missing object: no existence oracle). An app token is confined
    to its container and the containers granted to its app (`scopes.app_scope`)."""
    if who.app_space is None and (owner is None or owner == who.account_id):
        return Scope(who.account_id, space or "", who.account_id, True)  # no database read
    return await run_in_threadpool(_shared_scope, who, ctx, owner, space)


def _shared_scope(
    who: Principal, ctx: ServerContext, owner: str | None, space: str | None
) -> Scope:
    """`resolve_scope` for an app token or another owner's space (reads grants)."""
    if who.app_space is not None:
        if owner is not None and owner != who.account_id:
            raise not_found("object")
        granted = {}
        if space is not None and space != who.app_space:
            with transaction(ctx.engine) as conn:
                granted = granted_spaces(conn, who.account_id, who.app_id or "")
        return app_scope(who.account_id, who.app_space, space, granted)
    if space is None or owner is None:
        raise not_found("object")
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(grants.c.role, grants.c.reshare).where(
                grants.c.owner == owner, grants.c.space == space, grants.c.member == who.account_id
            )
        ).first()
        role, reshare = (row.role, bool(row.reshare)) if row is not None else (None, False)
        if role is None:  # a member of a group the space is shared with (issue 19)
            role = group_role(conn, owner, space, who.account_id)
    if role is None:
        raise not_found("object")
    return Scope(owner, space, who.account_id, role == ROLE_WRITE, reshare=reshare)


InScope = Annotated[Scope, Depends(resolve_scope)]
