"""Per-app containers (issue 16): authorize an app (a confined token), list, revoke, and
the containers granted to an app.

An app credential's token is a device row with `app_id` and `app_space` set: it expires,
is revoked and answers 401 exactly like a device's, and `deps` confines it to its space.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from blindvault.server.codec import b64decode, check_id
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.credentials import new_id, new_token, token_hash
from blindvault.server.errors import ApiError, invalid, not_found
from blindvault.server.storage.schema import app_grants, apps, devices
from blindvault.wire.apps import AppAuthorize, app_id_problem

MAX_BUNDLE = 4096


def check_app_id(value: str) -> str:
    problem = app_id_problem(value)
    if problem is not None:  # mutant: apps.app-id-valid
        raise invalid(problem)
    return value


def authorize(conn: Connection, owner: str, body: AppAuthorize) -> tuple[str, str]:
    """Register (or confirm) the app's container and issue a confined token."""
    check_app_id(body.app_id)
    check_id(body.space, "space")
    bundle = b64decode(body.bundle, "bundle", max_size=MAX_BUNDLE)
    attestation = b64decode(body.attestation, "attestation", max_size=MAX_BUNDLE)
    envelope = b64decode(body.envelope, "envelope", max_size=MAX_BUNDLE)
    row = conn.execute(
        select(apps.c.space).where(apps.c.owner == owner, apps.c.app_id == body.app_id)
    ).first()
    if row is not None and row.space != body.space:
        raise ApiError(409, "conflict", "this app's container has another space id")
    clash = conn.execute(
        select(apps.c.app_id).where(apps.c.owner == owner, apps.c.space == body.space)
    ).first()
    if clash is not None and clash.app_id != body.app_id:  # mutant: apps.space-collision
        raise ApiError(409, "conflict", "another app already has this container")
    live = conn.execute(
        select(func.count())
        .select_from(devices)
        .where(devices.c.account_id == owner, devices.c.app_id == body.app_id, ~devices.c.revoked)
    ).scalar()
    if live:
        raise ApiError(409, "conflict", "this app has a credential: revoke it first")
    now = time.time()
    if row is None:
        conn.execute(
            insert(apps).values(
                owner=owner, app_id=body.app_id, space=body.space, bundle=bundle,
                attestation=attestation, envelope=envelope, created_at=now,
            )
        )  # fmt: skip
    else:
        conn.execute(
            update(apps)
            .where(apps.c.owner == owner, apps.c.app_id == body.app_id)
            .values(bundle=bundle, attestation=attestation, envelope=envelope)
        )
    token, device_id = new_token(), new_id()
    conn.execute(
        insert(devices).values(
            id=device_id, account_id=owner, name=f"app:{body.app_id}", token_hash=token_hash(token),
            created_at=now, last_seen=now, revoked=False, app_id=body.app_id, app_space=body.space,
        )
    )  # fmt: skip
    audit_log.record(conn, owner, "app_authorized", app=body.app_id, device_id=device_id)
    return token, device_id


def listing(conn: Connection, owner: str) -> list[dict[str, Any]]:
    live = (
        select(devices.c.app_id, func.count().label("n"))
        .where(devices.c.account_id == owner, devices.c.app_id.is_not(None), ~devices.c.revoked)
        .group_by(devices.c.app_id)
    )
    counts = {r.app_id: int(r.n) for r in conn.execute(live)}
    rows = conn.execute(select(apps).where(apps.c.owner == owner).order_by(apps.c.app_id))
    return [
        {"app_id": r.app_id, "space": r.space, "bundle": r.bundle, "attestation": r.attestation,
         "envelope": r.envelope, "created_at": r.created_at,
         "credentials": counts.get(r.app_id, 0)}
        for r in rows
    ]  # fmt: skip


def revoke(conn: Connection, owner: str, app_id: str) -> int:
    """Revoke every token of the app (401 everywhere at once) and end its grants both ways.
    The container and its content stay: the user's devices still open it."""
    check_app_id(app_id)
    exists = conn.execute(
        select(apps.c.app_id).where(apps.c.owner == owner, apps.c.app_id == app_id)
    ).first()
    if exists is None:
        raise not_found("app")
    done = conn.execute(
        update(devices)
        .where(devices.c.account_id == owner, devices.c.app_id == app_id)
        .values(revoked=True)
    ).rowcount
    conn.execute(
        delete(app_grants).where(
            app_grants.c.owner == owner,
            (app_grants.c.from_app == app_id) | (app_grants.c.to_app == app_id),
        )
    )
    audit_log.record(conn, owner, "app_revoked", app=app_id, tokens=int(done))
    return int(done)


def granted_spaces(conn: Connection, owner: str, app_id: str) -> dict[str, str]:
    """The containers (space → role) other apps of `owner` granted to `app_id`."""
    rows = conn.execute(
        select(apps.c.space, app_grants.c.role)
        .join(apps, (apps.c.owner == app_grants.c.owner) & (apps.c.app_id == app_grants.c.to_app))
        .where(app_grants.c.owner == owner, app_grants.c.from_app == app_id)
    )
    return {r.space: r.role for r in rows}
