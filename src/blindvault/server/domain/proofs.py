"""Fresh proof for account changes, and TOTP codes that are accepted once.

A bearer token alone never changes the key bundle, the KDF, the auth or recovery hash, or
TOTP: the request carries `proof` = the current auth key or the recovery auth key, plus a
TOTP code when TOTP is on. Proofs are checked like logins (same constant-time scrypt
verification, same rate-limit buckets). A TOTP code is accepted only if its time step is
later than the last one accepted for the account, so a code seen once cannot be replayed.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import Connection, update

from blindvault.server.codec import b64decode
from blindvault.server.context import ServerContext
from blindvault.server.domain import ratelimit
from blindvault.server.domain.credentials import DUMMY_HASH, totp_step, verify_secret
from blindvault.server.errors import ApiError, invalid
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import totp_steps
from blindvault.wire.accounts import Proof

__all__ = [
    "Proof",
    "consume_totp",
    "key32",
    "proof_invalid",
    "proof_required",
    "require_proof",
    "reset_totp_step",
]


def key32(value: str, what: str) -> bytes:
    raw = b64decode(value, what, max_size=64)
    if len(raw) != 32:
        raise invalid(f"{what} must be 32 bytes")
    return raw


def proof_required(message: str) -> ApiError:
    return ApiError(403, "proof_required", message)


def proof_invalid() -> ApiError:
    return ApiError(
        403, "proof_invalid", "the proof of the password, recovery key or TOTP code is wrong"
    )


def consume_totp(conn: Connection, account_id: str, secret: str, code: str) -> bool:
    """True if `code` is current for `secret` and its step was never accepted before."""
    step = totp_step(secret, code)
    if step is None:
        return False
    if insert_if_absent(conn, totp_steps, {"account_id": account_id, "last_step": step}):
        return True
    moved = conn.execute(
        update(totp_steps)
        .where(totp_steps.c.account_id == account_id, totp_steps.c.last_step < step)
        .values(last_step=step)
    ).rowcount
    return bool(moved == 1)


def reset_totp_step(conn: Connection, account_id: str, step: int | None) -> None:
    """A new TOTP secret: its enabling code's step is the last one used (None: no TOTP)."""
    conn.execute(totp_steps.delete().where(totp_steps.c.account_id == account_id))
    if step is not None:
        conn.execute(totp_steps.insert().values(account_id=account_id, last_step=step))


def require_proof(ctx: ServerContext, request: Request, row: Any, proof: Proof | None) -> None:
    """Return if `proof` proves the account `row`; else 403 proof_required / proof_invalid."""
    if proof is None:
        raise proof_required("this change needs proof: the current auth key or recovery key")
    if proof.auth_key is not None and proof.recovery_auth_key is not None:
        raise invalid("proof holds either auth_key or recovery_auth_key, not both")
    if proof.auth_key is not None:
        secret, stored = key32(proof.auth_key, "proof.auth_key"), row.auth_hash
    elif proof.recovery_auth_key is not None:
        secret = key32(proof.recovery_auth_key, "proof.recovery_auth_key")
        stored = row.recovery_hash
    else:
        raise proof_required("this change needs proof: the current auth key or recovery key")
    if row.totp_secret and proof.totp is None:
        raise proof_required("TOTP is on: the proof needs a TOTP code")
    address = ratelimit.client_address(request)
    attempt = ratelimit.record(ctx.engine, ratelimit.login_buckets(ctx.limits, row.email, address))
    ratelimit.slow_down_if_needed(ctx.limits, attempt)
    ok = verify_secret(secret, stored or DUMMY_HASH) and bool(stored)
    if ok and row.totp_secret and proof.totp is not None:
        with transaction(ctx.engine) as conn:
            ok = consume_totp(conn, row.id, row.totp_secret, proof.totp)
    if not ok:
        raise proof_invalid()
    ratelimit.forget(ctx.engine, attempt)
