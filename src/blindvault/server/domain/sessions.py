"""Device sessions: one bearer token per device, opened by a verified login."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from blindvault.server.context import ServerContext
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain import ratelimit
from blindvault.server.domain.credentials import (
    DUMMY_HASH,
    new_id,
    new_token,
    token_hash,
    verify_secret,
)
from blindvault.server.domain.emails import check_text
from blindvault.server.errors import unauthorized
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import accounts, devices
from blindvault.wire.accounts import Session


def open_session(conn: Connection, account_id: str, name: str, how: str, address: str) -> Session:
    """A new device row with a fresh token (only its hash is stored), audited."""
    check_text(name, "device_name")
    token, device_id, now = new_token(), new_id(), time.time()
    conn.execute(
        insert(devices).values(
            id=device_id,
            account_id=account_id,
            name=name,
            token_hash=token_hash(token),
            created_at=now,
            last_seen=now,
            revoked=False,
        )
    )
    audit_log.record(
        conn, account_id, "login", device_id=device_id, device=name, how=how, address=address
    )
    return Session(token=token, device_id=device_id, account_id=account_id)


def _record_failure(ctx: ServerContext, owner: str, how: str, address: str) -> None:
    """Append `login_failed` to the owner's audit chain. Parallel failures race for the
    next sequence number (SQLite takes no row lock): the loser retries on a fresh read."""
    for _ in range(50):
        try:
            with transaction(ctx.engine) as conn:
                audit_log.record(conn, owner, "login_failed", how=how, address=address)
        except IntegrityError:
            time.sleep(0.002)
            continue
        return


def verified_account(
    ctx: ServerContext, address: str, email: str, proof: bytes, column: str
) -> tuple[Any, ratelimit.Attempt]:
    """The account whose stored hash in `column` matches `proof`; constant work, rate-limited.

    The attempt is recorded (and counted) before the hash is checked; the caller forgets
    it once the whole login succeeded."""
    buckets = ratelimit.login_buckets(ctx.limits, email, address)
    attempt = ratelimit.record(ctx.engine, buckets)
    ratelimit.slow_down_if_needed(ctx.limits, attempt)
    with transaction(ctx.engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.email == email)).first()
    stored = getattr(row, column, None) if row is not None else None
    if not verify_secret(proof, stored or DUMMY_HASH) or row is None or not stored:
        if row is not None:  # the owner sees it in `blindvault audit` (rate-limited above)
            _record_failure(ctx, row.id, column, address)
        raise unauthorized("wrong email or credentials")
    return row, attempt


def own_account(ctx: ServerContext, account_id: str) -> Any:
    with transaction(ctx.engine) as conn:
        return conn.execute(select(accounts).where(accounts.c.id == account_id)).one()
