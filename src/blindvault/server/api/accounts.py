"""Accounts: prelogin, signup, the account itself and its key bundle."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from blindvault.server.codec import b64decode, b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain import invites, keyhistory, ratelimit
from blindvault.server.domain.credentials import hash_secret, verify_secret
from blindvault.server.domain.emails import normalize_email
from blindvault.server.domain.kdfparams import DEFAULT_KDF, check_kdf, kdf_answer
from blindvault.server.domain.proofs import key32, require_proof
from blindvault.server.domain.sessions import own_account
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts, devices
from blindvault.wire.accounts import (
    Account,
    Email,
    KeyChange,
    KeysChanged,
    Prelogin,
    SignedUp,
    Signup,
)

router = APIRouter(prefix="/v1", tags=["accounts"])

BUNDLE_MAX = 64 * 1024


@router.post("/prelogin", response_model=Prelogin)
def prelogin(body: Email, ctx: Ctx) -> dict[str, Any]:
    """The account's KDF parameters; stable defaults for unknown emails (no oracle)."""
    email = normalize_email(body.email)
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts.c.kdf).where(accounts.c.email == email)).first()
    return {"kdf": kdf_answer(row.kdf if row else json.dumps(DEFAULT_KDF))}


@router.post("/accounts", status_code=201, response_model=SignedUp)
def signup(body: Signup, request: Request, ctx: Ctx) -> dict[str, str]:
    email = normalize_email(body.email)
    invite = invites.signup_allowed(ctx, body.invite)
    kdf = check_kdf(body.kdf)
    auth = key32(body.auth_key, "auth_key")
    recovery = (
        key32(body.recovery_auth_key, "recovery_auth_key") if body.recovery_auth_key else None
    )
    bundle = b64decode(body.key_bundle, "key_bundle", max_size=BUNDLE_MAX)
    identity = b64decode(body.identity_bundle, "identity_bundle", max_size=BUNDLE_MAX)
    account_id = hashlib.sha256(b"blindvault-server-account:" + email.encode()).hexdigest()[:32]
    address = ratelimit.client_address(request)
    # counted before anything is hashed; then the cheap existence check, then the hashes
    ratelimit.record(ctx.engine, ratelimit.signup_buckets(ctx.limits, address))
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
            audit_log.record(conn, account_id, "signup", address=address)
            audit_log.record(conn, account_id, "key_bundle_changed", version=1)
    except IntegrityError:
        raise ApiError(409, "conflict", "an account with this email exists") from None
    return {"account_id": account_id}


@router.get("/account", response_model=Account)
def account(who: Who, ctx: Ctx) -> dict[str, Any]:
    row = own_account(ctx, who.account_id)
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


def _new_values(body: KeyChange) -> dict[str, Any]:
    """The account columns a key change writes (hashes computed here, before the CAS)."""
    bundle = b64decode(body.key_bundle, "key_bundle", max_size=BUNDLE_MAX)
    values: dict[str, Any] = {"key_bundle": bundle, "key_bundle_version": body.expected_version + 1}
    if body.kdf is not None:
        values["kdf"] = check_kdf(body.kdf)
    if body.auth_key is not None:
        values["auth_hash"] = hash_secret(key32(body.auth_key, "auth_key"))
    if body.recovery_auth_key is not None:
        values["recovery_hash"] = hash_secret(key32(body.recovery_auth_key, "recovery_auth_key"))
    return values


def _new_password(body: KeyChange, before: Any) -> bool:
    """The change sets another auth key than the stored one: the password (or the KDF)
    changed, not only the recovery words (those re-send the same auth key)."""
    if body.auth_key is None:
        return False
    return not verify_secret(key32(body.auth_key, "auth_key"), before.auth_hash or "")


@router.put("/account/keys", response_model=KeysChanged)
def change_keys(body: KeyChange, request: Request, who: Who, ctx: Ctx) -> dict[str, int]:
    """Replace the key bundle by compare-and-swap (password change, new recovery words).

    Needs `proof` (current auth key or recovery auth key, + TOTP code when on); the
    replaced bundle, KDF and hashes are kept in the key history."""
    require_proof(ctx, request, own_account(ctx, who.account_id), body.proof)
    values = _new_values(body)
    mine = (accounts.c.id == who.account_id,
            accounts.c.key_bundle_version == body.expected_version)  # fmt: skip
    with transaction(ctx.engine) as conn:
        before = conn.execute(select(accounts).where(*mine)).first()
        done = conn.execute(update(accounts).where(*mine).values(**values)).rowcount
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
            password="auth_hash" in values,
            recovery="recovery_hash" in values,
        )
        if _new_password(body, before):
            by_words = body.proof is not None and body.proof.recovery_auth_key is not None
            how = "recovery_key" if by_words else "password"
            audit_log.record(conn, who.account_id, "password_changed", proof=how)
        if "auth_hash" in values:  # a password change signs every other device out
            conn.execute(
                update(devices)
                .where(devices.c.account_id == who.account_id, devices.c.id != who.device_id)
                .values(revoked=True)
            )
    return {"key_bundle_version": body.expected_version + 1}
