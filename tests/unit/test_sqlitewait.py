"""`until_unlocked`: another process's SQLite lock is waited for, other errors are not."""

from __future__ import annotations

import sqlite3

import pytest

from blindvault.server.storage.sqlitewait import until_unlocked


def test_a_locked_database_is_tried_again_until_it_is_free() -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")

    until_unlocked(step)
    assert len(calls) == 3


def test_other_errors_and_a_lock_past_the_deadline_are_raised() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: small")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        until_unlocked(broken)
    assert len(calls) == 1

    def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        until_unlocked(locked, seconds=0.05)
