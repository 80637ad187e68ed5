"""The pairing relay (issue 17): `blindvault devices add` ↔ `blindvault login --pair`.

The signed-in device (token) opens a mailbox and drives it; the new device (no token yet)
reads the offer, joins once, and collects the sealed payload with the claim it got. The
server sees SPAKE2 messages, a tag and ciphertext only (`domain.pairing`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from blindvault.server.codec import b64decode, b64encode
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import pairing, ratelimit
from blindvault.server.domain.emails import check_text
from blindvault.server.storage.db import transaction
from blindvault.wire.accounts import Session
from blindvault.wire.pairing import (
    CHANNEL_PATTERN,
    PairingClaim,
    PairingDelivery,
    PairingJoin,
    PairingOffer,
    PairingOpen,
    PairingOpened,
    PairingPayload,
    PairingStatus,
)

router = APIRouter(prefix="/v1", tags=["pairing"])
Channel = Annotated[str, Path(pattern=CHANNEL_PATTERN, description="the code's digits")]
_MESSAGE = 256
_PAYLOAD = 2 << 20


@router.post("/pairings", status_code=201, response_model=PairingOpened)
def open_pairing(body: PairingOpen, who: Who, ctx: Ctx) -> dict[str, Any]:
    """Open a one-shot mailbox with the signed-in device's SPAKE2 message."""
    message = b64decode(body.message, "message", max_size=_MESSAGE)
    with transaction(ctx.engine) as conn:
        channel, expires = pairing.open_mailbox(conn, who.account_id, message)
    return {"channel": channel, "expires_at": expires}


@router.get("/pairings/{channel}", response_model=PairingOffer)
def read_offer(channel: Channel, ctx: Ctx) -> dict[str, Any]:
    """The signed-in device's SPAKE2 message (no token: the new device has none yet)."""
    with transaction(ctx.engine) as conn:
        return {"message": b64encode(pairing.offer(conn, channel))}


@router.post("/pairings/{channel}/join", response_model=PairingClaim)
def join_pairing(channel: Channel, body: PairingJoin, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The one join of the mailbox: 410 `pairing_gone` for any later one. Joins are
    limited per address (each one spends somebody's code), like failed logins."""
    message = b64decode(body.message, "message", max_size=_MESSAGE)
    confirm = b64decode(body.confirm, "confirm", max_size=64)
    check_text(body.device_name, "device_name")
    address = ratelimit.client_address(request)
    limits = ctx.limits
    bucket = ratelimit.Bucket(f"pairing:{address}", limits.address_failures, limits.login_window)
    ratelimit.record(ctx.engine, [bucket])  # mutant: server.pairing-join-rate
    with transaction(ctx.engine) as conn:
        claim = pairing.join(conn, channel, message, confirm, body.device_name)
    return {"claim": claim}


@router.get("/pairings/{channel}/status", response_model=PairingStatus)
def pairing_status(channel: Channel, who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        answer = pairing.status(conn, channel, who.account_id)
    for key in ("message", "confirm"):
        if answer.get(key) is not None:
            answer[key] = b64encode(answer[key])
    return answer


@router.post("/pairings/{channel}/accept", status_code=201, response_model=Session)
def accept_pairing(channel: Channel, request: Request, who: Who, ctx: Ctx) -> Session:
    """The new device's own session, for the signed-in device to seal into the payload."""
    address = ratelimit.client_address(request)
    with transaction(ctx.engine) as conn:
        return pairing.accept(conn, channel, who.account_id, address)


@router.put("/pairings/{channel}/payload", status_code=204)
def put_payload(channel: Channel, body: PairingPayload, who: Who, ctx: Ctx) -> Response:
    sealed = b64decode(body.sealed, "sealed", max_size=_PAYLOAD)
    with transaction(ctx.engine) as conn:
        pairing.store_payload(conn, channel, who.account_id, sealed)
    return Response(status_code=204)


@router.post("/pairings/{channel}/fail", status_code=204)
def fail_pairing(channel: Channel, who: Who, ctx: Ctx) -> Response:
    """End the pairing (wrong code, or refused): the mailbox closes, for good."""
    with transaction(ctx.engine) as conn:
        pairing.fail(conn, channel, who.account_id)
    return Response(status_code=204)


@router.post("/pairings/{channel}/receive", response_model=PairingDelivery)
def receive_payload(channel: Channel, body: PairingClaim, ctx: Ctx) -> dict[str, Any]:
    """The sealed payload, once, to the joiner (`state: waiting` until it is there)."""
    with transaction(ctx.engine) as conn:
        sealed = pairing.deliver(conn, channel, body.claim)
    if sealed is None:
        return {"state": "waiting"}
    return {"state": "sealed", "sealed": b64encode(sealed)}


@router.post("/pairings/{channel}/abandon", status_code=204)
def abandon_pairing(channel: Channel, body: PairingClaim, ctx: Ctx) -> Response:
    """The new device could not verify what it got: the pairing fails, its device row
    (if any) is revoked."""
    with transaction(ctx.engine) as conn:
        pairing.abandon(conn, channel, body.claim)
    return Response(status_code=204)
