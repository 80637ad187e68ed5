"""Per-app containers (issue 16): authorize an app, list and revoke app credentials, and
grants of one app's container to another app (each needs a fresh TOTP code).

Only the account's own devices reach these routes (`Who` refuses app tokens), except
`GET /v1/app/grants`, where an app reads the envelopes of the grants made to it."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import delete, select, update

from blindvault.server.codec import b64decode, b64encode
from blindvault.server.deps import AnyWho, Ctx, Who
from blindvault.server.domain import apps as domain
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain import ratelimit
from blindvault.server.domain.proofs import consume_totp
from blindvault.server.domain.sessions import own_account
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import app_grants, apps
from blindvault.wire.apps import (
    APP_ID_PATTERN,
    MAX_APP_ID,
    AppAuthorize,
    AppAuthorized,
    AppEnvelope,
    AppGrantList,
    AppGrantWrite,
    AppList,
    AppSelf,
)

router = APIRouter(prefix="/v1", tags=["apps"])

AppIdPath = Annotated[
    str, Path(pattern=APP_ID_PATTERN, max_length=MAX_APP_ID, description="a reverse-DNS app id")
]


@router.post("/apps", status_code=201, response_model=AppAuthorized)
def authorize_app(body: AppAuthorize, who: Who, ctx: Ctx) -> dict[str, Any]:
    """Issue an app credential's token, confined to the app's container (made if new)."""
    with transaction(ctx.engine) as conn:
        token, device_id = domain.authorize(conn, who.account_id, body)
    return {"app_id": body.app_id, "account_id": who.account_id, "device_id": device_id,
            "token": token}  # fmt: skip


def _apps(conn: Any, owner: str) -> list[dict[str, Any]]:
    rows = domain.listing(conn, owner)
    for r in rows:
        for field in ("bundle", "attestation", "envelope"):
            r[field] = b64encode(r[field])
    return rows


@router.get("/apps", response_model=AppList)
def list_apps(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        return {"apps": _apps(conn, who.account_id)}


@router.put("/apps/{app_id}/envelope", status_code=204)
def replace_envelope(app_id: AppIdPath, body: AppEnvelope, who: Who, ctx: Ctx) -> Response:
    """The container key after a rotation (ungrant), sealed to the app's key."""
    envelope = b64decode(body.envelope, "envelope", max_size=domain.MAX_BUNDLE)
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(apps)
            .where(apps.c.owner == who.account_id, apps.c.app_id == app_id)
            .values(envelope=envelope)
        ).rowcount
        if done != 1:
            raise not_found("app")
    return Response(status_code=204)


@router.delete("/apps/{app_id}", status_code=204)
def revoke_app(app_id: AppIdPath, who: Who, ctx: Ctx) -> Response:
    """Revoke every credential of the app at once (401 everywhere); its grants end."""
    with transaction(ctx.engine) as conn:
        domain.revoke(conn, who.account_id, app_id)
    return Response(status_code=204)


def _space_of(conn: Any, owner: str, app_id: str) -> str:
    space = conn.execute(
        select(apps.c.space).where(apps.c.owner == owner, apps.c.app_id == app_id)
    ).scalar()
    if space is None:
        raise not_found("app")
    return str(space)


def _check_grant_totp(ctx: Ctx, request: Request, owner: str, code: str) -> None:
    """TOTP must be on and `code` current and never used before; rate-limited like logins."""
    row = own_account(ctx, owner)
    if not row.totp_secret:
        raise ApiError(403, "totp_required", "granting needs TOTP: turn it on first")
    buckets = ratelimit.login_buckets(ctx.limits, row.email, ratelimit.client_address(request))
    attempt = ratelimit.record(ctx.engine, buckets)
    with transaction(ctx.engine) as conn:
        ok = consume_totp(conn, owner, row.totp_secret, code)
        if not ok:
            audit_log.record(conn, owner, "app_grant_refused", reason="totp")
    if not ok:  # mutant: apps.grant-totp
        raise ApiError(403, "proof_invalid", "the TOTP code is wrong or was used already")
    ratelimit.forget(ctx.engine, attempt)


