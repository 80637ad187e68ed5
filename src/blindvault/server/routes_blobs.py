"""Blobs: small ones in one PUT, large ones in resumable parts committed atomically;
downloads with HTTP ranges. A half-finished upload is never visible as a blob."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection, delete, insert, select, update
from starlette.concurrency import run_in_threadpool

from blindvault.server.access import Scope, resolve_scope, visible
from blindvault.server.blobstore import MissingPartsError, new_storage_key
from blindvault.server.context import (
    ServerContext,
    check_id,
    get_context,
    read_body,
)
from blindvault.server.db import insert_if_absent, transaction
from blindvault.server.errors import ApiError, invalid
from blindvault.server.schema import accounts, blobs, upload_parts, uploads

router = APIRouter(prefix="/v1", tags=["blobs"])
log = logging.getLogger("blindvault.server")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UploadStart(BaseModel):
    blob_id: str
    size: int = Field(ge=0)


def _reserve(conn: Connection, account_id: str, size: int) -> None:
    done = conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.used_bytes + size <= accounts.c.quota_bytes)
        .values(used_bytes=accounts.c.used_bytes + size)
    ).rowcount
    if done != 1:
        raise ApiError(507, "quota_exceeded", "this upload would exceed the account's quota")


def _release(conn: Connection, account_id: str, size: int) -> None:
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(used_bytes=accounts.c.used_bytes - size)
    )


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
    data = await read_body(request, ctx.limits.small_blob)
    return await run_in_threadpool(_store_small, ctx, scope, blob_id, data)


def _store_small(ctx: ServerContext, scope: Scope, blob_id: str, data: bytes) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        if _blob_exists(conn, scope.owner, blob_id):
            raise ApiError(409, "conflict", "a blob with this id exists")
        _reserve(conn, scope.owner, len(data))
    key = new_storage_key()
    try:
        ctx.store.put(key, data)
        with transaction(ctx.engine) as conn:
            row = {
                "owner": scope.owner,
                "id": blob_id,
                "storage_key": key,
                "size": len(data),
                "created_at": time.time(),
                "space": scope.space,
            }
            if insert_if_absent(conn, blobs, row) != 1:
                raise ApiError(409, "conflict", "a blob with this id exists")
    except BaseException:
        _undo(ctx, scope.owner, key, len(data))
        raise
    return {"blob_id": blob_id, "size": len(data)}


def _undo(ctx: ServerContext, owner: str, key: str, size: int) -> None:
    try:
        ctx.store.delete(key)
        with transaction(ctx.engine) as conn:
            _release(conn, owner, size)
    except ApiError:
        # the store or database is down; an operator's sweep reclaims the space
        log.warning("could not undo a failed blob write")


def _sweep_stale_uploads(ctx: ServerContext, owner: str) -> None:
    """Abort this account's uploads older than the TTL and give their quota back."""
    cutoff = time.time() - ctx.limits.upload_ttl
    with transaction(ctx.engine) as conn:
        stale = conn.execute(
            select(uploads).where(uploads.c.owner == owner, uploads.c.created_at < cutoff)
        ).all()
        for up in stale:
            conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == up.id))
            conn.execute(delete(uploads).where(uploads.c.id == up.id))
            _release(conn, owner, up.size)
    for up in stale:
        ctx.store.abort(up.storage_key, up.store_handle)


