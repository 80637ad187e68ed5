"""Public identity bundles, looked up by email."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from blindvault.server.codec import b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain.emails import normalize_email
from blindvault.server.errors import not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts
from blindvault.wire.accounts import Identity

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/identities/{email}", response_model=Identity)
def identity(email: str, who: Who, ctx: Ctx) -> dict[str, str]:
    """A user's public identity bundle (clients trust it only through their pins)."""
    del who  # authenticated callers only
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(accounts.c.id, accounts.c.email, accounts.c.identity_bundle).where(
                accounts.c.email == normalize_email(email)
            )
        ).first()
    if row is None:
        raise not_found("identity")
    return {
        "email": row.email,
        "account_id": row.id,
        "identity_bundle": b64encode(row.identity_bundle),
    }