@router.put("/apps/grants", status_code=204)
def grant(body: AppGrantWrite, request: Request, who: Who, ctx: Ctx) -> Response:
    """Let `from_app` read (or write) `to_app`'s container; needs a fresh TOTP code."""
    domain.check_app_id(body.from_app)
    domain.check_app_id(body.to_app)
    if body.from_app == body.to_app:
        raise invalid("an app already reaches its own container")
    envelope = b64decode(body.envelope, "envelope", max_size=domain.MAX_BUNDLE)
    with transaction(ctx.engine) as conn:
        _space_of(conn, who.account_id, body.from_app)
        _space_of(conn, who.account_id, body.to_app)
    _check_grant_totp(ctx, request, who.account_id, body.totp)
    with transaction(ctx.engine) as conn:
        key = (app_grants.c.owner == who.account_id, app_grants.c.from_app == body.from_app,
               app_grants.c.to_app == body.to_app)  # fmt: skip
        conn.execute(delete(app_grants).where(*key))
        insert_if_absent(conn, app_grants, {
            "owner": who.account_id, "from_app": body.from_app, "to_app": body.to_app,
            "role": body.role, "envelope": envelope, "created_at": time.time(),
        })  # fmt: skip
        audit_log.record(conn, who.account_id, "app_granted", from_app=body.from_app,
                         to_app=body.to_app, role=body.role)  # fmt: skip
    return Response(status_code=204)


def _grants(conn: Any, owner: str, from_app: str | None) -> list[dict[str, Any]]:
    query = (
        select(app_grants, apps.c.space)
        .join(apps, (apps.c.owner == app_grants.c.owner) & (apps.c.app_id == app_grants.c.to_app))
        .where(app_grants.c.owner == owner)
        .order_by(app_grants.c.from_app, app_grants.c.to_app)
    )
    if from_app is not None:
        query = query.where(app_grants.c.from_app == from_app)
    return [
        {"from_app": r.from_app, "to_app": r.to_app, "role": r.role, "space": r.space,
         "envelope": b64encode(r.envelope), "created_at": r.created_at}
        for r in conn.execute(query)
    ]  # fmt: skip


@router.get("/apps/grants", response_model=AppGrantList)
def list_grants(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        return {"grants": _grants(conn, who.account_id, None)}


@router.get("/app", response_model=AppSelf)
def this_app(who: AnyWho, ctx: Ctx) -> dict[str, Any]:
    """An app's view: its container, the grants made to it (their envelopes open with its
    key only) and every app's attested key (to check who wrote what)."""
    if who.app_id is None:
        raise ApiError(403, "forbidden", "only an app credential can use this route")
    with transaction(ctx.engine) as conn:
        every = _apps(conn, who.account_id)
        everything = _grants(conn, who.account_id, None)
    mine = next((a for a in every if a["app_id"] == who.app_id), None)
    if mine is None:
        raise not_found("app")
    grants = [g for g in everything if g["from_app"] == who.app_id]
    # only the apps it deals with: itself, the containers granted to it, and the apps that
    # may write its own container (another app's envelope is never shown to it)
    writers = sorted(
        g["from_app"] for g in everything if g["to_app"] == who.app_id and g["role"] == "write"
    )
    related = {who.app_id} | {g["to_app"] for g in grants} | set(writers)
    shown = [{**a, "envelope": ""} for a in every if a["app_id"] in related]
    return {"app_id": who.app_id, "space": mine["space"], "envelope": mine["envelope"],
            "grants": grants, "apps": shown, "writers": writers}  # fmt: skip


@router.delete("/apps/grants/{from_app}/{to_app}", status_code=204)
def ungrant(from_app: AppIdPath, to_app: AppIdPath, who: Who, ctx: Ctx) -> Response:
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            delete(app_grants).where(
                app_grants.c.owner == who.account_id,
                app_grants.c.from_app == from_app,
                app_grants.c.to_app == to_app,
            )
        ).rowcount
        if done != 1:
            raise not_found("grant")
        audit_log.record(conn, who.account_id, "app_ungranted", from_app=from_app, to_app=to_app)
    return Response(status_code=204)
