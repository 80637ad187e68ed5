"""Share links, server side: the owner registers a link; a holder proves its token.

The server keeps the hash of the link token (derived from the fragment secret, which
it never sees), the sealed descriptor (ciphertext), the blobs the link may read, for a
folder link its snapshot (the folder's manifests as they were, re-sealed by the owner's
client under keys of the link's own, in `link_records`), and its limits. It enforces
expiry, the download limit and revocation; it cannot open the descriptor or anything it
points to.

Public routes take the token in the `X-Link-Token` header (never in the URL, so it is
in no access log). An unknown link and a wrong token get the same 404.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, delete, func, insert, select, update
from starlette.concurrency import run_in_threadpool

from blindvault.server.context import (
    MAX_VERSION,
    Principal,
    ServerContext,
    authenticate,
    b64decode,
    b64encode,
    check_id,
    get_context,
    read_body,
)
from blindvault.server.db import transaction
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.routes_blobs import parse_range, stream_blob
from blindvault.server.schema import blobs, link_items, link_records, links

router = APIRouter(prefix="/v1", tags=["links"])

MAX_ITEMS = 100_000
MAX_DESCRIPTOR = 4096
MAX_LINK_BODY = 64 << 20  # the JSON body of a link creation, snapshot included
MAX_SNAPSHOT = 44 << 20  # decoded bytes of all the snapshot's manifests together
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


class LinkCreate(BaseModel):
    id: str = Field(description="the link id: 22 characters of unpadded base64url")
    token: str = Field(description="unpadded base64url of the 32-byte link token")
    descriptor: str = Field(description="base64 of the sealed link descriptor")
    kind: Literal["file", "folder"]
    password: bool = False
    snapshot: dict[str, str] = Field(
        default_factory=dict,
        description="folder links: snapshot id (32 hex) -> base64 of a re-sealed manifest",
    )
    blobs: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    expires_at: float | None = Field(default=None, allow_inf_nan=False)
    max_downloads: int | None = Field(default=None, ge=1, le=MAX_VERSION)


def link_hex(link_id: str) -> str:
    """The 16-byte link id as stored (hex), from its base64url form; 404 if malformed."""
    if not _LINK_ID.match(link_id):
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


@router.post(
    "/links",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LinkCreate.model_json_schema()}},
        }
    },
)
async def create_link(
    request: Request,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Register a link to the caller's own blobs (listed explicitly) and, for a folder, its
    snapshot; the body may be up to 64 MiB, the snapshot up to 44 MiB (413 beyond)."""
    raw = await read_body(request, MAX_LINK_BODY)
    try:
        body = LinkCreate.model_validate_json(raw)
    except ValidationError:
        raise invalid("not a valid link creation body") from None
    return await run_in_threadpool(_create_link, body, who, ctx)


def _snapshot(body: LinkCreate) -> list[tuple[str, bytes]]:
    if body.kind == "file" and body.snapshot:
        raise invalid("a file link has no snapshot")
    if body.kind == "folder" and not body.snapshot:
        raise invalid("a folder link needs its snapshot")
    if len(body.snapshot) > MAX_ITEMS:
        raise invalid(f"at most {MAX_ITEMS} snapshot records")
    out, total = [], 0
    for rid, data in body.snapshot.items():
        raw = b64decode(data, "snapshot record", max_size=MAX_SNAPSHOT)
        total += len(raw)
        if total > MAX_SNAPSHOT:
            raise ApiError(413, "too_large", f"snapshot larger than {MAX_SNAPSHOT} bytes")
        out.append((check_id(rid), raw))
    return out


def _create_link(body: LinkCreate, who: Principal, ctx: ServerContext) -> dict[str, Any]:
    if not _LINK_ID.match(body.id) or not re.fullmatch(r"[A-Za-z0-9_-]{43}", body.token):
        raise invalid("id and token must be unpadded base64url of 16 and 32 bytes")
    lid = link_hex(body.id)
    descriptor = b64decode(body.descriptor, "descriptor", max_size=MAX_DESCRIPTOR)
    for item in body.blobs:
        check_id(item)
    snapshot = _snapshot(body)
    now = time.time()
    if body.expires_at is not None and body.expires_at <= now:
        raise invalid("expires_at is in the past")
    with transaction(ctx.engine) as conn:
        if conn.execute(select(links.c.id).where(links.c.id == lid)).first() is not None:
            raise ApiError(409, "conflict", "a link with this id exists")
        conn.execute(
            insert(links).values(
                id=lid,
                owner=who.account_id,
                kind=body.kind,
                token_hash=_token_digest(body.token),
                descriptor=descriptor,
                password=body.password,
                expires_at=body.expires_at,
                max_downloads=body.max_downloads,
                downloads=0,
                revoked=False,
                created_at=now,
            )
        )
        items = [{"link_id": lid, "kind": "blob", "item": b} for b in set(body.blobs)]
        if items:
            conn.execute(insert(link_items), items)
        if snapshot:
            rows = [{"link_id": lid, "id": rid, "data": data} for rid, data in snapshot]
            conn.execute(insert(link_records), rows)
    return {"id": body.id}


