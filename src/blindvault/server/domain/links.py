"""Share links: what the server keeps and enforces (expiry, download budget, revocation).

The server keeps the hash of the link token (derived from the fragment secret, which it
never sees). `holder` is the one check every holder request passes: an unknown link and a
wrong token get the same 404; a dead link a typed 410. The download limit counts bytes
(`charge` before sending, `Refund` for what a stopped client did not receive).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from typing import Any

from sqlalchemy import Connection, func, select, update

from blindvault.server.codec import check_id
from blindvault.server.context import ServerContext
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs, link_items, links
from blindvault.wire.common import MAX_VERSION

LINK_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def link_hex(link_id: str) -> str:
    """The 16-byte link id as stored (hex), from its base64url form; 404 if malformed."""
    if not LINK_ID.match(link_id):
        raise not_found("link")
    try:
        raw = base64.urlsafe_b64decode(link_id + "==")
    except (binascii.Error, ValueError):
        raise not_found("link") from None
    if len(raw) != 16 or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != link_id:
        raise not_found("link")
    return raw.hex()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def holder(conn: Connection, link_id: str, token: str | None) -> Any:
    """The link row if the token matches and the link is live; typed 404/410 otherwise."""
    lid = link_hex(link_id)
    row = conn.execute(select(links).where(links.c.id == lid)).first()
    if row is None or token is None or not hmac.compare_digest(row.token_hash, token_digest(token)):
        raise not_found("link")
    if row.revoked:
        raise ApiError(410, "link_revoked", "this link was revoked by its owner")
    if row.expires_at is not None and row.expires_at <= time.time():
        raise ApiError(410, "link_expired", "this link has expired")
    if row.max_downloads is not None and row.downloads >= row.max_downloads:
        raise ApiError(410, "link_exhausted", "this link's download limit is reached")
    return row


def listed(conn: Connection, lid: str, kind: str, item: str) -> None:
    check_id(item)
    found = conn.execute(
        select(link_items.c.item).where(
            link_items.c.link_id == lid, link_items.c.kind == kind, link_items.c.item == item
        )
    ).first()
    if found is None:
        raise not_found(kind)


def charge(conn: Connection, row: Any, blob_id: str, size: int, wanted: int) -> None:
    """Reserve `wanted` bytes of this blob's budget, atomically, or 410."""
    item = (link_items.c.link_id == row.id, link_items.c.kind == "blob",
            link_items.c.item == blob_id)  # fmt: skip
    where = list(item)
    if row.max_downloads is not None:
        cost = max(wanted, 1) if size == 0 else wanted  # an empty file: one byte per use
        budget = min(row.max_downloads * max(size, 1), MAX_VERSION)  # a 64-bit column
        where.append(link_items.c.served + cost <= budget)
    else:
        cost = wanted
    done = conn.execute(
        update(link_items).where(*where).values(served=link_items.c.served + cost)
    ).rowcount
    if done != 1:
        raise ApiError(410, "link_exhausted", "this link's download limit is reached")
    _recount(conn, row.id, row.owner)


def _recount(conn: Connection, lid: str, owner: str) -> None:
    """`downloads` = whole copies served of the link's most-served blob."""
    uses = conn.execute(
        select(func.max(link_items.c.served / func.coalesce(func.nullif(blobs.c.size, 0), 1)))
        .select_from(link_items)
        .join(blobs, (blobs.c.owner == owner) & (blobs.c.id == link_items.c.item))
        .where(link_items.c.link_id == lid, link_items.c.kind == "blob")
    ).scalar()
    conn.execute(update(links).where(links.c.id == lid).values(downloads=int(uses or 0)))


class Refund:
    """Gives back the reserved bytes a response did not send (a client that stopped)."""

    def __init__(self, ctx: ServerContext, row: Any, blob_id: str, size: int, wanted: int):
        self.ctx, self.lid, self.owner = ctx, row.id, row.owner
        self.blob_id, self.size, self.wanted = blob_id, size, wanted

    def __call__(self, sent: int) -> None:
        unsent = self.wanted - sent
        if unsent <= 0 or self.size == 0:
            return
        try:
            with transaction(self.ctx.engine) as conn:
                conn.execute(
                    update(link_items)
                    .where(
                        link_items.c.link_id == self.lid,
                        link_items.c.kind == "blob",
                        link_items.c.item == self.blob_id,
                    )
                    .values(served=link_items.c.served - unsent)
                )
                _recount(conn, self.lid, self.owner)
        except ApiError:
            pass  # the database is down: the bytes stay counted (the safe side)


def in_live_link(conn: Connection, owner: str, blob_id: str) -> bool:
    """Whether a live link (not revoked, expired or used up) of `owner` lists `blob_id`: the server
    knows this already (it serves the link's blobs), so refusing the delete teaches it
    nothing new about which file a blob belongs to."""
    now = time.time()
    found = conn.execute(
        select(link_items.c.item)
        .join(links, links.c.id == link_items.c.link_id)
        .where(
            links.c.owner == owner,
            links.c.revoked.is_(False),
            (links.c.expires_at.is_(None)) | (links.c.expires_at > now),
            (links.c.max_downloads.is_(None)) | (links.c.downloads < links.c.max_downloads),
            link_items.c.kind == "blob",
            link_items.c.item == blob_id,
        )
        .limit(1)
    ).first()
    return found is not None
