"""Upload-only links (issue 19): a holder uploads a sealed drop; the owner lists, reads and
removes the drops of their links. A holder can do nothing else through such a link: the
descriptor route (`api.link_access`) answers, every read route finds nothing to serve.

    POST   /v1/l/{link_id}/drops   X-Link-Token; body = one sealed drop (binary)
    GET    /v1/drops               the owner's pending drops (ids, sizes, sealed notes)
    GET    /v1/drops/{id}          the bytes of one (sealed; the owner's client opens it)
    DELETE /v1/drops/{id}          taken or quarantined by the owner: gone, quota released
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from blindvault.server.api.streaming import stream_blob
from blindvault.server.bodies import declared_length, spool_body
from blindvault.server.codec import b64encode
from blindvault.server.deps import BlobId, Ctx, LinkToken, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.drops import (
    check_drop_link,
    check_room,
    drop_limit,
    owner_drop,
    owner_drops,
    remove_drop,
    store_drop,
)
from blindvault.server.domain.links import holder
from blindvault.server.storage.db import transaction
from blindvault.wire.links import DropList, DropStored

router = APIRouter(prefix="/v1", tags=["links"])
_BINARY = {"content": {"application/octet-stream": {}}, "description": "a sealed drop"}


def _link_b64(hex_id: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_id)).rstrip(b"=").decode()


@router.post(
    "/l/{link_id}/drops",
    status_code=201,
    response_model=DropStored,
    openapi_extra={"requestBody": {"required": True, "content": _BINARY["content"]}},
)
async def upload_drop(
    link_id: str,
    request: Request,
    ctx: Ctx,
    x_link_token: LinkToken = None,
) -> DropStored:
    """One sealed drop into an upload-only link, streamed: 410 once revoked, expired or at
    its `max_uploads`; 413 past its size limit; 507 past the owner's quota; 409 for a drop
    uploaded already. Nothing of a refused or cut-short drop is kept."""

    def check() -> Any:
        with transaction(ctx.engine) as conn:
            row = holder(conn, link_id, x_link_token)
            check_drop_link(row)
            limit = drop_limit(row, ctx.limits.max_drop)
            check_room(conn, row.owner, declared_length(request.headers, limit))
        return row

    row = await run_in_threadpool(check)
    with await spool_body(request, drop_limit(row, ctx.limits.max_drop)) as body:
        drop = await run_in_threadpool(store_drop, ctx, row, body.file, body.size)
        size = body.size
    return DropStored(id=drop, size=size)


@router.get("/drops", response_model=DropList)
def list_drops(who: Who, ctx: Ctx) -> dict[str, Any]:
    """The drops waiting in the caller's upload-only links (the owner's client imports them)."""
    with transaction(ctx.engine) as conn:
        rows = owner_drops(conn, who.account_id)
    return {
        "drops": [
            {
                "id": r.id,
                "link": _link_b64(r.link_id),
                "note": None if r.owner_note is None else b64encode(r.owner_note),
                "size": r.size,
                "created_at": r.created_at,
            }
            for r in rows
        ]
    }


@router.get("/drops/{drop}", response_class=StreamingResponse, responses={200: _BINARY})
def read_drop(drop: BlobId, who: Who, ctx: Ctx) -> Response:
    with transaction(ctx.engine) as conn:
        row = owner_drop(conn, who.account_id, drop)
    return stream_blob(ctx, row, None)


@router.delete("/drops/{drop}", status_code=204)
def delete_drop(drop: BlobId, who: Who, ctx: Ctx) -> Response:
    remove_drop(ctx, who.account_id, drop)
    with transaction(ctx.engine) as conn:
        audit_log.record(conn, who.account_id, "drop_removed", drop=drop)
    return Response(status_code=204)
