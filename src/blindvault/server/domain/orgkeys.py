"""The organisation recovery key on the server (issue 17, part 2).

The operator's tool (`blindvault admin recovery-key create`) stores the public document;
the newest row is the active key, published unauthenticated (a user must be told before
signup). Escrows are opaque to the server: a vault key sealed to that key by the user's
device, only with the user's consent. Each escrow and each use is in the account's audit log.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from blindvault.server.domain import audit as audit_log
from blindvault.server.errors import ApiError, not_found
from blindvault.server.storage.schema import org_escrows, org_keys


def active(conn: Connection) -> Any:
    return conn.execute(select(org_keys).order_by(org_keys.c.created_at.desc()).limit(1)).first()


def add_key(conn: Connection, key_id: str, document: bytes) -> None:
    conn.execute(insert(org_keys).values(id=key_id, document=document, created_at=time.time()))


def put_escrow(conn: Connection, owner: str, key_id: str, escrow: bytes) -> None:
    current = active(conn)
    if current is None or current.id != key_id:
        raise ApiError(409, "conflict", "that organisation key is not the active one")
    conn.execute(delete(org_escrows).where(org_escrows.c.owner == owner))
    conn.execute(
        insert(org_escrows).values(
            owner=owner, org_key=key_id, escrow=escrow, created_at=time.time()
        )
    )
    audit_log.record(conn, owner, "org_escrow_created", org_key=key_id)


def escrow_of(conn: Connection, owner: str) -> Any:
    row = conn.execute(select(org_escrows).where(org_escrows.c.owner == owner)).first()
    if row is None:
        raise not_found("organisation escrow")
    return row
