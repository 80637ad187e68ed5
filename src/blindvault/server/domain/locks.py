"""Leased locks: one holder per (account, resource) until the lease ends or it releases.

Only the hash of a lock's token is stored. Taking a lock is one conditional write, so two
acquirers can never both win (no read-then-delete window)."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import Connection, Engine, delete, select, update

from blindvault.server.domain.credentials import token_hash
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import devices, locks


def acquire(
    engine: Engine, owner: str, resource: str, lease: int, token: str | None, device: str = ""
) -> tuple[str, float]:
    """Take (or, with its token, renew) a lease; (token, expires_at), or 409 while held
    (naming the holder's device and since when it holds the lock)."""
    now = time.time()
    expires = now + lease
    token = token or secrets.token_urlsafe(24)
    key = (locks.c.owner == owner, locks.c.resource == resource)
    mine = token_hash(token)
    with transaction(engine) as conn:
        row = {"owner": owner, "resource": resource, "token_hash": mine, "expires_at": expires,
               "device_id": device or None, "since": now}  # fmt: skip
        if insert_if_absent(conn, locks, row) != 1:
            # one conditional UPDATE decides: the row is taken over only if it is still
            # expired (or ours) when the database applies the write; a renewal keeps `since`
            renewed = conn.execute(
                update(locks).where(*key, locks.c.token_hash == mine).values(expires_at=expires)
            ).rowcount
            done = (
                renewed
                or conn.execute(
                    update(locks)
                    .where(*key, locks.c.expires_at <= now)
                    .values(
                        token_hash=mine, expires_at=expires, device_id=device or None, since=now
                    )
                ).rowcount
            )
            if done != 1:
                raise _held(conn, owner, resource)
    return token, expires


def _held(conn: Connection, owner: str, resource: str) -> ApiError:
    """409 naming the holder: its device's name (as the account named it) and since when."""
    held = conn.execute(
        select(locks.c.expires_at, locks.c.since, devices.c.name)
        .select_from(locks.outerjoin(devices, devices.c.id == locks.c.device_id))
        .where(locks.c.owner == owner, locks.c.resource == resource)
    ).first()
    extra: dict[str, object] = {}
    if held is not None:
        extra = {"expires_at": held.expires_at, "since": held.since, "device": held.name}
    return ApiError(409, "conflict", "the lock is held", extra=extra)


def release(engine: Engine, owner: str, resource: str, token: str) -> bool:
    """Release the lock if `token` holds it; whether it did."""
    with transaction(engine) as conn:
        done = conn.execute(
            delete(locks).where(
                locks.c.owner == owner,
                locks.c.resource == resource,
                locks.c.token_hash == token_hash(token),
            )
        ).rowcount
    return bool(done == 1)
