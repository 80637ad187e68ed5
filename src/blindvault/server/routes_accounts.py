"""Accounts, sessions (one token per device), TOTP, identities and the audit log."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from blindvault.server import audit as audit_log
from blindvault.server import invites, keyhistory, ratelimit, routes_totp
from blindvault.server.context import (
    MAX_VERSION,
    Principal,
    ServerContext,
    authenticate,
    b64decode,
    b64encode,
    check_id,
    get_context,
)
from blindvault.server.db import transaction
from blindvault.server.emails import check_text, normalize_email
from blindvault.server.errors import ApiError, not_found, unauthorized
from blindvault.server.kdfparams import DEFAULT_KDF, check_kdf, kdf_answer
from blindvault.server.proofs import (
    Proof,
    consume_totp,
    key32,
    require_proof,
)
from blindvault.server.schema import accounts, audit, devices, login_failures
from blindvault.server.security import (
    DUMMY_HASH,
    hash_secret,
    new_id,
    new_token,
    token_hash,
    verify_secret,
)

router = APIRouter(prefix="/v1", tags=["accounts"])

_BUNDLE_MAX = 64 * 1024


class Email(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class Signup(Email):
    kdf: dict[str, int | str]
    auth_key: str = Field(description="base64 of the 32-byte auth key")
    recovery_auth_key: str | None = Field(default=None, description="base64, 32 bytes")
    key_bundle: str = Field(description="base64 of the opaque key bundle")
    identity_bundle: str = Field(description="base64 of the public identity bundle")
    invite: str | None = Field(
        default=None, max_length=100, description="invite code (server run with --signup invite)"
    )


class Login(Email):
    auth_key: str
    device_name: str = Field(default="device", min_length=1, max_length=200)
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class RecoveryLogin(Email):
    recovery_auth_key: str
    device_name: str = Field(default="device", min_length=1, max_length=200)


class KeyChange(BaseModel):
    expected_version: int = Field(ge=0, le=MAX_VERSION)
    key_bundle: str
    kdf: dict[str, int | str] | None = None
    auth_key: str | None = None
    recovery_auth_key: str | None = None
    proof: Proof | None = None


def _norm(email: str) -> str:
    return normalize_email(email)


_key32 = key32
_client = ratelimit.client_address


def _new_device(
    conn: Connection, account_id: str, name: str, how: str, request: Request
) -> dict[str, str]:
    check_text(name, "device_name")
    token, device_id, now = new_token(), new_id(), time.time()
    conn.execute(
        insert(devices).values(
            id=device_id,
            account_id=account_id,
            name=name,
            token_hash=token_hash(token),
            created_at=now,
            last_seen=now,
            revoked=False,
        )
    )
    audit_log.record(
        conn,
        account_id,
        "login",
        device_id=device_id,
        device=name,
        how=how,
        address=_client(request),
    )
    return {"token": token, "device_id": device_id, "account_id": account_id}


@router.post("/prelogin")
def prelogin(body: Email, ctx: ServerContext = Depends(get_context)) -> dict[str, Any]:
    """The account's KDF parameters; stable defaults for unknown emails (no oracle)."""
    email = _norm(body.email)
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts.c.kdf).where(accounts.c.email == email)).first()
    return {"kdf": kdf_answer(row.kdf if row else json.dumps(DEFAULT_KDF))}


@router.post("/accounts", status_code=201)
def signup(
    body: Signup, request: Request, ctx: ServerContext = Depends(get_context)
) -> dict[str, str]:
    email = _norm(body.email)
    invite = invites.signup_allowed(ctx, body.invite)
    kdf = check_kdf(body.kdf)
    auth = _key32(body.auth_key, "auth_key")
    recovery = (
        _key32(body.recovery_auth_key, "recovery_auth_key") if body.recovery_auth_key else None
    )
    bundle = b64decode(body.key_bundle, "key_bundle", max_size=_BUNDLE_MAX)
    identity = b64decode(body.identity_bundle, "identity_bundle", max_size=_BUNDLE_MAX)
    account_id = hashlib.sha256(b"blindvault-server-account:" + email.encode()).hexdigest()[:32]
    # counted before anything is hashed; then the cheap existence check, then the hashes
    ratelimit.record(ctx.engine, ratelimit.signup_buckets(ctx.limits, _client(request)))
    with transaction(ctx.engine) as conn:
        if conn.execute(select(accounts.c.id).where(accounts.c.email == email)).first():
            raise ApiError(409, "conflict", "an account with this email exists")
    auth_hash = hash_secret(auth)
    recovery_hash = hash_secret(recovery) if recovery else None
    try:
        with transaction(ctx.engine) as conn:
            if invite is not None:
                invites.claim_invite(conn, invite, account_id)
            conn.execute(
                insert(accounts).values(
                    id=account_id,
                    email=email,
                    kdf=kdf,
                    auth_hash=auth_hash,
                    recovery_hash=recovery_hash,
                    key_bundle=bundle,
                    key_bundle_version=1,
                    identity_bundle=identity,
                    totp_secret=None,
                    quota_bytes=ctx.limits.default_quota,
                    used_bytes=0,
                    created_at=time.time(),
                )
            )
            audit_log.record(conn, account_id, "signup", address=_client(request))
            audit_log.record(conn, account_id, "key_bundle_changed", version=1)
    except IntegrityError:
        raise ApiError(409, "conflict", "an account with this email exists") from None
    return {"account_id": account_id}


