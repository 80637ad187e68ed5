"""Many small blobs in one request: what a folder of small files costs drops from one
request (and one transaction) per file to one per batch.

    POST /v1/blobs/batch        body = n times (id[32 ASCII hex] || u32 length || bytes)
    POST /v1/blobs/batch-get    {"ids": [...]} → the same framing, for the ids that exist

Uploads are all or nothing, through the same write path as a single blob
(`domain.blobwrite`): the ids must all be new; the objects are written in parallel (each
durable), then one transaction inserts every row. A failure undoes every object written
and gives the quota back.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from blindvault.server.bodies import spool_body
from blindvault.server.codec import check_id
from blindvault.server.deps import Ctx, InScope
from blindvault.server.domain.blobwrite import WRITERS, NewBlob, store_blobs
from blindvault.server.errors import ApiError, invalid
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs
from blindvault.wire.blobs import MAX_BATCH_ITEMS, BlobBatchGet, BlobBatchStored

router = APIRouter(prefix="/v1", tags=["blobs"])

MAX_ITEMS = MAX_BATCH_ITEMS
_HEAD = 36


def parse_batch(data: bytes) -> list[tuple[str, bytes]]:
    """The (id, bytes) items of a batch body; 400 on anything malformed."""
    items: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    pos = 0
    while pos < len(data):
        if len(data) - pos < _HEAD:
            raise invalid("truncated batch")
        blob_id = data[pos : pos + 32].decode("ascii", "replace")
        check_id(blob_id, "blob id")
        size = int.from_bytes(data[pos + 32 : pos + _HEAD], "big")
        pos += _HEAD
        if len(data) - pos < size:
            raise invalid("truncated batch")
        if blob_id in seen:
            raise invalid("a blob id twice in one batch")
        seen.add(blob_id)
        items.append((blob_id, data[pos : pos + size]))
        pos += size
        if len(items) > MAX_ITEMS:
            raise invalid(f"at most {MAX_ITEMS} blobs per batch")
    if not items:
        raise invalid("an empty batch")
    return items


def frame(items: list[tuple[str, bytes]]) -> bytes:
    return b"".join(i.encode("ascii") + len(d).to_bytes(4, "big") + d for i, d in items)


@router.post("/blobs/batch", status_code=201, response_model=BlobBatchStored)
async def put_blobs(request: Request, scope: InScope, ctx: Ctx) -> BlobBatchStored:
    """Store up to 1,000 new blobs (8 MiB in all) at once; all or nothing."""
    scope.check_write()
    with await spool_body(request, ctx.limits.small_blob) as body:
        items = parse_batch(await run_in_threadpool(body.read_all))
    news = [NewBlob(blob_id, data, len(data)) for blob_id, data in items]
    total = await run_in_threadpool(store_blobs, ctx, scope, news)
    return BlobBatchStored(stored=len(news), size=total)


@router.post(
    "/blobs/batch-get",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "framed blobs"}},
)
def get_blobs(body: BlobBatchGet, scope: InScope, ctx: Ctx) -> Response:
    """Up to 1,000 blobs of at most 8 MiB in all, framed as in an upload batch; ids that
    do not exist (or are not visible) are left out, so the answer is no oracle."""
    for i in body.ids:
        check_id(i, "blob id")
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(blobs.c.id, blobs.c.storage_key, blobs.c.size, blobs.c.space).where(
                blobs.c.owner == scope.owner, blobs.c.id.in_(body.ids)
            )
        ).all()
    wanted = [r for r in rows if scope.sees(r.space)]
    if sum(r.size for r in wanted) > ctx.limits.small_blob:
        raise ApiError(413, "too_large", "ask for fewer blobs at once")

    def read(row: Any) -> tuple[str, bytes]:
        return row.id, b"".join(ctx.store.read(row.storage_key, 0, row.size))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        items = list(pool.map(read, wanted))
    return Response(frame(items), media_type="application/octet-stream")
