"""Compare-and-swap of records, many in one transaction (`storage.groupcommit`).

`apply` takes the writes of one batch and applies each in turn, exactly as if it were
alone: a create succeeds only if the record does not exist, a replace only if the stored
version is the one expected (in the caller's scope), and each write is charged to its
owner's quota in order. A refused write (409 stale, 404 not visible, 507 quota) leaves
nothing behind: its checks come before its one write, or — a create over quota, whose
existence check *is* its INSERT — its one row is deleted again in the same transaction.
So two writes of the same version in one batch have one winner, as in two transactions.

What the batch does once instead of once per write: the quota update of each owner (the
sum of its writes' sizes, with the same `used + size <= quota` guard; if another process
used the room meanwhile, the guard fails, the batch rolls back and each write runs again
alone) and the change-feed rows (one multi-row INSERT, in write order). Writes are
applied in key order, so two batches (two processes) lock records in the same order,
then the accounts rows, as a single write does: no deadlock between them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, NoReturn

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from blindvault.server.domain.batchtokens import callers
from blindvault.server.domain.cas import Cas
from blindvault.server.domain.changes import note_all
from blindvault.server.domain.quota import release, reserve
from blindvault.server.domain.scopes import Scope, visible
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import insert_if_absent
from blindvault.server.storage.schema import accounts, records

__all__ = ["Cas", "apply", "raise_stale", "record_key", "stale"]


def stale(current: int) -> ApiError:
    return ApiError(
        409, "stale_version", "the record changed meanwhile", extra={"current_version": current}
    )


def record_key(scope: Scope, kind: str, record_id: str) -> tuple[Any, ...]:
    return (records.c.owner == scope.owner, records.c.kind == kind, records.c.id == record_id)


def raise_stale(conn: Connection, scope: Scope, key: tuple[Any, ...]) -> NoReturn:
    current = conn.execute(select(records.c.version, records.c.space).where(*key))
    raise stale(visible(scope, current.first(), "record").version)


class _Quota:
    """The owners' byte counts through one batch: each write checked in order against
    what was used (read once) plus what the batch's earlier writes added; written once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.read: dict[str, tuple[int, int]] = {}
        self.delta: dict[str, int] = {}

    def charge(self, owner: str, size: int) -> None:
        """Add `size` bytes (negative: give back), or 507 if that would pass the quota."""
        if size > 0:
            used, quota = self._used(owner)
            if used + self.delta.get(owner, 0) + size > quota:  # mutant: records.batch-quota
                raise ApiError(507, "quota_exceeded", "this write would exceed the account's quota")
        self.delta[owner] = self.delta.get(owner, 0) + size

    def _used(self, owner: str) -> tuple[int, int]:
        if owner not in self.read:
            row = self.conn.execute(
                select(accounts.c.used_bytes, accounts.c.quota_bytes).where(accounts.c.id == owner)
            ).first()
            self.read[owner] = (int(row[0]), int(row[1])) if row is not None else (0, -1)
        return self.read[owner]

    def write(self) -> None:
        """One guarded update per owner (a 507 here fails the batch: see the module)."""
        for owner in sorted(self.delta):
            size = self.delta[owner]
            if size > 0:
                reserve(self.conn, owner, size)
            else:
                release(self.conn, owner, -size)


def _create(conn: Connection, scope: Scope, w: Cas, quota: _Quota) -> str:
    key = record_key(scope, w.kind, w.record_id)
    row = {"owner": scope.owner, "kind": w.kind, "id": w.record_id, "version": 1,
           "data": w.data, "updated_at": time.time(), "space": scope.space}  # fmt: skip
    if insert_if_absent(conn, records, row) != 1:
        raise_stale(conn, scope, key)
    return _charge_new(conn, scope, w, quota)