def _verified_account(
    ctx: ServerContext, request: Request, email: str, proof: bytes, column: str
) -> tuple[Any, ratelimit.Attempt]:
    """The account whose stored hash in `column` matches `proof`; constant work, rate-limited.

    The attempt is recorded (and counted) before the hash is checked; the caller forgets
    it once the whole login succeeded."""
    buckets = ratelimit.login_buckets(ctx.limits, email, _client(request))
    attempt = ratelimit.record(ctx.engine, buckets)
    ratelimit.slow_down_if_needed(ctx.limits, attempt)
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.email == email)).first()
    stored = getattr(row, column, None) if row is not None else None
    if not verify_secret(proof, stored or DUMMY_HASH) or row is None or not stored:
        raise unauthorized("wrong email or credentials")
    return row, attempt


@router.post("/sessions", status_code=201)
def login(
    body: Login, request: Request, ctx: ServerContext = Depends(get_context)
) -> dict[str, str]:
    email = _norm(body.email)
    check_text(body.device_name, "device_name")
    key = _key32(body.auth_key, "auth_key")
    row, attempt = _verified_account(ctx, request, email, key, "auth_hash")
    if row.totp_secret and body.totp is None:
        ratelimit.forget(ctx.engine, attempt)  # the password was right
        raise ApiError(401, "totp_required", "this account needs a TOTP code")
    with transaction(ctx.engine) as conn:
        if row.totp_secret and not consume_totp(conn, row.id, row.totp_secret, body.totp or ""):
            raise unauthorized("wrong email or credentials")  # wrong or replayed code
        session = _new_device(conn, row.id, body.device_name, "password", request)
    ratelimit.forget(ctx.engine, attempt)
    return session


@router.post("/recovery/sessions", status_code=201)
def recovery_login(
    body: RecoveryLogin, request: Request, ctx: ServerContext = Depends(get_context)
) -> dict[str, str]:
    """Log in with the key derived from the recovery words (forgotten password)."""
    email = _norm(body.email)
    check_text(body.device_name, "device_name")
    proof = _key32(body.recovery_auth_key, "recovery_auth_key")
    row, attempt = _verified_account(ctx, request, email, proof, "recovery_hash")
    with transaction(ctx.engine) as conn:
        session = _new_device(conn, row.id, body.device_name, "recovery", request)
    ratelimit.forget(ctx.engine, attempt)
    return session


class AuthCheck(BaseModel):
    auth_key: str


@router.post("/sessions/check", status_code=204)
def check_password(
    body: AuthCheck,
    request: Request,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    """Confirm the password (its auth key) on an existing device session; rate-limited."""
    auth = _key32(body.auth_key, "auth_key")
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == who.account_id)).one()
    buckets = ratelimit.login_buckets(ctx.limits, row.email, _client(request))
    attempt = ratelimit.record(ctx.engine, buckets)
    ratelimit.slow_down_if_needed(ctx.limits, attempt)
    if not verify_secret(auth, row.auth_hash):
        raise unauthorized("wrong email or credentials")
    ratelimit.forget(ctx.engine, attempt)
    return Response(status_code=204)


@router.delete("/sessions/current", status_code=204)
def logout(
    who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> Response:
    with transaction(ctx.engine) as conn:
        conn.execute(update(devices).where(devices.c.id == who.device_id).values(revoked=True))
        audit_log.record(conn, who.account_id, "logout", device_id=who.device_id)
    return Response(status_code=204)


@router.get("/account")
def account(
    who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == who.account_id)).one()
    return {
        "account_id": row.id,
        "email": row.email,
        "kdf": json.loads(row.kdf),
        "key_bundle": b64encode(row.key_bundle),
        "key_bundle_version": row.key_bundle_version,
        "identity_bundle": b64encode(row.identity_bundle),
        "quota_bytes": row.quota_bytes,
        "used_bytes": row.used_bytes,
        "totp_enabled": row.totp_secret is not None,
        "device_id": who.device_id,
    }


