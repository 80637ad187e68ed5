"""`blindvault bench feed`: the change feed of a large account (issue 14).

A real server (SQLite + local disk), one account signed up through the SDK, then N manifest
records and their feed entries written straight into the database (as N record writes
would leave them). Measured through `Vault.changes`: the first read of the whole feed
(pages, requests, seconds) and the check of an unchanged tree (one request, verified
signed root included), as the median of several runs.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from blindvault.bench.util import PASSWORD, server

FULL = 100_000
QUICK = 2_000
CHECKS = 20


def _fill(db: Path, email: str, count: int) -> None:
    with sqlite3.connect(db, timeout=60) as conn:
        (owner,) = conn.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
        ids = [secrets.token_hex(16) for _ in range(count)]
        now = time.time()
        conn.executemany(
            "INSERT INTO records (owner, kind, id, version, data, updated_at, space) "
            "VALUES (?, 'manifest', ?, 1, ?, ?, '')",
            [(owner, i, os.urandom(64), now) for i in ids],
        )
        conn.executemany(
            "INSERT INTO changes (owner, space, kind, id, version, deleted) "
            "VALUES (?, '', 'manifest', ?, 1, 0)",
            [(owner, i) for i in ids],
        )


def run_feed(work: Path, *, quick: bool = False) -> dict[str, Any]:
    from blindvault.client.state import StateStore
    from blindvault.client.vault import Vault

    count = QUICK if quick else FULL
    email = f"feed{secrets.token_hex(4)}@example.org"
    with server(work / "srv") as srv:
        vault, _ = Vault.signup(srv.url, email, PASSWORD, store=StateStore(work / "home"))
        with vault:
            _fill(work / "srv" / "blindvault.sqlite3", email, count)
            t0 = time.perf_counter()
            first = vault.changes(0)
            full_s = time.perf_counter() - t0
            times = []
            for _ in range(CHECKS):
                t0 = time.perf_counter()
                again = vault.changes(first.seq, dict.fromkeys(first.changed, 1))
                times.append(time.perf_counter() - t0)
    return {
        "records": count,
        "full_read": {
            "requests": first.requests,
            "seconds": round(full_s, 3),
            "candidates": len(first.changed),
        },
        "unchanged": {
            "requests": again.requests,
            "candidates": len(again.changed),
            "median_ms": round(statistics.median(times) * 1000, 2),
        },
    }
