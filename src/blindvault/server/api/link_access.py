"""Share links, a holder's side: the token in `X-Link-Token` (never in the URL, so it is in
no access log) opens the sealed descriptor, the snapshot's manifests and the listed blobs.
An unknown link and a wrong token get the same 404 (`domain.links.holder`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from blindvault.server.api.streaming import parse_range, stream_blob
from blindvault.server.codec import b64encode
from blindvault.server.deps import Ctx, LinkToken, NodeId
from blindvault.server.domain.links import Refund, charge, holder, listed
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs, link_records
from blindvault.wire.links import LinkManifest, LinkOpened

router = APIRouter(prefix="/v1", tags=["links"])
_BINARY = {"content": {"application/octet-stream": {}}, "description": "the blob's bytes"}


@router.get("/l/{link_id}", response_model=LinkOpened)
def open_link(
    link_id: str,
    ctx: Ctx,
    x_link_token: LinkToken = None,
) -> dict[str, Any]:
    """The sealed descriptor, for a holder of the link's token."""
    with transaction(ctx.engine) as conn:
        row = holder(conn, link_id, x_link_token)
    left = None if row.max_downloads is None else row.max_downloads - row.downloads
    uploads_left = None if row.max_uploads is None else row.max_uploads - row.uploads
    biggest = min(row.max_drop_size or ctx.limits.max_drop, ctx.limits.max_drop)
    return {
        "uploads_left": uploads_left,
        "max_drop_size": biggest if row.kind == "drop" else None,
        "descriptor": b64encode(row.descriptor),
        "kind": row.kind,
        "expires_at": row.expires_at,
        "downloads_left": left,
        "password": row.password,
    }


@router.get("/l/{link_id}/manifest/{node_id}", response_model=LinkManifest)
def link_manifest(
    link_id: str,
    node_id: NodeId,
    ctx: Ctx,
    x_link_token: LinkToken = None,
) -> dict[str, Any]:
    """A manifest of the link's snapshot (never a live manifest of the owner's tree)."""
    with transaction(ctx.engine) as conn:
        row = holder(conn, link_id, x_link_token)
        rec = conn.execute(
            select(link_records.c.data).where(
                link_records.c.link_id == row.id, link_records.c.id == node_id
            )
        ).first()
    if rec is None:
        raise not_found("folder")
    return {"version": 1, "data": b64encode(rec.data)}


@router.get(
    "/l/{link_id}/blob/{blob_id}",
    response_class=StreamingResponse,
    responses={200: _BINARY, 206: {**_BINARY, "description": "one range of the blob"}},
)
def link_blob(
    link_id: str,
    blob_id: str,
    request: Request,
    ctx: Ctx,
    x_link_token: LinkToken = None,
) -> Response:
    """A listed blob, whole or one range. The download limit counts bytes: every request
    reserves the bytes it will send against `max_downloads` x the blob's size (per blob),
    and gives back what it did not send, so no Range header (`bytes=-N`, `bytes=1-`, …)
    gets a file more often than allowed, while a resumed download costs only its rest."""
    range_header = request.headers.get("range")
    with transaction(ctx.engine) as conn:
        row = holder(conn, link_id, x_link_token)
        listed(conn, row.id, "blob", blob_id)
        blob = conn.execute(
            select(blobs).where(blobs.c.owner == row.owner, blobs.c.id == blob_id)
        ).first()
        if blob is None:
            raise ApiError(404, "not_found", "this file is no longer available")
        span = parse_range(range_header, blob.size) or (0, blob.size)
        wanted = span[1] - span[0]
        charge(conn, row, blob_id, blob.size, wanted)
    refund = Refund(ctx, row, blob_id, blob.size, wanted) if row.max_downloads else None
    return stream_blob(ctx, blob, range_header, on_close=refund)
