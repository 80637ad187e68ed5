"""Share links, the owner's side: register a link, list them, revoke one.

The server keeps the hash of the link token, the sealed descriptor (ciphertext), the
blobs the link may read, for a folder link its snapshot (the folder's manifests as they
were, re-sealed by the owner's client under keys of the link's own, in `link_records`),
and its limits; it cannot open the descriptor or anything it points to. A holder's side
is `api.link_access`.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from starlette.concurrency import run_in_threadpool

from blindvault.server.bodies import read_body
from blindvault.server.codec import b64decode, check_id
from blindvault.server.context import Principal, ServerContext
from blindvault.server.deps import Ctx, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.links import LINK_ID, link_hex, token_digest
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import link_items, link_records, links
from blindvault.wire.links import MAX_LINK_ITEMS, LinkCreate, LinkCreated, LinkList

router = APIRouter(prefix="/v1", tags=["links"])

MAX_ITEMS = MAX_LINK_ITEMS
MAX_DESCRIPTOR = 4096
MAX_LINK_BODY = 64 << 20  # the JSON body of a link creation, snapshot included
MAX_SNAPSHOT = 44 << 20  # decoded bytes of all the snapshot's manifests together


@router.post(
    "/links",
    status_code=201,
    response_model=LinkCreated,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LinkCreate.model_json_schema()}},
        }
    },
)
async def create_link(
    request: Request,
    who: Who,
    ctx: Ctx,
) -> dict[str, Any]:
    """Register a link to the caller's own blobs (listed explicitly) and, for a folder, its
    snapshot; the body may be up to 64 MiB, the snapshot up to 44 MiB (413 beyond)."""
    raw = await read_body(request, MAX_LINK_BODY)
    try:
        body = LinkCreate.model_validate_json(raw)
    except ValidationError:
        raise invalid("not a valid link creation body") from None
    return await run_in_threadpool(_create_link, body, who, ctx)


def _check_kind(body: LinkCreate) -> bytes | None:
    """An upload-only link carries its owner note and upload limits and nothing to read; the
    other kinds carry no upload fields. Returns the decoded owner note."""
    drop_fields = (body.max_uploads, body.max_drop_size, body.owner_note)
    if body.kind != "drop":
        if any(f is not None for f in drop_fields):
            raise invalid("upload limits and an owner note are for upload-only links")
        return None
    if body.blobs or body.snapshot or body.password or body.max_downloads is not None:
        raise invalid("an upload-only link lists nothing to read and has no password")
    if body.owner_note is None:
        raise invalid("an upload-only link needs its owner note")
    return b64decode(body.owner_note, "owner note", max_size=MAX_DESCRIPTOR)


def _snapshot(body: LinkCreate) -> list[tuple[str, bytes]]:
    if body.kind != "folder" and body.snapshot:
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
    if not LINK_ID.match(body.id) or not re.fullmatch(r"[A-Za-z0-9_-]{43}", body.token):
        raise invalid("id and token must be unpadded base64url of 16 and 32 bytes")
    lid = link_hex(body.id)
    descriptor = b64decode(body.descriptor, "descriptor", max_size=MAX_DESCRIPTOR)
    for item in body.blobs:
        check_id(item)
    snapshot = _snapshot(body)
    note = _check_kind(body)
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
                token_hash=token_digest(body.token),
                descriptor=descriptor,
                password=body.password,
                expires_at=body.expires_at,
                max_downloads=body.max_downloads,
                downloads=0,
                max_uploads=body.max_uploads,
                uploads=0,
                max_drop_size=body.max_drop_size,
                owner_note=note,
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
        audit_log.record(conn, who.account_id, "link_created", link=body.id, kind=body.kind)
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
        "max_uploads": row.max_uploads,
        "uploads": row.uploads,
    }


@router.get("/links", response_model=LinkList)
def list_links(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(links).where(links.c.owner == who.account_id).order_by(links.c.created_at)
        ).all()
    return {"links": [_describe(r) for r in rows]}


@router.delete("/links/{link_id}", status_code=204)
def revoke_link(
    link_id: str,
    who: Who,
    ctx: Ctx,
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
        audit_log.record(conn, who.account_id, "link_revoked", link=link_id)
    return Response(status_code=204)
