"""Large blobs in resumable parts, committed atomically.

An upload's row holds its quota reservation. Its `state` makes commit safe to repeat:
"open" → "committing" (exactly one commit wins the claim, by one conditional UPDATE, and
only that one writes the object) → "committed" (the blob row now owns bytes and quota; the
upload row stays until the TTL so a repeated commit answers 201 again). Abort and the
stale-upload sweep delete only open rows, and release only what their own
`DELETE … RETURNING` removed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import IO, Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from blindvault.server.context import ServerContext
from blindvault.server.domain.quota import check_objects, release, reserve
from blindvault.server.domain.scopes import Scope, visible
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.blobstore import MissingPartsError, PartStreamer, new_storage_key
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import blobs, upload_parts, uploads

OPEN, COMMITTING, COMMITTED = "open", "committing", "committed"
CLAIM_SECONDS = 600.0  # a commit claim older than this (its process died) may be retaken


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def sweep_stale_uploads(ctx: ServerContext, owner: str | None = None) -> int:
    """Abort open uploads older than the TTL (releasing what each DELETE removed) and
    forget committed ones; `owner` None sweeps every account. Returns uploads removed."""
    cutoff = time.time() - ctx.limits.upload_ttl
    where = [uploads.c.created_at < cutoff]
    if owner is not None:
        where.append(uploads.c.owner == owner)
    with transaction(ctx.engine) as conn:
        gone = conn.execute(
            delete(uploads)
            .where(*where, uploads.c.state != COMMITTING)
            .returning(
                uploads.c.id,
                uploads.c.owner,
                uploads.c.size,
                uploads.c.state,
                uploads.c.storage_key,
                uploads.c.store_handle,
            )
        ).all()
        for up in gone:
            conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == up.id))
            if up.state == OPEN:
                release(conn, up.owner, up.size)
    for up in gone:
        if up.state == OPEN:
            ctx.store.abort(up.storage_key, up.store_handle)
    return len(gone)


def start(ctx: ServerContext, scope: Scope, blob_id: str, size: int) -> tuple[str, int]:
    """Reserve the bytes and open an upload of a new blob; (upload id, part size)."""
    if size > ctx.limits.max_blob:
        raise ApiError(413, "too_large", "blob larger than the server accepts")
    sweep_stale_uploads(ctx, scope.owner)
    key = new_storage_key()
    with transaction(ctx.engine) as conn:
        taken = conn.execute(
            select(blobs.c.id).where(blobs.c.owner == scope.owner, blobs.c.id == blob_id)
        ).first()
        if taken is not None:
            raise ApiError(409, "conflict", "a blob with this id exists")
        check_objects(conn, scope.owner, 1, ctx.limits.max_objects)
        reserve(conn, scope.owner, size)
    try:
        handle = ctx.store.begin(key)
    except BaseException:
        with transaction(ctx.engine) as conn:
            release(conn, scope.owner, size)
        raise
    upload_id = new_storage_key()[:32]
    part = ctx.limits.part_size
    with transaction(ctx.engine) as conn:
        conn.execute(
            insert(uploads).values(
                id=upload_id,
                owner=scope.owner,
                blob_id=blob_id,
                size=size,
                part_size=part,
                storage_key=key,
                store_handle=handle,
                created_at=time.time(),
                space=scope.space,
                state=OPEN,
            )
        )
    return upload_id, part


def _mine(scope: Scope, upload_id: str) -> list[Any]:
    """The WHERE clauses naming this upload as the scope may see it."""
    where = [uploads.c.id == upload_id, uploads.c.owner == scope.owner]
    if not scope.own:
        where.append(uploads.c.space == scope.space)
    return where


def find(conn: Connection, scope: Scope, upload_id: str) -> Any:
    """The upload row as the scope may see it, else 404."""
    row = conn.execute(
        select(uploads).where(uploads.c.id == upload_id, uploads.c.owner == scope.owner)
    ).first()
    return visible(scope, row, "upload")


def status(ctx: ServerContext, scope: Scope, upload_id: str) -> tuple[Any, list[Any]]:
    """The upload and the parts received so far (404 once committed)."""
    with transaction(ctx.engine) as conn:
        up = find(conn, scope, upload_id)
        if up.state == COMMITTED:  # kept only so a repeated commit answers the same
            raise not_found("upload")
        parts = conn.execute(
            select(upload_parts.c.number, upload_parts.c.size)
            .where(upload_parts.c.upload_id == upload_id)
            .order_by(upload_parts.c.number)
        ).all()
    return up, list(parts)


def expected_part_size(up: Any, number: int) -> int:
    count = part_count(up.size, up.part_size)
    if not 1 <= number <= count:
        raise invalid(f"part number must be 1..{count}")
    return int(up.part_size if number < count else up.size - up.part_size * (count - 1))


def load_open(ctx: ServerContext, scope: Scope, upload_id: str) -> Any:
    with transaction(ctx.engine) as conn:
        up = find(conn, scope, upload_id)
    if up.state != OPEN:
        raise ApiError(409, "conflict", "this upload is being committed or is committed")
    return up


def store_part(ctx: ServerContext, up: Any, number: int, data: IO[bytes], size: int) -> None:
    offset = (number - 1) * up.part_size
    try:
        etag = ctx.store.put_part(up.storage_key, up.store_handle, number, data, offset)
    except FileNotFoundError:  # committed or aborted meanwhile
        raise _closed() from None
    record_part(ctx, up, number, size, etag)


def part_streamer(ctx: ServerContext) -> PartStreamer | None:
    """The store, if it takes parts as they arrive (S3), else None (parts are spooled)."""
    return ctx.store if isinstance(ctx.store, PartStreamer) else None


async def stream_part(
    store: PartStreamer, up: Any, number: int, size: int, chunks: AsyncIterator[bytes]
) -> str:
    """`store_part` for a store that takes a part as it arrives; returns the part's ETag,
    for `record_part` (a part is recorded only once stored)."""
    try:
        return await store.put_part_stream(up.storage_key, up.store_handle, number, size, chunks)
    except FileNotFoundError:
        raise _closed() from None


def _closed() -> ApiError:
    return ApiError(409, "conflict", "this upload is no longer open")


def record_part(ctx: ServerContext, up: Any, number: int, size: int, etag: str) -> None:
    """Note a stored part, unless a commit claimed the upload (or it went) meanwhile."""
    with transaction(ctx.engine) as conn:
        state = conn.execute(
            select(uploads.c.state).where(uploads.c.id == up.id).with_for_update()
        ).scalar()
        if state != OPEN:  # a commit claimed it (or it went) while this part arrived
            raise _closed()
        conn.execute(
            delete(upload_parts).where(
                upload_parts.c.upload_id == up.id, upload_parts.c.number == number
            )
        )
        conn.execute(
            insert(upload_parts).values(upload_id=up.id, number=number, size=size, etag=etag)
        )


def _claim(ctx: ServerContext, scope: Scope, upload_id: str) -> tuple[Any, bool]:
    """Win the commit claim, or answer as the winner did (201 again, or 409 while it runs)."""
    now = time.time()
    with transaction(ctx.engine) as conn:
        won = conn.execute(
            update(uploads)
            .where(
                *_mine(scope, upload_id),
                or_(
                    uploads.c.state == OPEN,
                    (uploads.c.state == COMMITTING) & (uploads.c.claimed_at < now - CLAIM_SECONDS),
                ),
            )
            .values(state=COMMITTING, claimed_at=now)
        ).rowcount
        up = find(conn, scope, upload_id)
    if won == 1:
        return up, True
    if up.state == COMMITTED:
        return up, False
    raise ApiError(409, "commit_in_progress", "another commit of this upload is running")


def _reopen(ctx: ServerContext, upload_id: str, lost: list[int] | None = None) -> None:
    with transaction(ctx.engine) as conn:
        if lost:
            conn.execute(
                delete(upload_parts).where(
                    upload_parts.c.upload_id == upload_id, upload_parts.c.number.in_(lost)
                )
            )
        conn.execute(
            update(uploads)
            .where(uploads.c.id == upload_id, uploads.c.state == COMMITTING)
            .values(state=OPEN, claimed_at=None)
        )


def commit(ctx: ServerContext, scope: Scope, upload_id: str) -> Any:
    """Make the blob visible, atomically, once every part has arrived; the upload row.
    Idempotent: a repeated commit answers the same and never writes the object again."""
    up, won = _claim(ctx, scope, upload_id)
    if not won:  # committed already: the same answer, nothing written again
        return up
    try:
        _write_object(ctx, up)
    except BaseException:
        _reopen(ctx, upload_id)
        raise
    with transaction(ctx.engine) as conn:
        row = {
            "owner": up.owner,
            "id": up.blob_id,
            "storage_key": up.storage_key,
            "size": up.size,
            "created_at": time.time(),
            "space": up.space,
        }
        finished = conn.execute(
            update(uploads)
            .where(uploads.c.id == upload_id, uploads.c.state == COMMITTING)
            .values(state=COMMITTED)
        ).rowcount
        inserted = finished == 1 and insert_if_absent(conn, blobs, row) == 1
        if finished == 1:
            conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
        if finished == 1 and not inserted:  # the id was taken meanwhile: give everything back
            conn.execute(delete(uploads).where(uploads.c.id == upload_id))
            release(conn, up.owner, up.size)
    if not inserted:
        ctx.store.delete(up.storage_key)
        raise ApiError(409, "conflict", "a blob with this id exists")
    return up


def _write_object(ctx: ServerContext, up: Any) -> None:
    with transaction(ctx.engine) as conn:
        parts = conn.execute(select(upload_parts).where(upload_parts.c.upload_id == up.id)).all()
    count = part_count(up.size, up.part_size)
    have = {p.number: p for p in parts}
    missing = [n for n in range(1, count + 1) if n not in have]
    if missing:
        raise ApiError(
            409, "incomplete_upload", "parts are missing", extra={"missing": missing[:100]}
        )
    if up.size == 0 and not parts:
        ctx.store.put(up.storage_key, b"")
        return
    try:
        ctx.store.complete(up.storage_key, up.store_handle, [(p.number, p.etag) for p in parts])
    except MissingPartsError as lost:
        _reopen(ctx, up.id, lost.numbers)
        raise ApiError(
            409, "incomplete_upload", "parts are missing", extra={"missing": lost.numbers[:100]}
        ) from None


def abort(ctx: ServerContext, scope: Scope, upload_id: str) -> None:
    """Abort an open upload and give its bytes back (409 while a commit runs)."""
    with transaction(ctx.engine) as conn:
        gone = conn.execute(
            delete(uploads)
            .where(*_mine(scope, upload_id), uploads.c.state == OPEN)
            .returning(uploads.c.size, uploads.c.storage_key, uploads.c.store_handle)
        ).first()
        if gone is not None:
            conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
            release(conn, scope.owner, gone.size)
    if gone is None:
        with transaction(ctx.engine) as conn:
            up = find(conn, scope, upload_id)
        if up.state == COMMITTING:
            raise ApiError(409, "commit_in_progress", "this upload is being committed")
        raise not_found("upload")
    ctx.store.abort(gone.storage_key, gone.store_handle)
