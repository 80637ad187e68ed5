"""Opaque records (manifests, roots, key records, …) with compare-and-swap, and leased locks."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, delete, func, or_, select, update

from blindvault.server.access import Scope, resolve_scope, visible
from blindvault.server.context import (
    MAX_VERSION,
    Principal,
    ServerContext,
    authenticate,
    b64decode,
    b64encode,
    check_id,
    check_kind,
    get_context,
)
from blindvault.server.db import insert_if_absent, transaction
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.quota import release, reserve
from blindvault.server.schema import locks, records
from blindvault.server.security import token_hash

router = APIRouter(prefix="/v1", tags=["records"])

MAX_RECORD = 16 << 20
MAX_BATCH = 1000
BATCH_CHUNK = 200  # (kind, id) pairs per query: 400 bound parameters


class RecordWrite(BaseModel):
    expected_version: int = Field(
        ge=0, le=MAX_VERSION - 1, description="0 creates; n replaces version n"
    )
    data: str = Field(description="base64 of the opaque record")


class RecordRef(BaseModel):
    kind: str
    id: str


class BatchGet(BaseModel):
    items: list[RecordRef] = Field(max_length=MAX_BATCH)


class LockRequest(BaseModel):
    lease_seconds: int = Field(ge=1, le=600)
    token: str | None = None


def _stale(current: int) -> ApiError:
    return ApiError(
        409, "stale_version", "the record changed meanwhile", extra={"current_version": current}
    )


@router.get("/records/{kind}/{record_id}")
def get_record(
    kind: str,
    record_id: str,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    check_kind(kind)
    check_id(record_id)
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(records.c.version, records.c.data, records.c.space).where(
                records.c.owner == scope.owner, records.c.kind == kind, records.c.id == record_id
            )
        ).first()
    row = visible(scope, row, "record")
    return {"kind": kind, "id": record_id, "version": row.version, "data": b64encode(row.data)}


@router.put("/records/{kind}/{record_id}")
def put_record(
    kind: str,
    record_id: str,
    body: RecordWrite,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Compare-and-swap: succeeds only if the stored version is `expected_version`.

    A member of a shared space writes only with a read-write grant and only records of
    that space; the owner's records keep their space unless the owner names one.
    """
    check_kind(kind)
    check_id(record_id)
    scope.check_write_kind(kind)
    data = b64decode(body.data, "data", max_size=MAX_RECORD)
    new = body.expected_version + 1
    key = (records.c.owner == scope.owner, records.c.kind == kind, records.c.id == record_id)
    with transaction(ctx.engine) as conn:
        if body.expected_version == 0:
            row = {
                "owner": scope.owner,
                "kind": kind,
                "id": record_id,
                "version": 1,
                "data": data,
                "updated_at": time.time(),
                "space": scope.space,
            }
            if insert_if_absent(conn, records, row) != 1:
                current = conn.execute(select(records.c.version, records.c.space).where(*key))
                raise _stale(visible(scope, current.first(), "record").version)
            reserve(conn, scope.owner, len(data))  # 507 rolls the insert back
        else:
            values: dict[str, Any] = {"version": new, "data": data, "updated_at": time.time()}
            if scope.space:
                values["space"] = scope.space
            where = [*key, records.c.version == body.expected_version]
            if not scope.own:
                where.append(records.c.space == scope.space)
            old = conn.execute(
                select(func.length(records.c.data)).where(*where).with_for_update()
            ).scalar()
            done = 0
            if old is not None:
                done = conn.execute(update(records).where(*where).values(**values)).rowcount
            if old is None or done != 1:
                current = conn.execute(select(records.c.version, records.c.space).where(*key))
                raise _stale(visible(scope, current.first(), "record").version)
            if len(data) > int(old):
                reserve(conn, scope.owner, len(data) - int(old))
            else:
                release(conn, scope.owner, int(old) - len(data))
    return {"kind": kind, "id": record_id, "version": new}


