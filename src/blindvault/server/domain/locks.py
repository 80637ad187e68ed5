"""Leased locks: one holder per (account, resource) until the lease ends or it releases.

Only the hash of a lock's token is stored. Taking a lock is one conditional write, so two
acquirers can never both win (no read-then-delete window)."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import Engine, delete, or_, select, update

from blindvault.server.domain.credentials import token_hash
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import insert_if_absent, transaction
from blindvault.server.storage.schema import locks


def acquire(
    engine: Engine, owner: str, resource: str, lease: int, token: str | None
) -> tuple[str, float]:
    """Take (or, with its token, renew) a lease; (token, expires_at), or 409 while held."""
    now = time.time()
    expires = now + lease
    token = token or secrets.token_urlsafe(24)
    key = (locks.c.owner == owner, locks.c.resource == resource)
    mine = token_hash(token)
    with transaction(engine) as conn:
        row = {"owner": owner, "resource": resource, "token_hash": mine, "expires_at": expires}
        if insert_if_absent(conn, locks, row) != 1:
            # one conditional UPDATE decides: the row is taken over only if it is still
            # expired (or ours) when the database applies the write
            done = conn.execute(
                update(locks)
                .where(*key, or_(locks.c.expires_at <= now, locks.c.token_hash == mine))
                .values(token_hash=mine, expires_at=expires)
            ).rowcount
            if done != 1:
                held = conn.execute(select(locks.c.expires_at).where(*key)).scalar()
                raise ApiError(409, "conflict", "the lock is held", extra={"expires_at": held})
    return token, expires


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
