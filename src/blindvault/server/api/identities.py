"""Public identity bundles, looked up by email."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from blindvault.server.ca import CaError
from blindvault.server.codec import b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain.emails import normalize_email
from blindvault.server.errors import ApiError, not_found, unavailable
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts
from blindvault.wire.accounts import CaInfo, Identity

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
    answer = {
        "email": row.email,
        "account_id": row.id,
        "identity_bundle": b64encode(row.identity_bundle),
    }
    if ctx.ca is not None:  # an extra signal for clients that pinned the CA, never trust
        try:
            cert = ctx.ca.certificate(row.email, bytes(row.identity_bundle))
        except CaError:
            raise unavailable("certificate authority") from None
        answer["certificate"] = b64encode(cert)
    return answer


@router.get("/ca", response_model=CaInfo)
def certificate_authority(ctx: Ctx) -> dict[str, str]:
    """The CA's self-signed descriptor (public key and policy), for clients to pin."""
    if ctx.ca is None:
        raise ApiError(404, "no_ca", "this server has no certificate authority")
    return {"descriptor": b64encode(ctx.ca.descriptor)}
