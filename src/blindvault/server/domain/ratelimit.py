"""Attempts are recorded before they are checked, so parallel requests cannot pass a limit.

Each attempt inserts one row per bucket and then counts the bucket's rows in its window,
in one transaction that is serialised per bucket (an advisory lock on PostgreSQL; SQLite
has one writer at a time, and the insert comes first). 60 parallel attempts against a
limit of 10 therefore see counts 1…60 and exactly 10 go on to the expensive check.

A *hard* bucket answers 429 when full: it belongs to the client's own address, so a full
bucket only stops that address. A *soft* bucket (per email) never refuses: it slows the
attempt down, so nobody can lock another person out of their account, and a correct answer
is always accepted. A successful attempt removes its rows (`forget`); a failed one stays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from blindvault.server.context import Limits
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import login_failures


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    window: float
    hard: bool = True


@dataclass(frozen=True)
class Attempt:
    ids: tuple[int, ...]
    over_soft_limit: bool


def record(engine: Engine, buckets: list[Bucket]) -> Attempt:
    """Record one attempt in every bucket; 429 if a hard bucket is over its limit."""
    now = time.time()
    ids: list[int] = []
    slow = False
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            for key in sorted({b.key for b in buckets}):  # one order: no deadlock
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key}
                )
        for bucket in buckets:
            row = conn.execute(
                insert(login_failures).values(key=bucket.key, at=now).returning(login_failures.c.id)
            ).scalar_one()
            ids.append(int(row))
        for bucket in buckets:
            seen = conn.execute(
                select(func.count())
                .select_from(login_failures)
                .where(
                    login_failures.c.key == bucket.key, login_failures.c.at > now - bucket.window
                )
            ).scalar_one()
            if seen <= bucket.limit:
                continue
            if bucket.hard:  # the transaction rolls back: a refused attempt is not counted
                raise ApiError(
                    429,
                    "rate_limited",
                    "too many attempts from this address; wait before trying again",
                    headers={"Retry-After": str(int(bucket.window))},
                )
            slow = True
    return Attempt(tuple(ids), slow)


def forget(engine: Engine, attempt: Attempt) -> None:
    """A successful attempt: its rows no longer count against anyone."""
    if attempt.ids:
        with transaction(engine) as conn:
            conn.execute(delete(login_failures).where(login_failures.c.id.in_(attempt.ids)))


def login_buckets(limits: Limits, email: str, address: str) -> list[Bucket]:
    """Logins, recovery logins and account-change proofs: hard per address and per
    (email, address), soft per email."""
    window = limits.login_window
    return [
        Bucket(f"addr:{address}", limits.address_failures, window),
        Bucket(f"pair:{email}|{address}", limits.login_failures, window),
        Bucket(f"email:{email}", limits.login_failures, window, hard=False),
    ]


def signup_buckets(limits: Limits, address: str) -> list[Bucket]:
    return [Bucket(f"signup:{address}", limits.signups_per_address, limits.signup_window)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def slow_down_if_needed(limits: Limits, attempt: Attempt) -> None:
    if attempt.over_soft_limit:
        time.sleep(limits.slow_down)  # a worker thread waits; the address buckets cap how many


def prune_failures(conn: Connection, window: float) -> None:
    """Forget failed attempts older than two windows (the maintenance sweep)."""
    conn.execute(delete(login_failures).where(login_failures.c.at < time.time() - 2 * window))