@router.delete("/records/{kind}/{record_id}", status_code=204)
def delete_record(
    kind: str,
    record_id: str,
    expected_version: int = Query(ge=0, le=MAX_VERSION),
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    check_kind(kind)
    check_id(record_id)
    scope.check_write_kind(kind)
    key = (records.c.owner == scope.owner, records.c.kind == kind, records.c.id == record_id)
    with transaction(ctx.engine) as conn:
        where = [*key, records.c.version == expected_version]
        if not scope.own:
            where.append(records.c.space == scope.space)
        gone = conn.execute(
            delete(records).where(*where).returning(func.length(records.c.data))
        ).scalar()
        if gone is not None:
            release(conn, scope.owner, int(gone))
        else:
            current = conn.execute(select(records.c.version, records.c.space).where(*key))
            raise _stale(visible(scope, current.first(), "record").version)
    return Response(status_code=204)


@router.post("/records/batch-get")
def batch_get(
    body: BatchGet,
    scope: Scope = Depends(resolve_scope),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Many records in one request; missing ones are simply absent from the answer."""
    for ref in body.items:
        check_kind(ref.kind)
        check_id(ref.id)
    if not body.items:
        return {"records": []}
    refs = sorted({(r.kind, r.id) for r in body.items})
    rows: list[Any] = []
    total = 0
    with transaction(ctx.engine) as conn:
        # a few keys per query: SQLite allows at most 999 bound parameters per statement
        for at in range(0, len(refs), BATCH_CHUNK):
            chunk = refs[at : at + BATCH_CHUNK]
            wanted = or_(*(and_(records.c.kind == k, records.c.id == i) for k, i in chunk))
            for r in conn.execute(
                select(
                    records.c.kind, records.c.id, records.c.version, records.c.data,
                    records.c.space,
                ).where(records.c.owner == scope.owner, wanted)
            ):  # fmt: skip
                if not scope.sees(r.space):
                    continue
                total += len(r.data)
                if total > ctx.limits.batch_answer:
                    raise ApiError(
                        413,
                        "too_large",
                        f"the records asked for exceed {ctx.limits.batch_answer} bytes; "
                        "ask for fewer at once",
                    )
                rows.append(r)
    return {
        "records": [
            {"kind": r.kind, "id": r.id, "version": r.version, "data": b64encode(r.data)}
            for r in rows
        ]
    }


@router.get("/records/{kind}")
def list_records(
    kind: str, scope: Scope = Depends(resolve_scope), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    """Ids and versions of one kind (for verify and sync); no data."""
    check_kind(kind)
    where = [records.c.owner == scope.owner, records.c.kind == kind]
    if not scope.own:
        where.append(records.c.space == scope.space)
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(records.c.id, records.c.version).where(*where).order_by(records.c.id)
        ).all()
    return {"records": [{"id": r.id, "version": r.version} for r in rows]}


@router.post("/locks/{resource}")
def acquire_lock(
    resource: str,
    body: LockRequest,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Take (or, with its token, renew) a lease; it expires on its own."""
    check_id(resource, "resource")
    now = time.time()
    expires = now + body.lease_seconds
    token = body.token or secrets.token_urlsafe(24)
    key = (locks.c.owner == who.account_id, locks.c.resource == resource)
    mine = token_hash(token)
    with transaction(ctx.engine) as conn:
        row = {"owner": who.account_id, "resource": resource, "token_hash": mine,
               "expires_at": expires}  # fmt: skip
        if insert_if_absent(conn, locks, row) != 1:
            # one conditional UPDATE decides: the row is taken over only if it is still
            # expired (or ours) when the database applies the write, so two acquirers
            # can never both win (no read-then-delete window)
            done = conn.execute(
                update(locks)
                .where(*key, or_(locks.c.expires_at <= now, locks.c.token_hash == mine))
                .values(token_hash=mine, expires_at=expires)
            ).rowcount
            if done != 1:
                held = conn.execute(select(locks.c.expires_at).where(*key)).scalar()
                raise ApiError(409, "conflict", "the lock is held", extra={"expires_at": held})
    return {"token": token, "expires_at": expires}


@router.delete("/locks/{resource}", status_code=204)
def release_lock(
    resource: str,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
    x_lock_token: str | None = Header(None, description="the lock's token (never in the URL)"),
) -> Response:
    check_id(resource, "resource")
    if not x_lock_token:
        raise invalid("the X-Lock-Token header is required")
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            delete(locks).where(
                locks.c.owner == who.account_id,
                locks.c.resource == resource,
                locks.c.token_hash == token_hash(x_lock_token),
            )
        ).rowcount
    if done != 1:
        raise not_found("lock")
    return Response(status_code=204)