def _insert_new(conn: Connection, todo: list[tuple[Scope, int, Cas]]) -> dict[Any, bool]:
    """The creates of records no other write of the batch names, in one multi-row INSERT …
    ON CONFLICT DO NOTHING (one statement instead of one per write: on PostgreSQL each was
    a round trip of the leader's); for each, whether its row went in. A record named twice
    in the batch is left to `_create`/`_replace`, one write after the other."""
    named = Counter((s.owner, w.kind, w.record_id) for s, _, w in todo)
    alone = [(s, i, w) for s, i, w in todo
             if w.expected == 0 and named[s.owner, w.kind, w.record_id] == 1]  # fmt: skip
    if not alone:
        return {}
    now = time.time()
    rows = [{"owner": s.owner, "kind": w.kind, "id": w.record_id, "version": 1, "data": w.data,
             "updated_at": now, "space": s.space} for s, _, w in alone]  # fmt: skip
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(records).values(rows).on_conflict_do_nothing()
    went = {tuple(r) for r in conn.execute(
        stmt.returning(records.c.owner, records.c.kind, records.c.id))}  # fmt: skip
    return {(s.owner, w.kind, w.record_id, i): (s.owner, w.kind, w.record_id) in went
            for s, i, w in alone}  # fmt: skip


def _created(conn: Connection, scope: Scope, w: Cas, quota: _Quota, inserted: bool) -> str:
    """`_create` for a write whose row `_insert_new` tried already."""
    if not inserted:
        raise_stale(conn, scope, record_key(scope, w.kind, w.record_id))
    return _charge_new(conn, scope, w, quota)


def _charge_new(conn: Connection, scope: Scope, w: Cas, quota: _Quota) -> str:
    """Charge a created record to its owner's quota; over quota, the row goes again."""
    try:
        quota.charge(scope.owner, len(w.data))
    except ApiError:
        conn.execute(delete(records).where(*record_key(scope, w.kind, w.record_id)))
        raise
    return scope.space


def _replace(conn: Connection, scope: Scope, w: Cas, quota: _Quota) -> str:
    key = record_key(scope, w.kind, w.record_id)
    values: dict[str, Any] = {"version": w.expected + 1, "data": w.data, "updated_at": time.time()}
    if scope.space:
        values["space"] = scope.space
    where = [*key, records.c.version == w.expected]
    if not scope.own:
        where.append(records.c.space == scope.space)
    old = conn.execute(
        select(func.length(records.c.data), records.c.space).where(*where).with_for_update()
    ).first()
    if old is None:
        raise_stale(conn, scope, key)
    grow = len(w.data) - int(old[0])
    quota.charge(scope.owner, grow)  # before the write: a 507 leaves nothing to undo
    if conn.execute(update(records).where(*where).values(**values)).rowcount != 1:
        quota.charge(scope.owner, -grow)
        raise_stale(conn, scope, key)
    return scope.space or str(old.space)


def apply(conn: Connection, writes: Sequence[Cas]) -> list[ApiError | None]:
    """Each write's outcome (None: written), in the order given; see the module."""
    if conn.dialect.name == "sqlite":  # reads and writes under the write lock from the start
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    quota = _Quota(conn)
    outcomes: list[ApiError | None] = [None] * len(writes)
    feed: list[dict[str, Any]] = []
    todo: list[tuple[Scope, int, Cas]] = []
    for i, checked in enumerate(callers(conn, writes)):
        if isinstance(checked, ApiError):
            outcomes[i] = checked
        elif checked.scope is not None:
            todo.append((checked.scope, i, checked))
    todo.sort(key=lambda t: (t[0].owner, t[2].kind, t[2].record_id, t[1]))
    new = _insert_new(conn, todo)
    for scope, i, w in todo:
        try:
            if (scope.owner, w.kind, w.record_id, i) in new:
                space = _created(conn, scope, w, quota, new[scope.owner, w.kind, w.record_id, i])
            else:
                space = (_create if w.expected == 0 else _replace)(conn, scope, w, quota)
        except ApiError as exc:
            outcomes[i] = exc
            continue
        feed.append({"owner": scope.owner, "space": space, "kind": w.kind,
                     "id": w.record_id, "version": w.expected + 1, "deleted": False})  # fmt: skip
    quota.write()
    note_all(conn, feed)
    return outcomes
