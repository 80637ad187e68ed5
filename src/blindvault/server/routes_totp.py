"""TOTP on and off: both need fresh proof of the account (and of the current TOTP code).

Included by `routes_accounts.router` (same /v1 prefix, same tag).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from blindvault.server import audit as audit_log
from blindvault.server.context import Principal, ServerContext, authenticate, get_context
from blindvault.server.db import transaction
from blindvault.server.errors import ApiError, invalid
from blindvault.server.proofs import Proof, proof_invalid, require_proof, reset_totp_step
from blindvault.server.schema import accounts
from blindvault.server.security import totp_step

router = APIRouter(tags=["accounts"])


class Totp(BaseModel):
    secret: str = Field(pattern=r"^(?:[A-Z2-7]{8}){2,8}$", description="base32, no padding")
    code: str = Field(pattern=r"^[0-9]{6}$", description="a current code of the new secret")
    proof: Proof | None = None


class TotpOff(BaseModel):
    proof: Proof | None = None
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="deprecated: use proof.totp"
    )


def _own_account(ctx: ServerContext, who: Principal) -> Any:
    with transaction(ctx.engine) as conn:
        return conn.execute(select(accounts).where(accounts.c.id == who.account_id)).one()


@router.put("/account/totp", status_code=204)
def enable_totp(
    body: Totp,
    request: Request,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    """Set (or replace) the TOTP secret: `code` proves the new secret, `proof` the account."""
    step = totp_step(body.secret, body.code)
    if step is None:
        raise invalid("the code does not match the secret")
    row = _own_account(ctx, who)
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
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    """Turn TOTP off: `proof` with the password (or recovery) key and a current TOTP code."""
    row = _own_account(ctx, who)
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