def _own_account(ctx: ServerContext, who: Principal) -> Any:
    with transaction(ctx.engine) as conn:
        return conn.execute(select(accounts).where(accounts.c.id == who.account_id)).one()


@router.put("/account/keys")
def change_keys(
    body: KeyChange,
    request: Request,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, int]:
    """Replace the key bundle by compare-and-swap (password change, new recovery words).

    Needs `proof` (current auth key or recovery auth key, + TOTP code when on); the
    replaced bundle, KDF and hashes are kept in the key history."""
    require_proof(ctx, request, _own_account(ctx, who), body.proof)
    bundle = b64decode(body.key_bundle, "key_bundle", max_size=_BUNDLE_MAX)
    values: dict[str, Any] = {"key_bundle": bundle, "key_bundle_version": body.expected_version + 1}
    if body.kdf is not None:
        values["kdf"] = check_kdf(body.kdf)
    if body.auth_key is not None:
        values["auth_hash"] = hash_secret(_key32(body.auth_key, "auth_key"))
    if body.recovery_auth_key is not None:
        values["recovery_hash"] = hash_secret(_key32(body.recovery_auth_key, "recovery_auth_key"))
    with transaction(ctx.engine) as conn:
        before = conn.execute(
            select(accounts).where(
                accounts.c.id == who.account_id,
                accounts.c.key_bundle_version == body.expected_version,
            )
        ).first()
        done = conn.execute(
            update(accounts)
            .where(
                accounts.c.id == who.account_id,
                accounts.c.key_bundle_version == body.expected_version,
            )
            .values(**values)
        ).rowcount
        if done != 1 or before is None:
            current = conn.execute(
                select(accounts.c.key_bundle_version).where(accounts.c.id == who.account_id)
            ).scalar_one()
            raise ApiError(
                409,
                "stale_version",
                "the key bundle changed meanwhile",
                extra={"current_version": current},
            )
        keyhistory.push(conn, before)
        audit_log.record(
            conn,
            who.account_id,
            "key_bundle_changed",
            version=body.expected_version + 1,
            password="auth_key" in values,
            recovery="recovery_hash" in values,
        )
        if "auth_hash" in values:  # a password change signs every other device out
            conn.execute(
                update(devices)
                .where(devices.c.account_id == who.account_id, devices.c.id != who.device_id)
                .values(revoked=True)
            )
    return {"key_bundle_version": body.expected_version + 1}


@router.get("/devices")
def list_devices(
    who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(devices)
            .where(devices.c.account_id == who.account_id)
            .order_by(devices.c.created_at)
        ).all()
    return {
        "devices": [
            {
                "id": r.id,
                "name": r.name,
                "created_at": r.created_at,
                "last_seen": r.last_seen,
                "revoked": r.revoked,
                "current": r.id == who.device_id,
            }
            for r in rows
        ]
    }


@router.delete("/devices/{device_id}", status_code=204)
def revoke_device(
    device_id: str,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    check_id(device_id, "device id")
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(devices)
            .where(devices.c.id == device_id, devices.c.account_id == who.account_id)
            .values(revoked=True)
        ).rowcount
        if done != 1:
            raise not_found("device")
        audit_log.record(conn, who.account_id, "device_revoked", device_id=device_id)
    return Response(status_code=204)


@router.get("/identities/{email}")
def identity(
    email: str, who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, str]:
    """A user's public identity bundle (clients trust it only through their pins)."""
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(accounts.c.id, accounts.c.email, accounts.c.identity_bundle).where(
                accounts.c.email == _norm(email)
            )
        ).first()
    if row is None:
        raise not_found("identity")
    return {
        "email": row.email,
        "account_id": row.id,
        "identity_bundle": b64encode(row.identity_bundle),
    }


@router.get("/audit")
def read_audit(
    who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(audit).where(audit.c.owner == who.account_id).order_by(audit.c.seq)
        ).all()
    return {
        "entries": [
            {
                "seq": r.seq,
                "at": r.at,
                "event": r.event,
                "detail": json.loads(r.detail),
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }
            for r in rows
        ]
    }


def prune_failures(conn: Connection, window: float) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.at < time.time() - 2 * window))


router.include_router(routes_totp.router)
