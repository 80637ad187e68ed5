"""A hash-chained audit log of security events, per account.

    hash_n = SHA-256(hash_{n-1} || seq || at || event || detail)   (hex; hash_0 = 64 zeros)

The owner can read it and re-check the chain; an operator who edits or drops an entry
breaks the chain from there on.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sqlalchemy import Connection, func, insert, select

from blindvault.server.storage.schema import accounts, audit

ZERO = "0" * 64


def entry_hash(prev: str, seq: int, at: float, event: str, detail: str) -> str:
    material = json.dumps([prev, seq, repr(at), event, detail], separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def record(conn: Connection, owner: str, event: str, **detail: Any) -> None:
    """Append an event in the caller's transaction (serialized per account by a row lock)."""
    conn.execute(select(accounts.c.id).where(accounts.c.id == owner).with_for_update())
    last = conn.execute(
        select(audit.c.seq, audit.c.hash)
        .where(audit.c.owner == owner)
        .order_by(audit.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, ZERO)
    at = round(time.time(), 3)
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    conn.execute(
        insert(audit).values(
            owner=owner,
            seq=seq,
            at=at,
            event=event,
            detail=text,
            prev_hash=prev,
            hash=entry_hash(prev, seq, at, event, text),
        )
    )


def count(conn: Connection, owner: str) -> int:
    return int(conn.execute(select(func.count()).where(audit.c.owner == owner)).scalar_one())
