"""Opaque records (manifests, roots, key records, …) with compare-and-swap."""

from __future__ import annotations

import threading
import weakref
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import Engine, and_, delete, func, or_, select

from blindvault.server.codec import b64decode, b64encode, check_id, check_kind
from blindvault.server.deps import Ctx, InScope, Kind, RecordId
from blindvault.server.domain.changes import note
from blindvault.server.domain.quota import release
from blindvault.server.domain.recordwrite import Cas, apply, raise_stale, record_key
from blindvault.server.domain.scopes import visible
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import transaction
from blindvault.server.storage.groupcommit import GroupCommit
from blindvault.server.storage.schema import records
from blindvault.wire.common import MAX_VERSION
from blindvault.wire.records import (
    MAX_RECORD,
    Record,
    RecordBatch,
    RecordBatchGet,
    RecordList,
    RecordWrite,
    RecordWritten,
)

router = APIRouter(prefix="/v1", tags=["records"])

BATCH_CHUNK = 200  # (kind, id) pairs per query: 400 bound parameters


# weak: an application (its short path) holds its engine's; none outlives its engine
_WRITERS: weakref.WeakValueDictionary[int, GroupCommit[Cas]] = weakref.WeakValueDictionary()
_WRITERS_LOCK = threading.Lock()


def writer(engine: Engine) -> GroupCommit[Cas]:
    """This process's group commit of record writes on `engine` (one per engine)."""
    with _WRITERS_LOCK:
        found = _WRITERS.get(id(engine))
        if found is None or found.engine is not engine:
            found = _WRITERS[id(engine)] = GroupCommit(engine, apply)
        return found


@router.get("/records/{kind}/{record_id}", response_model=Record)
def get_record(kind: Kind, record_id: RecordId, scope: InScope, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        row = conn.execute(
            select(records.c.version, records.c.data, records.c.space).where(
                *record_key(scope, kind, record_id)
            )
        ).first()
    row = visible(scope, row, "record")
    return {"kind": kind, "id": record_id, "version": row.version, "data": b64encode(row.data)}


@router.put("/records/{kind}/{record_id}", response_model=RecordWritten)
def put_record(
    kind: Kind, record_id: RecordId, body: RecordWrite, scope: InScope, ctx: Ctx
) -> dict[str, Any]:
    """Compare-and-swap: succeeds only if the stored version is `expected_version`.

    A member of a shared space writes only with a read-write grant and only records of
    that space; the owner's records keep their space unless the owner names one.
    """
    scope.check_write_kind(kind)
    data = b64decode(body.data, "data", max_size=MAX_RECORD)
    # with the concurrent writes of this process, in one transaction: see `recordwrite`
    writer(ctx.engine).run(Cas(scope, kind, record_id, body.expected_version, data))
    return {"kind": kind, "id": record_id, "version": body.expected_version + 1}


@router.delete("/records/{kind}/{record_id}", status_code=204)
def delete_record(
    kind: Kind,
    record_id: RecordId,
    expected_version: Annotated[int, Query(ge=0, le=MAX_VERSION)],
    scope: InScope,
    ctx: Ctx,
) -> Response:
    scope.check_write_kind(kind)
    key = record_key(scope, kind, record_id)
    with transaction(ctx.engine) as conn:
        where = [*key, records.c.version == expected_version]
        if not scope.own:
            where.append(records.c.space == scope.space)
        gone = conn.execute(
            delete(records).where(*where).returning(func.length(records.c.data), records.c.space)
        ).first()
        if gone is None:
            raise_stale(conn, scope, key)
        release(conn, scope.owner, int(gone[0]))
        note(conn, scope.owner, gone.space, kind, record_id, expected_version, deleted=True)
    return Response(status_code=204)


@router.post("/records/batch-get", response_model=RecordBatch)
def batch_get(body: RecordBatchGet, scope: InScope, ctx: Ctx) -> dict[str, Any]:
    """Many records in one request; missing ones are simply absent from the answer."""
    for ref in body.items:
        check_kind(ref.kind)
        check_id(ref.id)
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


@router.get("/records/{kind}", response_model=RecordList)
def list_records(kind: Kind, scope: InScope, ctx: Ctx) -> dict[str, Any]:
    """Ids and versions of one kind (for verify and sync); no data."""
    where = [records.c.owner == scope.owner, records.c.kind == kind]
    if not scope.own:
        where.append(records.c.space == scope.space)
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(records.c.id, records.c.version).where(*where).order_by(records.c.id)
        ).all()
    return {"records": [{"id": r.id, "version": r.version} for r in rows]}
