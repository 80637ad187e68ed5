"""The account's devices: list them, revoke one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select, update

from blindvault.server.deps import Ctx, DeviceId, Who
from blindvault.server.domain import audit as audit_log
from blindvault.server.errors import not_found
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import devices
from blindvault.wire.devices import DeviceList

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/devices", response_model=DeviceList)
def list_devices(who: Who, ctx: Ctx) -> dict[str, Any]:
    with transaction(ctx.engine) as conn:
        rows = conn.execute(
            select(devices)
            .where(devices.c.account_id == who.account_id)
            .order_by(devices.c.created_at)
        ).all()
    return {
        "devices": [
            {
                "id": r.id,
                "name": r.name,
                "created_at": r.created_at,
                "last_seen": r.last_seen,
                "revoked": r.revoked,
                "current": r.id == who.device_id,
            }
            for r in rows
        ]
    }


@router.delete("/devices/{device_id}", status_code=204)
def revoke_device(device_id: DeviceId, who: Who, ctx: Ctx) -> Response:
    with transaction(ctx.engine) as conn:
        done = conn.execute(
            update(devices)
            .where(devices.c.id == device_id, devices.c.account_id == who.account_id)
            .values(revoked=True)
        ).rowcount
        if done != 1:
            raise not_found("device")
        audit_log.record(conn, who.account_id, "device_revoked", device_id=device_id)
    return Response(status_code=204)
