"""Upload-only links (issue 19): accepting a drop, listing and removing the owner's drops.

A drop is opaque here (sealed to the owner's key by the dropper; the server cannot open
it). The server checks only what it can: the link is live and of kind "drop", the drop
fits the link's size limit, its preamble names this link (`"BVDP" 0x01 link_id drop_id`)
and its drop id is new for the link (a replayed upload is refused), and the count limit.
The bytes are written to the store under a fresh key first (spooled, then written whole:
never visible half-written); the row that makes the drop visible is inserted afterwards in
one transaction that also takes the upload slot and charges the owner's quota; any
refusal there deletes the written object. A drop is received as a stream (spooled to a
temporary file, never held in memory), so its size is bounded only by the link's limit,
`Limits.max_drop` and the owner's quota (a declared length past the quota is refused
before the body is read).
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from typing import IO, Any

from sqlalchemy import Connection, delete, select, update

from blindvault.server.context import ServerContext
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.quota import release, reserve
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.blobstore import new_storage_key
from blindvault.server.storage.db import insert_all_if_absent, transaction
from blindvault.server.storage.schema import accounts, link_drops, links

log = logging.getLogger("blindvault.server")

DROP_MAGIC = b"BVDP\x01"
PREAMBLE = len(DROP_MAGIC) + 16 + 16
MIN_DROP = PREAMBLE + 2 + 32 + 16  # a preamble, a header length, an HPKE enc and a tag


def exhausted() -> ApiError:
    return ApiError(410, "link_exhausted", "this link's upload limit is reached")


def check_drop_link(row: Any) -> None:
    """An upload goes only to an upload-only link (403 otherwise); its count limit is taken
    atomically with the drop's row (`store_drop`)."""
    if row.kind != "drop":  # mutant: drops.kind-check
        raise ApiError(403, "forbidden", "this link does not accept uploads")


def check_room(conn: Connection, owner: str, declared: int | None) -> None:
    """A drop whose declared length would pass the owner's quota is refused (507) before
    a byte of it is read; `store_drop` charges the quota, atomically, all the same."""
    if declared is None:
        return
    room = conn.execute(
        select(accounts.c.quota_bytes - accounts.c.used_bytes).where(accounts.c.id == owner)
    ).scalar()
    if room is not None and declared > int(room):
        raise ApiError(507, "quota_exceeded", "this drop would exceed the link owner's quota")


def drop_limit(row: Any, server_max: int) -> int:
    if row.max_drop_size is None:
        return server_max
    return min(int(row.max_drop_size), server_max)


def preamble_drop_id(head: bytes, link_hex: str) -> str:
    """The drop id a body's preamble names, if it names this link; 400 otherwise."""
    if len(head) < PREAMBLE or head[: len(DROP_MAGIC)] != DROP_MAGIC:
        raise invalid("not a sealed drop")
    named = head[len(DROP_MAGIC) : len(DROP_MAGIC) + 16].hex()
    if named != link_hex:  # mutant: drops.preamble-link
        raise invalid("this drop was sealed for another link")
    return head[len(DROP_MAGIC) + 16 : PREAMBLE].hex()


def store_drop(ctx: ServerContext, row: Any, data: IO[bytes], size: int) -> str:
    """Write a checked drop and make it visible, all or nothing; returns its id."""
    if size < MIN_DROP:
        raise invalid("not a sealed drop (too short)")
    data.seek(0)
    drop_id = preamble_drop_id(data.read(PREAMBLE), row.id)
    key = new_storage_key()
    ctx.store.put(key, data)
    drop = secrets.token_hex(16)
    try:
        with transaction(ctx.engine) as conn:
            _take_slot(conn, row.id)
            reserve(conn, row.owner, size)
            added = insert_all_if_absent(
                conn,
                link_drops,
                [{"id": drop, "link_id": row.id, "drop_id": drop_id, "owner": row.owner,
                  "storage_key": key, "size": size, "created_at": time.time()}],
            )  # fmt: skip
            if added != 1:  # the same (link, drop id) exists: a replay
                raise ApiError(409, "conflict", "this drop was uploaded already")
            link = base64.urlsafe_b64encode(bytes.fromhex(row.id)).rstrip(b"=").decode()
            audit_log.record(conn, row.owner, "drop_received", link=link, drop=drop, size=size)
    except BaseException:
        _forget(ctx, key)
        raise
    return drop


def _take_slot(conn: Connection, lid: str) -> None:
    live = (links.c.id == lid, links.c.revoked.is_(False))
    limit = (links.c.max_uploads.is_(None)) | (links.c.uploads < links.c.max_uploads)
    done = conn.execute(
        update(links).where(*live, limit).values(uploads=links.c.uploads + 1)
    ).rowcount
    if done != 1:  # mutant: drops.count-limit
        raise exhausted()


def _forget(ctx: ServerContext, key: str) -> None:
    try:
        ctx.store.delete(key)
    except ApiError:
        log.warning("could not delete a refused drop (the orphan sweep will)")


def owner_drops(conn: Connection, owner: str) -> list[Any]:
    rows = conn.execute(
        select(link_drops, links.c.owner_note)
        .join(links, links.c.id == link_drops.c.link_id)
        .where(link_drops.c.owner == owner)
        .order_by(link_drops.c.created_at, link_drops.c.id)
    ).all()
    return list(rows)


def owner_drop(conn: Connection, owner: str, drop: str) -> Any:
    row = conn.execute(
        select(link_drops).where(link_drops.c.owner == owner, link_drops.c.id == drop)
    ).first()
    if row is None:  # mutant: drops.owner-only
        raise not_found("drop")
    return row


def remove_drop(ctx: ServerContext, owner: str, drop: str) -> None:
    """The owner took (or quarantined) a drop: its row, bytes and quota go."""
    with transaction(ctx.engine) as conn:
        row = owner_drop(conn, owner, drop)
        conn.execute(delete(link_drops).where(link_drops.c.id == row.id))
        release(conn, owner, row.size)
    _forget(ctx, row.storage_key)
