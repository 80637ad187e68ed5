"""The blind change feed: what changed since a sequence number (a hint, never authority)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from blindvault.server.codec import b64encode
from blindvault.server.deps import Ctx, InScope
from blindvault.server.domain import changes
from blindvault.server.storage.db import transaction
from blindvault.wire.changes import ChangePage
from blindvault.wire.common import ID_PATTERN, MAX_VERSION

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/changes", response_model=ChangePage)
def list_changes(
    scope: InScope,
    ctx: Ctx,
    since: Annotated[int, Query(ge=0, le=MAX_VERSION, description="the last seq seen")] = 0,
    root: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="the id of the owner's root record")
    ] = None,
) -> dict[str, Any]:
    """Entries after `since` in write order, at most one page; the owner also gets its
    signed root record (kind "root", id `root`), so an unchanged tree costs one request.
    `space` (with no `owner`) narrows the owner's feed to one space; a member (`owner` +
    `space`) sees that space only."""
    with transaction(ctx.engine) as conn:
        rows, more = changes.page(conn, scope, since)
        signed = changes.root_of(conn, scope.owner, root) if scope.own and root else None
    return {
        "changes": [
            {"seq": r.seq, "kind": r.kind, "id": r.id, "version": r.version, "deleted": r.deleted}
            for r in rows
        ],
        "next": rows[-1].seq if rows else since,
        "more": more,
        "root": {"version": signed.version, "data": b64encode(signed.data)} if signed else None,
    }
