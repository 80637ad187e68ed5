"""The blind change feed: which records changed, in write order, and nothing else.

`note` is called by every route that writes or deletes a record, inside the same
transaction, so a write that rolls back (a lost compare-and-swap, a full quota) leaves no
entry, and an entry always names a version that was committed. `page` reads entries after
a sequence number as one scope sees them (the owner: all of its spaces, or one; a member:
the one space it holds a grant for). `compact` drops entries a newer entry of the same
record supersedes (always safe) and deletion entries at or below a horizon: a reader
asking from before the horizon gets 410 `feed_reset` and walks everything again.

The server learns nothing from the feed it did not already see in the record writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, exists, select, update
from sqlalchemy.orm import aliased

from blindvault.server.domain.scopes import Scope
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import insert_if_absent
from blindvault.server.storage.schema import changes, feed_horizons, records

PAGE = 1000  # entries per answer


def note(
    conn: Connection, owner: str, space: str, kind: str, record_id: str, version: int,
    *, deleted: bool = False,
) -> None:  # fmt: skip
    conn.execute(
        changes.insert().values(
            owner=owner, space=space, kind=kind, id=record_id, version=version, deleted=deleted
        )
    )


def note_all(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """`note` for the writes of one group commit (`domain.recordwrite`), in their order:
    each row has `owner`, `space`, `kind`, `id`, `version` and `deleted`."""
    if rows:
        conn.execute(changes.insert(), rows)


def horizon(conn: Connection, owner: str) -> int:
    value = conn.execute(
        select(feed_horizons.c.horizon).where(feed_horizons.c.owner == owner)
    ).scalar()
    return int(value or 0)


def page(conn: Connection, scope: Scope, since: int, limit: int = PAGE) -> Any:
    """Up to `limit` entries after `since`, plus whether more follow.

    Raises 410 `feed_reset` when `since` is older than the owner's compaction horizon.
    """
    oldest = horizon(conn, scope.owner)
    if since < oldest:
        raise ApiError(
            410,
            "feed_reset",
            "the change feed was compacted past this point: read everything",
            extra={"horizon": oldest},  # where to start again after the full read
        )
    where = [changes.c.owner == scope.owner, changes.c.seq > since]
    if not scope.own or scope.space:  # a member: its space; the owner: all, or the one named
        where.append(changes.c.space == scope.space)
    rows = conn.execute(
        select(changes.c.seq, changes.c.kind, changes.c.id, changes.c.version, changes.c.deleted)
        .where(*where)
        .order_by(changes.c.seq)
        .limit(limit + 1)
    ).all()
    return rows[:limit], len(rows) > limit


def root_of(conn: Connection, owner: str, root_id: str) -> Any:
    """The owner's signed root record (kind "root", the id its client names), if any."""
    return conn.execute(
        select(records.c.version, records.c.data).where(
            records.c.owner == owner, records.c.kind == "root", records.c.id == root_id
        )
    ).first()


def compact(conn: Connection, owner: str, upto: int) -> int:
    """Drop, at or below `upto`, entries a newer entry of the same record supersedes (a
    reader from any point still sees the newer one: no horizon needed) and deletion entries
    (a reader from before them would miss the delete: the horizon rises to `upto`)."""
    newer = aliased(changes)
    superseded = exists().where(
        newer.c.owner == changes.c.owner,
        newer.c.space == changes.c.space,
        newer.c.kind == changes.c.kind,
        newer.c.id == changes.c.id,
        newer.c.seq > changes.c.seq,
    )
    mine = (changes.c.owner == owner, changes.c.seq <= upto)
    dropped = conn.execute(delete(changes).where(*mine, superseded)).rowcount
    deletes = conn.execute(delete(changes).where(*mine, changes.c.deleted)).rowcount
    if deletes:
        done = conn.execute(
            update(feed_horizons)
            .where(and_(feed_horizons.c.owner == owner, feed_horizons.c.horizon < upto))
            .values(horizon=upto)
        ).rowcount
        if not done:
            insert_if_absent(conn, feed_horizons, {"owner": owner, "horizon": upto})
    return int(dropped) + int(deletes)


def compact_all(conn: Connection, keep: int) -> int:
    """`compact` every owner's feed, leaving each owner's newest `keep` entries whole."""
    owners = conn.execute(select(changes.c.owner).distinct()).scalars().all()
    dropped = 0
    for owner in owners:
        upto = conn.execute(
            select(changes.c.seq)
            .where(changes.c.owner == owner)
            .order_by(changes.c.seq.desc())
            .offset(keep)
            .limit(1)
        ).scalar()
        if upto is not None:
            dropped += compact(conn, owner, int(upto))
    return dropped
