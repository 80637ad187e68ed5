"""Blobs: a small one in one PUT (up to 8 MiB); read whole or by range; list; delete.
Large blobs arrive in resumable parts (`api.uploads`); many small ones in one batch
(`api.blob_batch`). A half-written blob is never visible."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import delete, select
from starlette.concurrency import run_in_threadpool

from blindvault.server.api.streaming import stream_blob
from blindvault.server.bodies import spool_body
from blindvault.server.deps import BlobId, Ctx, InScope
from blindvault.server.domain.blobwrite import NewBlob, store_blobs
from blindvault.server.domain.links import in_live_link
from blindvault.server.domain.quota import release
from blindvault.server.domain.scopes import Scope, visible
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs
from blindvault.wire.blobs import BlobList, BlobStored

router = APIRouter(prefix="/v1", tags=["blobs"])
_BINARY = {"content": {"application/octet-stream": {}}, "description": "the blob's bytes"}


@router.put("/blobs/{blob_id}", status_code=201, response_model=BlobStored)
async def put_blob(blob_id: BlobId, request: Request, scope: InScope, ctx: Ctx) -> BlobStored:
    """A small blob in one request (up to 8 MiB); visible only once fully stored."""
    scope.check_write()
    with await spool_body(request, ctx.limits.small_blob) as body:
        # written from the spooled file: the body is never held in memory whole
        item = NewBlob(blob_id, body.file, body.size)
        await run_in_threadpool(store_blobs, ctx, scope, [item])
    return BlobStored(blob_id=blob_id, size=item.size)


def _blob(ctx: Ctx, scope: Scope, blob_id: str) -> Any:
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(blobs).where(blobs.c.owner == scope.owner, blobs.c.id == blob_id)
        ).first()
    return visible(scope, row, "blob")


@router.get(
    "/blobs/{blob_id}",
    response_class=StreamingResponse,
    responses={200: _BINARY, 206: {**_BINARY, "description": "one range of the blob"}},
)
async def get_blob(blob_id: BlobId, request: Request, scope: InScope, ctx: Ctx) -> Response:
    # one worker thread for the row and (for a small blob) its bytes
    return await run_in_threadpool(_get, ctx, scope, blob_id, request.headers.get("range"))


def _get(ctx: Ctx, scope: Scope, blob_id: str, range_header: str | None) -> Response:
    return stream_blob(ctx, _blob(ctx, scope, blob_id), range_header)


@router.head("/blobs/{blob_id}", response_class=Response, responses={200: _BINARY})
def head_blob(blob_id: BlobId, scope: InScope, ctx: Ctx) -> Response:
    row = _blob(ctx, scope, blob_id)
    return Response(headers={"Content-Length": str(row.size), "Accept-Ranges": "bytes"})


@router.delete("/blobs/{blob_id}", status_code=204)
def delete_blob(blob_id: BlobId, scope: InScope, ctx: Ctx) -> Response:
    scope.check_write()
    where = [blobs.c.owner == scope.owner, blobs.c.id == blob_id]
    if not scope.own:
        where.append(blobs.c.space == scope.space)
    with transaction(ctx.engine) as conn:
        if in_live_link(conn, scope.owner, blob_id):  # mutant: server.blob-in-link
            raise ApiError(409, "blob_in_link", "a live link serves this blob; revoke it first")
        # only the transaction whose DELETE removed the row releases its size
        row = conn.execute(
            delete(blobs).where(*where).returning(blobs.c.size, blobs.c.storage_key)
        ).first()
        if row is None:
            raise not_found("blob")
        release(conn, scope.owner, row.size)
    ctx.store.delete(row.storage_key)
    return Response(status_code=204)


@router.get("/blobs", response_model=BlobList)
def list_blobs(scope: InScope, ctx: Ctx) -> dict[str, Any]:
    where = [blobs.c.owner == scope.owner]
    if not scope.own:
        where.append(blobs.c.space == scope.space)
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(blobs.c.id, blobs.c.size, blobs.c.created_at).where(*where).order_by(blobs.c.id)
        ).all()
    return {"blobs": [{"id": r.id, "size": r.size, "created_at": r.created_at} for r in rows]}
