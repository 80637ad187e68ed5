"""Many small blobs in one request: what a folder of small files costs drops from one
request (and one transaction) per file to one per batch.

    POST /v1/blobs/batch        body = n times (id[32 ASCII hex] || u32 length || bytes)
    POST /v1/blobs/batch-get    {"ids": [...]} → the same framing, for the ids that exist

Uploads are all or nothing: the ids must all be new; the objects are written in parallel
(each durable), then one transaction inserts every row. A failure undoes every object
written and gives the quota back.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from blindvault.server.access import Scope, resolve_scope
from blindvault.server.blobstore import new_storage_key
from blindvault.server.bodies import spool_body
from blindvault.server.context import ServerContext, check_id, get_context
from blindvault.server.db import transaction
from blindvault.server.errors import ApiError, invalid
from blindvault.server.quota import check_objects, release, reserve
from blindvault.server.schema import blobs

router = APIRouter(prefix="/v1", tags=["blobs"])

MAX_ITEMS = 1000
WRITERS = 8  # objects written at once (their fsyncs overlap)
_HEAD = 36


class BatchGet(BaseModel):
    ids: list[str] = Field(max_length=MAX_ITEMS)


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


@router.post("/blobs/batch", status_code=201)
async def put_blobs(
    request: Request,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Store up to 1,000 new blobs (8 MiB in all) at once; all or nothing."""
    scope.check_write()
    with await spool_body(request, ctx.limits.small_blob) as body:
        items = parse_batch(await run_in_threadpool(body.read_all))
    return await run_in_threadpool(_store, ctx, scope, items)


def _store(ctx: ServerContext, scope: Scope, items: list[tuple[str, bytes]]) -> dict[str, Any]:
    total = sum(len(d) for _, d in items)
    ids = [i for i, _ in items]
    with transaction(ctx.engine) as conn:
        taken = conn.execute(
            select(blobs.c.id).where(blobs.c.owner == scope.owner, blobs.c.id.in_(ids))
        ).first()
        if taken is not None:
            raise ApiError(409, "conflict", "a blob with this id exists", extra={"id": taken.id})
        check_objects(conn, scope.owner, len(items), ctx.limits.max_objects)
        reserve(conn, scope.owner, total)
    keys = [new_storage_key() for _ in items]
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            list(pool.map(ctx.store.put, keys, [d for _, d in items]))
        now = time.time()
        rows = [
            {"owner": scope.owner, "id": i, "storage_key": k, "size": len(d),
             "created_at": now, "space": scope.space}
            for (i, d), k in zip(items, keys, strict=True)
        ]  # fmt: skip
        try:
            with transaction(ctx.engine) as conn:
                conn.execute(insert(blobs), rows)
        except IntegrityError:  # a concurrent request took one of the ids
            raise ApiError(409, "conflict", "a blob with this id exists") from None
    except BaseException:
        _undo(ctx, scope.owner, keys, total)
        raise
    return {"stored": len(items), "size": total}


def _undo(ctx: ServerContext, owner: str, keys: list[str], total: int) -> None:
    try:
        for key in keys:
            ctx.store.delete(key)
        with transaction(ctx.engine) as conn:
            release(conn, owner, total)
    except ApiError:
        pass  # the store or database is down; an operator's sweep reclaims the space


@router.post(
    "/blobs/batch-get",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "framed blobs"}},
)
def get_blobs(
    body: BatchGet,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> Response:
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
