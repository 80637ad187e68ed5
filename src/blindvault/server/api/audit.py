"""The account's audit log (hash-chained; see `domain.audit`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from blindvault.server.deps import Ctx, Who
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import audit
from blindvault.wire.audit import AuditLog

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/audit", response_model=AuditLog)
def read_audit(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(audit).where(audit.c.owner == who.account_id).order_by(audit.c.seq)
        ).all()
    return {
        "entries": [
            {
                "seq": r.seq,
                "at": r.at,
                "event": r.event,
                "detail": json.loads(r.detail),
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }
            for r in rows
        ]
    }
