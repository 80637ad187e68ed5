"""A revocation counter every server process on this host sees at once.

Each process keeps the bearer tokens it has checked in memory (`server.tokens`). A token
revoked through one process must stop working in all of them before the revoking request
answers, so every committed write that can end a session (a device revoked, signed out, or
signed out by a password change, an app credential removed, a pairing reset) grows one
shared file by one byte once its transaction has committed (a rolled-back one does not).
A cached entry remembers the file's size from before its database read; any growth since
makes it a miss, and the next request reads the `devices` row again.

The size of a file opened for appending is the counter: appends of one byte are atomic and
`fstat` reads the size without locking, so nothing here can be torn or go backwards.

The listener recognises such writes by statement, not by call site: every UPDATE or DELETE
of the `devices` table counts, except the `last_seen` refresh, which is tagged with
`TOUCH_ONLY` by the one caller that does it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Delete, Engine, Update, event

__all__ = ["TOUCH_ONLY", "RevocationEpoch", "watch"]

TOUCH_ONLY = "blindvault_touch_only"  # execution option: a write that revokes nothing
_PENDING = "blindvault_revocation_pending"
_FILE = "token-revocations"


class RevocationEpoch:
    """The shared counter, in `DATA/token-revocations`."""

    def __init__(self, data: Path) -> None:
        path = data / _FILE
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def current(self) -> int:
        return os.fstat(self._fd).st_size

    def bump(self) -> None:
        os.write(self._fd, b"\0")

    def close(self) -> None:
        os.close(self._fd)


def _ends_sessions(statement: Any, options: Any) -> bool:
    if options.get(TOUCH_ONLY):
        return False
    if not isinstance(statement, (Update, Delete)):
        return False
    table = getattr(statement, "table", None)
    return getattr(table, "name", None) == "devices"


def watch(engine: Engine, epoch: RevocationEpoch) -> None:
    """Bump `epoch` after every committed transaction that revoked or removed a device."""

    @event.listens_for(engine, "after_execute")
    def _seen(
        conn: Connection,
        statement: Any,
        _multiparams: Any,
        _params: Any,
        options: Any,
        _result: Any,
    ) -> None:
        if _ends_sessions(statement, options):
            conn.info[_PENDING] = True

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        conn.info.pop(_PENDING, None)

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        # a connection goes back to the pool after its COMMIT has returned (the `commit`
        # event fires before it): bumping here, and not there, means a process that reads
        # the row after seeing the bump reads the committed revocation. `engine.begin()`
        # has returned the connection before the revoking route answers.
        if record is not None and record.info.pop(_PENDING, False):  # mutant: tokens.bump
            epoch.bump()
