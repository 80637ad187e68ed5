"""Blobs: small ones in one PUT, large ones in resumable parts committed atomically;
downloads with HTTP ranges. A half-finished upload is never visible as a blob."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection, delete, select
from starlette.concurrency import run_in_threadpool
from starlette.types import Send

from blindvault.server.access import Scope, resolve_scope, visible
from blindvault.server.blobstore import new_storage_key
from blindvault.server.bodies import spool_body
from blindvault.server.context import ServerContext, check_id, get_context
from blindvault.server.db import insert_if_absent, transaction
from blindvault.server.errors import ApiError, not_found
from blindvault.server.quota import check_objects, release, reserve
from blindvault.server.schema import blobs

router = APIRouter(prefix="/v1", tags=["blobs"])
log = logging.getLogger("blindvault.server")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


# kept for callers that import them from here
_reserve = reserve
_release = release


def _blob_exists(conn: Connection, owner: str, blob_id: str) -> bool:
    row = conn.execute(select(blobs.c.id).where(blobs.c.owner == owner, blobs.c.id == blob_id))
    return row.first() is not None


@router.put("/blobs/{blob_id}", status_code=201)
async def put_blob(
    blob_id: str,
    request: Request,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """A small blob in one request (up to 8 MiB); visible only once fully stored."""
    check_id(blob_id, "blob id")
    scope.check_write()
    with await spool_body(request, ctx.limits.small_blob) as body:
        # written from the spooled file: the body is never held in memory whole
        return await run_in_threadpool(_store_small, ctx, scope, blob_id, body.file, body.size)


def _store_small(
    ctx: ServerContext, scope: Scope, blob_id: str, data: IO[bytes], size: int
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        if _blob_exists(conn, scope.owner, blob_id):
            raise ApiError(409, "conflict", "a blob with this id exists")
        check_objects(conn, scope.owner, 1, ctx.limits.max_objects)
        reserve(conn, scope.owner, size)
    key = new_storage_key()
    try:
        ctx.store.put(key, data)
        with transaction(ctx.engine) as conn:
            row = {
                "owner": scope.owner,
                "id": blob_id,
                "storage_key": key,
                "size": size,
                "created_at": time.time(),
                "space": scope.space,
            }
            if insert_if_absent(conn, blobs, row) != 1:
                raise ApiError(409, "conflict", "a blob with this id exists")
    except BaseException:
        _undo(ctx, scope.owner, key, size)
        raise
    return {"blob_id": blob_id, "size": size}


def _undo(ctx: ServerContext, owner: str, key: str, size: int) -> None:
    try:
        ctx.store.delete(key)
        with transaction(ctx.engine) as conn:
            release(conn, owner, size)
    except ApiError:
        # the store or database is down; an operator's sweep reclaims the space
        log.warning("could not undo a failed blob write")


def _blob(conn: Connection, scope: Scope, blob_id: str) -> Any:
    check_id(blob_id, "blob id")
    row = conn.execute(
        select(blobs).where(blobs.c.owner == scope.owner, blobs.c.id == blob_id)
    ).first()
    return visible(scope, row, "blob")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    if header is None:
        return None
    m = _RANGE.match(header.strip()) if len(header) <= 64 else None  # no 4,300-digit numbers
    if m is None or (not m.group(1) and not m.group(2)):
        raise ApiError(
            416,
            "bad_range",
            "only one bytes=START-END range is supported",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    else:
        start, end = max(0, size - int(m.group(2))), size
    if start >= size or end <= start:
        raise ApiError(
            416, "bad_range", "range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


@router.get("/blobs/{blob_id}", response_class=StreamingResponse)
def get_blob(
    blob_id: str,
    request: Request,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    with transaction(ctx.engine) as conn:
        row = _blob(conn, scope, blob_id)
    return stream_blob(ctx, row, request.headers.get("range"))


def stream_blob(
    ctx: ServerContext,
    row: Any,
    range_header: str | None,
    on_close: Callable[[int], None] | None = None,
) -> Response:
    """The stored bytes of a blob row, whole or one range, streamed from the store;
    `on_close` is told how many bytes were sent once the response ends (or is dropped)."""
    span = parse_range(range_header, row.size)
    start, end = span or (0, row.size)
    first: Iterator[bytes] = ctx.store.read(row.storage_key, start, end)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    if span:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
    if on_close is not None:
        return CountedResponse(
            first,
            on_close,
            status_code=206 if span else 200,
            headers=headers,
            media_type="application/octet-stream",
        )
    return StreamingResponse(
        first,
        status_code=206 if span else 200,
        headers=headers,
        media_type="application/octet-stream",
    )


COUNT_PIECE = 64 << 10


class CountedResponse(StreamingResponse):
    """A streamed body that reports, exactly once and as soon as the response ends (done,
    failed or cancelled by a disconnect), how many bytes it handed to the server. Each
    small piece is counted *before* it leaves, so a client that stops is charged at most
    what reached its socket."""

    def __init__(
        self, chunks: Iterator[bytes], on_close: Callable[[int], None], **kwargs: Any
    ) -> None:
        super().__init__(chunks, **kwargs)
        self.on_close = on_close

    async def stream_response(self, send: Send) -> None:
        sent = 0
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code,
                 "headers": self.raw_headers}
            )  # fmt: skip
            async for chunk in self.body_iterator:
                view = memoryview(chunk.encode() if isinstance(chunk, str) else chunk)
                for at in range(0, len(view), COUNT_PIECE):
                    piece = bytes(view[at : at + COUNT_PIECE])
                    sent += len(piece)
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.on_close(sent)


@router.head("/blobs/{blob_id}", response_class=Response)
def head_blob(
    blob_id: str, scope: Scope = Depends(resolve_scope), ctx: ServerContext = Depends(get_context)
) -> Response:
    with transaction(ctx.engine) as conn:
        row = _blob(conn, scope, blob_id)
    return Response(headers={"Content-Length": str(row.size), "Accept-Ranges": "bytes"})


@router.delete("/blobs/{blob_id}", status_code=204)
def delete_blob(
    blob_id: str, scope: Scope = Depends(resolve_scope), ctx: ServerContext = Depends(get_context)
) -> Response:
    scope.check_write()
    check_id(blob_id, "blob id")
    where = [blobs.c.owner == scope.owner, blobs.c.id == blob_id]
    if not scope.own:
        where.append(blobs.c.space == scope.space)
    with transaction(ctx.engine) as conn:
        # only the transaction whose DELETE removed the row releases its size
        row = conn.execute(
            delete(blobs).where(*where).returning(blobs.c.size, blobs.c.storage_key)
        ).first()
        if row is None:
            raise not_found("blob")
        release(conn, scope.owner, row.size)
    ctx.store.delete(row.storage_key)
    return Response(status_code=204)


def _space_filter(scope: Scope) -> list[Any]:
    return [] if scope.own else [blobs.c.space == scope.space]


@router.get("/blobs")
def list_blobs(
    scope: Scope = Depends(resolve_scope), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(blobs.c.id, blobs.c.size)
            .where(blobs.c.owner == scope.owner, *_space_filter(scope))
            .order_by(blobs.c.id)
        ).all()
    return {"blobs": [{"id": r.id, "size": r.size} for r in rows]}
