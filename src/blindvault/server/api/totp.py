"""TOTP on and off: both need fresh proof of the account (and of the current TOTP code)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import update

from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.credentials import totp_step
from blindvault.server.domain.proofs import proof_invalid, require_proof, reset_totp_step
from blindvault.server.domain.sessions import own_account
from blindvault.server.errors import ApiError, invalid
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts
from blindvault.wire.accounts import Totp, TotpOff

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.put("/account/totp", status_code=204)
def enable_totp(
    body: Totp,
    request: Request,
    who: Who,
    ctx: Ctx,
) -> Response:
    """Set (or replace) the TOTP secret: `code` proves the new secret, `proof` the account."""
    step = totp_step(body.secret, body.code)
    if step is None:
        raise invalid("the code does not match the secret")
    row = own_account(ctx, who.account_id)
    require_proof(ctx, request, row, body.proof)
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(accounts)
            .where(accounts.c.id == who.account_id, _same_totp(row.totp_secret))
            .values(totp_secret=body.secret)
        ).rowcount
        if done != 1:
            raise ApiError(409, "conflict", "the TOTP setting changed meanwhile")
        reset_totp_step(conn, who.account_id, step)
        audit_log.record(
            conn, who.account_id, "totp_replaced" if row.totp_secret else "totp_enabled"
        )
    return Response(status_code=204)


def _same_totp(secret: str | None) -> Any:
    column = accounts.c.totp_secret
    return column.is_(None) if secret is None else column == secret


@router.delete("/account/totp", status_code=204)
def disable_totp(
    body: TotpOff,
    request: Request,
    who: Who,
    ctx: Ctx,
) -> Response:
    """Turn TOTP off: `proof` with the password (or recovery) key and a current TOTP code."""
    row = own_account(ctx, who.account_id)
    if row.totp_secret is None:
        raise invalid("TOTP is not enabled")
    proof = body.proof
    if proof is not None and proof.totp is None and body.code is not None:
        proof = proof.model_copy(update={"totp": body.code})
    require_proof(ctx, request, row, proof)
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(accounts)
            .where(accounts.c.id == who.account_id, _same_totp(row.totp_secret))
            .values(totp_secret=None)
        ).rowcount
        if done != 1:
            raise proof_invalid()
        reset_totp_step(conn, who.account_id, None)
        audit_log.record(conn, who.account_id, "totp_disabled")
    return Response(status_code=204)
