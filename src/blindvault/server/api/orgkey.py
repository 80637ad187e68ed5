"""The organisation recovery key (issue 17, part 2).

GET /v1/org-key             anyone: the active key's self-signed document, if any
PUT /v1/account/escrow      the owner, with proof: the vault key sealed to that key
GET /v1/account/escrow      the owner: which key holds an escrow of the account
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from blindvault.server.codec import b64decode, b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import orgkeys
from blindvault.server.domain.proofs import require_proof
from blindvault.server.domain.sessions import own_account
from blindvault.server.storage.db import transaction
from blindvault.wire.recovery import Escrow, EscrowBody, OrgKey

router = APIRouter(prefix="/v1", tags=["recovery"])


@router.get("/org-key", response_model=OrgKey)
def org_key(ctx: Ctx) -> dict[str, Any]:
    """The organisation recovery key, published before signup (clients pin it on consent)."""
    with transaction(ctx.engine) as conn:
        row = orgkeys.active(conn)
    if row is None:
        return {"org_key": None, "document": None}
    return {"org_key": row.id, "document": b64encode(row.document)}


@router.put("/account/escrow", status_code=204)
def put_escrow(body: EscrowBody, request: Request, who: Who, ctx: Ctx) -> None:
    require_proof(ctx, request, own_account(ctx, who.account_id), body.proof)
    escrow = b64decode(body.escrow, "escrow", max_size=4096)
    with transaction(ctx.engine) as conn:
        orgkeys.put_escrow(conn, who.account_id, body.org_key, escrow)


@router.get("/account/escrow", response_model=Escrow)
def get_escrow(who: Who, ctx: Ctx) -> dict[str, str]:
    with transaction(ctx.engine) as conn:
        row = orgkeys.escrow_of(conn, who.account_id)
    return {"org_key": row.org_key, "escrow": b64encode(row.escrow)}
