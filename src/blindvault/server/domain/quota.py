"""Quota accounting: every stored byte (blobs, uploads in progress, records) is charged to
its owner's `used_bytes` once, and released only by the transaction that removed the row
holding it (`DELETE … RETURNING`), so parallel deletes can never release twice. Objects are
also counted: an account holds at most `Limits.max_objects` blobs, empty ones included."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from blindvault.server.errors import ApiError
from blindvault.server.storage.schema import accounts, blobs, uploads


def reserve(conn: Connection, account_id: str, size: int) -> None:
    """Charge `size` bytes, or 507 if that would pass the account's quota."""
    if size <= 0:
        return
    done = conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.used_bytes + size <= accounts.c.quota_bytes)
        .values(used_bytes=accounts.c.used_bytes + size)
    ).rowcount
    if done != 1:
        raise ApiError(507, "quota_exceeded", "this write would exceed the account's quota")


def release(conn: Connection, account_id: str, size: int) -> None:
    """Give back `size` bytes that this transaction's own DELETE … RETURNING removed."""
    if size <= 0:
        return
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(used_bytes=accounts.c.used_bytes - size)
    )


def check_objects(conn: Connection, account_id: str, adding: int, limit: int) -> None:
    """Refuse (507) once blobs plus pending uploads would pass `limit` objects."""
    held = select(blobs.c.id).where(blobs.c.owner == account_id).limit(limit + 1).subquery()
    pending = (
        select(uploads.c.id)
        .where(uploads.c.owner == account_id, uploads.c.state != "committed")
        .limit(limit + 1)
        .subquery()
    )
    count = conn.execute(select(func.count()).select_from(held)).scalar_one()
    count += conn.execute(select(func.count()).select_from(pending)).scalar_one()
    if count + adding > limit:
        raise ApiError(
            507, "object_limit", f"this account holds the most objects allowed ({limit})"
        )