@router.post("/uploads", status_code=201)
def start_upload(
    body: UploadStart,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    check_id(body.blob_id, "blob id")
    scope.check_write()
    if body.size > ctx.limits.max_blob:
        raise ApiError(413, "too_large", "blob larger than the server accepts")
    _sweep_stale_uploads(ctx, scope.owner)
    key = new_storage_key()
    with transaction(ctx.engine) as conn:
        if _blob_exists(conn, scope.owner, body.blob_id):
            raise ApiError(409, "conflict", "a blob with this id exists")
        _reserve(conn, scope.owner, body.size)
    try:
        handle = ctx.store.begin(key)
    except BaseException:
        with transaction(ctx.engine) as conn:
            _release(conn, scope.owner, body.size)
        raise
    upload_id = new_storage_key()[:32]
    part = ctx.limits.part_size
    with transaction(ctx.engine) as conn:
        conn.execute(
            insert(uploads).values(
                id=upload_id,
                owner=scope.owner,
                blob_id=body.blob_id,
                size=body.size,
                part_size=part,
                storage_key=key,
                store_handle=handle,
                created_at=time.time(),
                space=scope.space,
            )
        )
    return {"upload_id": upload_id, "part_size": part, "parts": max(1, -(-body.size // part))}


def _upload(conn: Connection, scope: Scope, upload_id: str) -> Any:
    check_id(upload_id, "upload id")
    row = conn.execute(
        select(uploads).where(uploads.c.id == upload_id, uploads.c.owner == scope.owner)
    ).first()
    return visible(scope, row, "upload")


@router.get("/uploads/{upload_id}")
def upload_status(
    upload_id: str,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """What has arrived so far: an interrupted client resumes from here."""
    with transaction(ctx.engine) as conn:
        up = _upload(conn, scope, upload_id)
        parts = conn.execute(
            select(upload_parts.c.number, upload_parts.c.size)
            .where(upload_parts.c.upload_id == upload_id)
            .order_by(upload_parts.c.number)
        ).all()
    return {
        "upload_id": upload_id,
        "blob_id": up.blob_id,
        "size": up.size,
        "part_size": up.part_size,
        "received": [{"number": p.number, "size": p.size} for p in parts],
    }


def _expected_part_size(up: Any, number: int) -> int:
    count = max(1, -(-up.size // up.part_size))
    if not 1 <= number <= count:
        raise invalid(f"part number must be 1..{count}")
    return int(up.part_size if number < count else up.size - up.part_size * (count - 1))


@router.put("/uploads/{upload_id}/parts/{number}")
async def put_part(
    upload_id: str,
    number: int,
    request: Request,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Store one part (idempotent: sending a part again replaces it)."""
    scope.check_write()
    up = await run_in_threadpool(_load_upload, ctx, scope, upload_id)
    want = _expected_part_size(up, number)
    data = await read_body(request, want)
    if len(data) != want:
        raise invalid(f"part {number} must be exactly {want} bytes")
    return await run_in_threadpool(_store_part, ctx, up, number, data)


def _load_upload(ctx: ServerContext, scope: Scope, upload_id: str) -> Any:
    with transaction(ctx.engine) as conn:
        return _upload(conn, scope, upload_id)


def _store_part(ctx: ServerContext, up: Any, number: int, data: bytes) -> dict[str, Any]:
    offset = (number - 1) * up.part_size
    etag = ctx.store.put_part(up.storage_key, up.store_handle, number, data, offset)
    with transaction(ctx.engine) as conn:
        conn.execute(
            delete(upload_parts).where(
                upload_parts.c.upload_id == up.id, upload_parts.c.number == number
            )
        )
        conn.execute(
            insert(upload_parts).values(upload_id=up.id, number=number, size=len(data), etag=etag)
        )
    return {"number": number, "size": len(data)}


@router.post("/uploads/{upload_id}/commit", status_code=201)
def commit_upload(
    upload_id: str,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Make the blob visible, atomically, once every part has arrived."""
    scope.check_write()
    with transaction(ctx.engine) as conn:
        up = _upload(conn, scope, upload_id)
        parts = conn.execute(
            select(upload_parts).where(upload_parts.c.upload_id == upload_id)
        ).all()
    count = max(1, -(-up.size // up.part_size))
    have = {p.number: p for p in parts}
    missing = [n for n in range(1, count + 1) if n not in have]
    if missing:
        raise ApiError(
            409, "incomplete_upload", "parts are missing", extra={"missing": missing[:100]}
        )
    if up.size == 0 and not parts:
        ctx.store.put(up.storage_key, b"")
    else:
        try:
            ctx.store.complete(up.storage_key, up.store_handle, [(p.number, p.etag) for p in parts])
        except MissingPartsError as lost:
            with transaction(ctx.engine) as conn:
                conn.execute(
                    delete(upload_parts).where(
                        upload_parts.c.upload_id == upload_id,
                        upload_parts.c.number.in_(lost.numbers),
                    )
                )
            raise ApiError(
                409, "incomplete_upload", "parts are missing", extra={"missing": lost.numbers[:100]}
            ) from None
    with transaction(ctx.engine) as conn:
        row = {
            "owner": scope.owner,
            "id": up.blob_id,
            "storage_key": up.storage_key,
            "size": up.size,
            "created_at": time.time(),
            "space": up.space,
        }
        if insert_if_absent(conn, blobs, row) != 1:
            raise ApiError(409, "conflict", "a blob with this id exists")
        conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
        conn.execute(delete(uploads).where(uploads.c.id == upload_id))
    return {"blob_id": up.blob_id, "size": up.size}


@router.delete("/uploads/{upload_id}", status_code=204)
def abort_upload(
    upload_id: str,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    scope.check_write()
    with transaction(ctx.engine) as conn:
        up = _upload(conn, scope, upload_id)
        conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
        conn.execute(delete(uploads).where(uploads.c.id == upload_id))
        _release(conn, scope.owner, up.size)
    ctx.store.abort(up.storage_key, up.store_handle)
    return Response(status_code=204)


def _blob(conn: Connection, scope: Scope, blob_id: str) -> Any:
    check_id(blob_id, "blob id")
    row = conn.execute(
        select(blobs).where(blobs.c.owner == scope.owner, blobs.c.id == blob_id)
    ).first()
    return visible(scope, row, "blob")


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    if header is None:
        return None
    m = _RANGE.match(header.strip())
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


def stream_blob(ctx: ServerContext, row: Any, range_header: str | None) -> Response:
    """The stored bytes of a blob row, whole or one range, streamed from the store."""
    span = _range(range_header, row.size)
    start, end = span or (0, row.size)
    first: Iterator[bytes] = ctx.store.read(row.storage_key, start, end)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    if span:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
    return StreamingResponse(
        first,
        status_code=206 if span else 200,
        headers=headers,
        media_type="application/octet-stream",
    )


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
    with transaction(ctx.engine) as conn:
        row = _blob(conn, scope, blob_id)
        conn.execute(delete(blobs).where(blobs.c.owner == scope.owner, blobs.c.id == blob_id))
        _release(conn, scope.owner, row.size)
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
