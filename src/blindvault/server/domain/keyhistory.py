"""The key bundles a key change replaced, kept so that a bad write can be undone.

Every accepted `PUT /v1/account/keys` first copies the account's current bundle, KDF and
credential hashes here (the newest `KEEP` are kept). `restore` (run by the operator as
`blindvault admin restore-keys EMAIL`) writes the newest of them back, with its version,
keeps the replaced one in the history (so a restore can itself be undone) and signs every
device out, since a bad write usually means a stolen token.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from blindvault.server.domain import audit as audit_log
from blindvault.server.storage.schema import accounts, devices, key_history

KEEP = 5


class NothingToRestoreError(Exception):
    """The account has no previous key bundle."""


def push(conn: Connection, row: Any) -> None:
    """Keep the account `row`'s current bundle, KDF and hashes; drop all but the newest KEEP."""
    conn.execute(
        insert(key_history).values(
            account_id=row.id,
            version=row.key_bundle_version,
            key_bundle=row.key_bundle,
            kdf=row.kdf,
            auth_hash=row.auth_hash,
            recovery_hash=row.recovery_hash,
            replaced_at=time.time(),
        )
    )
    old = conn.execute(
        select(key_history.c.id)
        .where(key_history.c.account_id == row.id)
        .order_by(key_history.c.id.desc())
        .offset(KEEP)
    ).scalars()
    stale = list(old)
    if stale:
        conn.execute(delete(key_history).where(key_history.c.id.in_(stale)))


def restore(conn: Connection, account_id: str) -> int:
    """Put the newest previous bundle back; returns its version, which it keeps (a key
    bundle carries its version inside, and clients check that the two agree)."""
    current = conn.execute(select(accounts).where(accounts.c.id == account_id)).one()
    previous = conn.execute(
        select(key_history)
        .where(key_history.c.account_id == account_id)
        .order_by(key_history.c.id.desc())
        .limit(1)
    ).first()
    if previous is None:
        raise NothingToRestoreError(account_id)
    conn.execute(delete(key_history).where(key_history.c.id == previous.id))
    push(conn, current)
    version = int(previous.version)
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            key_bundle=previous.key_bundle,
            key_bundle_version=version,
            kdf=previous.kdf,
            auth_hash=previous.auth_hash,
            recovery_hash=previous.recovery_hash,
        )
    )
    conn.execute(update(devices).where(devices.c.account_id == account_id).values(revoked=True))
    audit_log.record(
        conn,
        account_id,
        "key_bundle_restored",
        version=version,
        replaced=int(current.key_bundle_version),
    )
    return version