def _describe(row: Any) -> dict[str, Any]:
    link_id = base64.urlsafe_b64encode(bytes.fromhex(row.id)).rstrip(b"=").decode()
    return {
        "id": link_id,
        "kind": row.kind,
        "password": row.password,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "max_downloads": row.max_downloads,
        "downloads": row.downloads,
        "revoked": row.revoked,
    }


@router.get("/links")
def list_links(
    who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(links).where(links.c.owner == who.account_id).order_by(links.c.created_at)
        ).all()
    return {"links": [_describe(r) for r in rows]}


@router.delete("/links/{link_id}", status_code=204)
def revoke_link(
    link_id: str,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    """Revoke: the link stops working at once; its row stays so holders see "revoked"."""
    lid = link_hex(link_id)
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(links)
            .where(links.c.id == lid, links.c.owner == who.account_id)
            .values(revoked=True)
        ).rowcount
        if done != 1:
            raise not_found("link")
        conn.execute(delete(link_items).where(link_items.c.link_id == lid))
        conn.execute(delete(link_records).where(link_records.c.link_id == lid))
    return Response(status_code=204)


# --- what a link holder can do ---------------------------------------------------------


def _holder(conn: Connection, link_id: str, token: str | None) -> Any:
    """The link row if the token matches and the link is live; typed 404/410 otherwise."""
    lid = link_hex(link_id)
    row = conn.execute(select(links).where(links.c.id == lid)).first()
    if (
        row is None
        or token is None
        or not hmac.compare_digest(row.token_hash, _token_digest(token))
    ):
        raise not_found("link")
    if row.revoked:
        raise ApiError(410, "link_revoked", "this link was revoked by its owner")
    if row.expires_at is not None and row.expires_at <= time.time():
        raise ApiError(410, "link_expired", "this link has expired")
    if row.max_downloads is not None and row.downloads >= row.max_downloads:
        raise ApiError(410, "link_exhausted", "this link's download limit is reached")
    return row


def _listed(conn: Connection, lid: str, kind: str, item: str) -> None:
    check_id(item)
    found = conn.execute(
        select(link_items.c.item).where(
            link_items.c.link_id == lid, link_items.c.kind == kind, link_items.c.item == item
        )
    ).first()
    if found is None:
        raise not_found(kind)


@router.get("/l/{link_id}")
def open_link(
    link_id: str,
    ctx: ServerContext = Depends(get_context),
    x_link_token: str | None = Header(None),
) -> dict[str, Any]:
    """The sealed descriptor, for a holder of the link's token."""
    with transaction(ctx.engine) as conn:
        row = _holder(conn, link_id, x_link_token)
    left = None if row.max_downloads is None else row.max_downloads - row.downloads
    return {
        "descriptor": b64encode(row.descriptor),
        "kind": row.kind,
        "expires_at": row.expires_at,
        "downloads_left": left,
        "password": row.password,
    }


@router.get("/l/{link_id}/manifest/{node_id}")
def link_manifest(
    link_id: str,
    node_id: str,
    ctx: ServerContext = Depends(get_context),
    x_link_token: str | None = Header(None),
) -> dict[str, Any]:
    """A manifest of the link's snapshot (never a live manifest of the owner's tree)."""
    check_id(node_id)
    with transaction(ctx.engine) as conn:
        row = _holder(conn, link_id, x_link_token)
        rec = conn.execute(
            select(link_records.c.data).where(
                link_records.c.link_id == row.id, link_records.c.id == node_id
            )
        ).first()
    if rec is None:
        raise not_found("folder")
    return {"version": 1, "data": b64encode(rec.data)}


@router.get("/l/{link_id}/blob/{blob_id}")
def link_blob(
    link_id: str,
    blob_id: str,
    request: Request,
    ctx: ServerContext = Depends(get_context),
    x_link_token: str | None = Header(None),
) -> Response:
    """A listed blob, whole or one range. The download limit counts bytes: every request
    reserves the bytes it will send against `max_downloads` x the blob's size (per blob),
    and gives back what it did not send, so no Range header (`bytes=-N`, `bytes=1-`, …)
    gets a file more often than allowed, while a resumed download costs only its rest."""
    range_header = request.headers.get("range")
    with transaction(ctx.engine) as conn:
        row = _holder(conn, link_id, x_link_token)
        _listed(conn, row.id, "blob", blob_id)
        blob = conn.execute(
            select(blobs).where(blobs.c.owner == row.owner, blobs.c.id == blob_id)
        ).first()
        if blob is None:
            raise ApiError(404, "not_found", "this file is no longer available")
        span = parse_range(range_header, blob.size) or (0, blob.size)
        wanted = span[1] - span[0]
        _charge(conn, row, blob_id, blob.size, wanted)
    refund = _Refund(ctx, row, blob_id, blob.size, wanted) if row.max_downloads else None
    return stream_blob(ctx, blob, range_header, on_close=refund)


def _charge(conn: Connection, row: Any, blob_id: str, size: int, wanted: int) -> None:
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


class _Refund:
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
