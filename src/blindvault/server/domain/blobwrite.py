"""The one write path for new blobs, used for a single small blob and for a batch alike.

1. One transaction: every id must be new (409 `conflict`, naming the id), the account's
   object count and quota must allow them; the bytes are reserved.
2. The objects are written to the store (`put_many`: the local store packs small ones
   in one durable transaction, larger ones and S3 objects are written in parallel).
3. One transaction inserts every row; if a concurrent request took an id meanwhile, none
   is inserted (409).
A failure at any step after the reservation deletes every object written and gives the
reserved bytes back, so a refused or failed write never leaves a half-written object or
charged quota behind.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select

from blindvault.server.context import ServerContext
from blindvault.server.domain.quota import check_objects, release, reserve
from blindvault.server.domain.scopes import Scope
from blindvault.server.errors import ApiError
from blindvault.server.storage.blobstore import Data, new_storage_key
from blindvault.server.storage.db import insert_all_if_absent, transaction
from blindvault.server.storage.schema import blobs

log = logging.getLogger("blindvault.server")
WRITERS = 8  # a batch's objects read at once (`api.blob_batch`)


@dataclass(frozen=True)
class NewBlob:
    id: str
    data: Data  # bytes, or a spooled file read from its start
    size: int


def _taken(blob_id: str) -> ApiError:
    return ApiError(409, "conflict", "a blob with this id exists", extra={"id": blob_id})


def store_blobs(ctx: ServerContext, scope: Scope, items: list[NewBlob]) -> int:
    """Store `items` as new blobs of `scope`, all or nothing; returns their total size."""
    total = sum(item.size for item in items)
    with transaction(ctx.engine) as conn:
        taken = conn.execute(
            select(blobs.c.id).where(
                blobs.c.owner == scope.owner, blobs.c.id.in_([item.id for item in items])
            )
        ).first()
        if taken is not None:
            raise _taken(taken.id)
        check_objects(conn, scope.owner, len(items), ctx.limits.max_objects)
        reserve(conn, scope.owner, total)
    keys = [new_storage_key() for _ in items]
    try:
        ctx.store.put_many(keys, [item.data for item in items])
        now = time.time()
        rows = [
            {"owner": scope.owner, "id": item.id, "storage_key": key, "size": item.size,
             "created_at": now, "space": scope.space}
            for item, key in zip(items, keys, strict=True)
        ]  # fmt: skip
        with transaction(ctx.engine) as conn:
            if insert_all_if_absent(conn, blobs, rows) != len(rows):
                # a concurrent request took one of the ids: raising rolls every row back
                raise ApiError(409, "conflict", "a blob with this id exists")
    except BaseException:
        _undo(ctx, scope.owner, keys, total)
        raise
    return total


def _undo(ctx: ServerContext, owner: str, keys: list[str], total: int) -> None:
    try:
        for key in keys:
            ctx.store.delete(key)
        with transaction(ctx.engine) as conn:
            release(conn, owner, total)
    except ApiError:
        # the store or database is down; an operator's sweep reclaims the space
        log.warning("could not undo a failed blob write")
