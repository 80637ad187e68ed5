"""Sessions: log in (password or recovery words), confirm the password, log out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import update

from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain import ratelimit
from blindvault.server.domain.credentials import verify_secret
from blindvault.server.domain.emails import check_text, normalize_email
from blindvault.server.domain.proofs import consume_totp, key32
from blindvault.server.domain.sessions import open_session, own_account, verified_account
from blindvault.server.errors import ApiError, unauthorized
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import devices
from blindvault.wire.accounts import AuthCheck, Login, RecoveryLogin, Session

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post("/sessions", status_code=201, response_model=Session)
def login(body: Login, request: Request, ctx: Ctx) -> Session:
    email = normalize_email(body.email)
    check_text(body.device_name, "device_name")
    key = key32(body.auth_key, "auth_key")
    address = ratelimit.client_address(request)
    row, attempt = verified_account(ctx, address, email, key, "auth_hash")
    if row.totp_secret and body.totp is None:
        ratelimit.forget(ctx.engine, attempt)  # the password was right
        raise ApiError(401, "totp_required", "this account needs a TOTP code")
    with transaction(ctx.engine) as conn:
        if row.totp_secret and not consume_totp(conn, row.id, row.totp_secret, body.totp or ""):
            raise unauthorized("wrong email or credentials")  # wrong or replayed code
        session = open_session(conn, row.id, body.device_name, "password", address)
    ratelimit.forget(ctx.engine, attempt)
    return session


@router.post("/recovery/sessions", status_code=201, response_model=Session)
def recovery_login(body: RecoveryLogin, request: Request, ctx: Ctx) -> Session:
    """Log in with the key derived from the recovery words (forgotten password)."""
    email = normalize_email(body.email)
    check_text(body.device_name, "device_name")
    proof = key32(body.recovery_auth_key, "recovery_auth_key")
    address = ratelimit.client_address(request)
    row, attempt = verified_account(ctx, address, email, proof, "recovery_hash")
    with transaction(ctx.engine) as conn:
        session = open_session(conn, row.id, body.device_name, "recovery", address)
    ratelimit.forget(ctx.engine, attempt)
    return session


@router.post("/sessions/check", status_code=204)
def check_password(body: AuthCheck, request: Request, who: Who, ctx: Ctx) -> Response:
    """Confirm the password (its auth key) on an existing device session; rate-limited."""
    auth = key32(body.auth_key, "auth_key")
    row = own_account(ctx, who.account_id)
    buckets = ratelimit.login_buckets(ctx.limits, row.email, ratelimit.client_address(request))
    attempt = ratelimit.record(ctx.engine, buckets)
    ratelimit.slow_down_if_needed(ctx.limits, attempt)
    if not verify_secret(auth, row.auth_hash):
        raise unauthorized("wrong email or credentials")
    ratelimit.forget(ctx.engine, attempt)
    return Response(status_code=204)


@router.delete("/sessions/current", status_code=204)
def logout(who: Who, ctx: Ctx) -> Response:
    with transaction(ctx.engine) as conn:
        conn.execute(update(devices).where(devices.c.id == who.device_id).values(revoked=True))
        audit_log.record(conn, who.account_id, "logout", device_id=who.device_id)
    return Response(status_code=204)
