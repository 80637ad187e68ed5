"""Opaque records (manifests, roots, key records, …) with compare-and-swap, and leased locks."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, delete, or_, select, update

from blindvault.server.context import (
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
from blindvault.server.errors import ApiError, not_found
from blindvault.server.schema import locks, records
from blindvault.server.security import token_hash

router = APIRouter(prefix="/v1", tags=["records"])

MAX_RECORD = 16 << 20
MAX_BATCH = 1000


class RecordWrite(BaseModel):
    expected_version: int = Field(ge=0, description="0 creates; n replaces version n")
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
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    check_kind(kind)
    check_id(record_id)
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(records.c.version, records.c.data).where(
                records.c.owner == who.account_id, records.c.kind == kind, records.c.id == record_id
            )
        ).first()
    if row is None:
        raise not_found("record")
    return {"kind": kind, "id": record_id, "version": row.version, "data": b64encode(row.data)}


@router.put("/records/{kind}/{record_id}")
def put_record(
    kind: str,
    record_id: str,
    body: RecordWrite,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Compare-and-swap: succeeds only if the stored version is `expected_version`."""
    check_kind(kind)
    check_id(record_id)
    data = b64decode(body.data, "data", max_size=MAX_RECORD)
    new = body.expected_version + 1
    key = (records.c.owner == who.account_id, records.c.kind == kind, records.c.id == record_id)
    with transaction(ctx.engine) as conn:
        if body.expected_version == 0:
            row = {
                "owner": who.account_id,
                "kind": kind,
                "id": record_id,
                "version": 1,
                "data": data,
                "updated_at": time.time(),
            }
            if insert_if_absent(conn, records, row) != 1:
                current = conn.execute(select(records.c.version).where(*key)).scalar_one()
                raise _stale(current)
        else:
            done = conn.execute(
                update(records)
                .where(*key, records.c.version == body.expected_version)
                .values(version=new, data=data, updated_at=time.time())
            ).rowcount
            if done != 1:
                current = conn.execute(select(records.c.version).where(*key)).scalar()
                raise _stale(current or 0)
    return {"kind": kind, "id": record_id, "version": new}


@router.delete("/records/{kind}/{record_id}", status_code=204)
def delete_record(
    kind: str,
    record_id: str,
    expected_version: int,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    check_kind(kind)
    check_id(record_id)
    key = (records.c.owner == who.account_id, records.c.kind == kind, records.c.id == record_id)
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            delete(records).where(*key, records.c.version == expected_version)
        ).rowcount
        if done != 1:
            current = conn.execute(select(records.c.version).where(*key)).scalar()
            if current is None:
                raise not_found("record")
            raise _stale(current)
    return Response(status_code=204)


@router.post("/records/batch-get")
def batch_get(
    body: BatchGet,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> dict[str, Any]:
    """Many records in one request; missing ones are simply absent from the answer."""
    for ref in body.items:
        check_kind(ref.kind)
        check_id(ref.id)
    if not body.items:
        return {"records": []}
    wanted = or_(*(and_(records.c.kind == r.kind, records.c.id == r.id) for r in body.items))
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(records.c.kind, records.c.id, records.c.version, records.c.data).where(
                records.c.owner == who.account_id, wanted
            )
        ).all()
    return {
        "records": [
            {"kind": r.kind, "id": r.id, "version": r.version, "data": b64encode(r.data)}
            for r in rows
        ]
    }


@router.get("/records/{kind}")
def list_records(
    kind: str, who: Principal = Depends(authenticate), ctx: ServerContext = Depends(get_context)
) -> dict[str, Any]:
    """Ids and versions of one kind (for verify and sync); no data."""
    check_kind(kind)
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(records.c.id, records.c.version)
            .where(records.c.owner == who.account_id, records.c.kind == kind)
            .order_by(records.c.id)
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
    with transaction(ctx.engine) as conn:
        held = conn.execute(select(locks.c.token_hash, locks.c.expires_at).where(*key)).first()
        if held is not None and held.expires_at > now and held.token_hash != token_hash(token):
            raise ApiError(
                409, "conflict", "the lock is held", extra={"expires_at": held.expires_at}
            )
        conn.execute(
            delete(locks).where(*key, locks.c.expires_at == held.expires_at)
            if held
            else delete(locks).where(*key)
        )
        row = {
            "owner": who.account_id,
            "resource": resource,
            "token_hash": token_hash(token),
            "expires_at": expires,
        }
        if insert_if_absent(conn, locks, row) != 1:
            raise ApiError(409, "conflict", "the lock is held")
    return {"token": token, "expires_at": expires}


@router.delete("/locks/{resource}", status_code=204)
def release_lock(
    resource: str,
    token: str,
    who: Principal = Depends(authenticate),
    ctx: ServerContext = Depends(get_context),
) -> Response:
    check_id(resource, "resource")
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            delete(locks).where(
                locks.c.owner == who.account_id,
                locks.c.resource == resource,
                locks.c.token_hash == token_hash(token),
            )
        ).rowcount
    if done != 1:
        raise not_found("lock")
    return Response(status_code=204)
