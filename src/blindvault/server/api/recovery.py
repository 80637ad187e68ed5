"""Social recovery routes (issue 17): setup, requests, approvals, vetoes.

PUT  /v1/recovery/setup                      owner, with proof: setup + sealed shares
GET  /v1/recovery/setup                      owner: the setup and its contacts
POST /v1/recovery/requests                   anyone: open a request (returns a token)
POST /v1/recovery/requests/{id}/poll         the requester (token): state, approvals
POST /v1/recovery/requests/{id}/cancel       the requester (token)
POST /v1/recovery/requests/{id}/finish       the requester (token): mark it finished
GET  /v1/recovery/incoming                   a contact: requests naming them
POST /v1/recovery/requests/{id}/approval     a contact: their re-sealed share
GET  /v1/recovery/pending                    the owner: requests against the account
POST /v1/recovery/requests/{id}/veto         the owner: a signed veto
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request

from blindvault.server.codec import b64decode, b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import ratelimit
from blindvault.server.domain import recovery as domain
from blindvault.server.domain.emails import normalize_email
from blindvault.server.domain.proofs import require_proof
from blindvault.server.domain.sessions import own_account
from blindvault.server.errors import invalid, not_found
from blindvault.server.storage.db import transaction
from blindvault.wire.common import ID_PATTERN
from blindvault.wire.recovery import (
    ApprovalBody,
    IncomingList,
    PendingList,
    RequestState,
    SetupAnswer,
    SetupBody,
    StartBody,
    Started,
    TokenBody,
    VetoBody,
)

router = APIRouter(prefix="/v1/recovery", tags=["recovery"])

MAX_OBJECT = 8192
RequestId = Path(pattern=ID_PATTERN)


@router.put("/setup", status_code=204)
def put_setup(body: SetupBody, request: Request, who: Who, ctx: Ctx) -> None:
    """Replace the account's social recovery setup (needs proof, like a key change)."""
    require_proof(ctx, request, own_account(ctx, who.account_id), body.proof)
    setup = b64decode(body.setup, "setup", max_size=MAX_OBJECT)
    shares = [
        (normalize_email(s.contact), b64decode(s.share, "share", max_size=MAX_OBJECT))
        for s in body.shares
    ]
    with transaction(ctx.engine) as conn:
        domain.replace_setup(conn, who.account_id, setup, shares)


@router.get("/setup", response_model=SetupAnswer)
def get_setup(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        found = domain.setup_of(conn, who.account_id)
    if found is None:
        raise not_found("social recovery setup")
    return {"setup": b64encode(found[0]), "contacts": found[1]}


@router.post("/requests", status_code=201, response_model=Started)
def start(body: StartBody, request: Request, ctx: Ctx) -> dict[str, str]:
    """Open a recovery request from a new device (no account session: the password is lost)."""
    key = b64decode(body.device_key, "device_key", max_size=64)
    if len(key) != 32:
        raise invalid("device_key must be 32 bytes")
    address = ratelimit.client_address(request)
    ratelimit.record(ctx.engine, ratelimit.signup_buckets(ctx.limits, address))
    with transaction(ctx.engine) as conn:
        token = domain.open_request(
            conn, normalize_email(body.email), body.request_id, key, address
        )
    return {"request_id": body.request_id, "token": token}


@router.post("/requests/{request_id}/poll", response_model=RequestState)
def poll(body: TokenBody, ctx: Ctx, request_id: str = RequestId) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        row = domain.request_by_token(conn, request_id, body.token)
        approvals = domain.approvals_of(conn, request_id)
        email = domain.email_of(conn, row.owner)
    return {
        "request_id": row.id,
        "email": email,
        "state": row.state,
        "created_at": row.created_at,
        "approvals": [
            {"contact": a["contact"], "approval": b64encode(a["approval"])} for a in approvals
        ],
    }


@router.post("/requests/{request_id}/cancel", status_code=204)
def cancel(body: TokenBody, ctx: Ctx, request_id: str = RequestId) -> None:
    with transaction(ctx.engine) as conn:
        domain.close_request(
            conn, domain.request_by_token(conn, request_id, body.token), "cancelled"
        )


@router.post("/requests/{request_id}/finish", status_code=204)
def finish(body: TokenBody, ctx: Ctx, request_id: str = RequestId) -> None:
    with transaction(ctx.engine) as conn:
        domain.close_request(
            conn, domain.request_by_token(conn, request_id, body.token), "finished"
        )


@router.get("/incoming", response_model=IncomingList)
def incoming(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        found = domain.incoming(conn, who.account_id)
    return {
        "requests": [
            {
                "request_id": f["row"].id,
                "email": f["row"].email,
                "device_key": b64encode(f["row"].device_key),
                "state": f["row"].state,
                "created_at": f["row"].created_at,
                "setup": b64encode(f["row"].setup),
                "share": b64encode(f["row"].share),
                "veto": b64encode(f["row"].veto) if f["row"].veto is not None else None,
                "approved": f["approved"],
            }
            for f in found
        ]
    }


@router.post("/requests/{request_id}/approval", status_code=204)
def approve(body: ApprovalBody, who: Who, ctx: Ctx, request_id: str = RequestId) -> None:
    approval = b64decode(body.approval, "approval", max_size=MAX_OBJECT)
    with transaction(ctx.engine) as conn:
        domain.approve(conn, request_id, who.account_id, approval)


@router.get("/pending", response_model=PendingList)
def pending(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        found = domain.own_requests(conn, who.account_id)
    return {
        "requests": [
            {
                "request_id": f["row"].id,
                "device_key": b64encode(f["row"].device_key),
                "state": f["row"].state,
                "created_at": f["row"].created_at,
                "approvals": f["approvals"],
                "veto": b64encode(f["row"].veto) if f["row"].veto is not None else None,
            }
            for f in found
        ]
    }


@router.post("/requests/{request_id}/veto", status_code=204)
def veto(body: VetoBody, who: Who, ctx: Ctx, request_id: str = RequestId) -> None:
    signed = b64decode(body.veto, "veto", max_size=MAX_OBJECT)
    with transaction(ctx.engine) as conn:
        domain.veto(conn, who.account_id, request_id, signed)
