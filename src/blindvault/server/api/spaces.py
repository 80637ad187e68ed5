"""Spaces: moving the caller's own records and blobs into one of its spaces (the first
share of a folder). Grants of a space to other accounts are `api.shares`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, select, update

from blindvault.server.codec import check_id, check_kind
from blindvault.server.deps import Ctx, SpaceId, Who
from blindvault.server.domain.changes import note
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs, records
from blindvault.wire.shares import Adopt, Adopted

router = APIRouter(prefix="/v1", tags=["shares"])

ADOPT_CHUNK = 500


def _adopt_records(conn: Connection, owner: str, space: str, kind: str, ids: list[str]) -> int:
    """Move records into `space`; each move is a change-feed entry (members now see it)."""
    where = (records.c.owner == owner, records.c.kind == kind, records.c.id.in_(ids))
    rows = conn.execute(select(records.c.id, records.c.version).where(*where)).all()
    moved = conn.execute(update(records).where(*where).values(space=space)).rowcount
    for row in rows:
        note(conn, owner, space, kind, row.id, row.version)
    return int(moved)


@router.post("/spaces/{space}/adopt", response_model=Adopted)
def adopt(
    space: SpaceId,
    body: Adopt,
    who: Who,
    ctx: Ctx,
) -> dict[str, Any]:
    """Move some of the caller's own records and blobs into one of its spaces.

    Used when a folder is shared for the first time: its existing subtree joins the space
    (metadata only; no byte is copied). Objects that do not exist are skipped.
    """
    for ref in body.records:
        check_kind(ref.kind)
        check_id(ref.id)
    for blob in body.blobs:
        check_id(blob, "blob id")
    moved = 0
    # short transactions of ADOPT_CHUNK objects each: the database's write lock is never
    # held for the whole list (moving is idempotent, so a retry after a failure is safe)
    refs = sorted({(r.kind, r.id) for r in body.records})
    for at in range(0, len(refs), ADOPT_CHUNK):
        chunk = refs[at : at + ADOPT_CHUNK]
        by_kind: dict[str, list[str]] = {}
        for kind, rid in chunk:
            by_kind.setdefault(kind, []).append(rid)
        with transaction(ctx.engine) as conn:
            for kind, ids in by_kind.items():
                moved += _adopt_records(conn, who.account_id, space, kind, ids)
    ids = sorted(set(body.blobs))
    for at in range(0, len(ids), ADOPT_CHUNK):
        with transaction(ctx.engine) as conn:
            moved += conn.execute(
                update(blobs)
                .where(blobs.c.owner == who.account_id, blobs.c.id.in_(ids[at : at + ADOPT_CHUNK]))
                .values(space=space)
            ).rowcount
    return {"moved": moved}
