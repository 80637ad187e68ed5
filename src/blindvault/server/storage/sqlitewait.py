"""Waiting for another process's SQLite lock where SQLite itself does not wait."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["until_unlocked"]


def until_unlocked(step: Callable[[], None], seconds: float = 30.0) -> None:
    """Run `step`, again while another process holds the lock it needs, for at most
    `seconds`. Switching a new database to WAL takes an exclusive lock for which SQLite
    reports "database is locked" at once instead of calling its busy handler, so two
    processes opening one database together must wait here (found by a CI run of two
    writers of the packed blob store)."""
    deadline = time.monotonic() + seconds
    delay = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
