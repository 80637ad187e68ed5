"""Group commit: the concurrent short writes of one process share one transaction.

Each request's worker thread hands its unit of work to `GroupCommit.run` and waits. One
of the waiting threads at a time is the leader: it takes everything queued (up to
`LIMIT` units), applies it in one transaction with `apply(conn, units)`, which returns
one outcome per unit (`None`: done; an `ApiError`: that unit's own refusal, which wrote
nothing), commits, and hands every unit its outcome. Units queue while the leader
commits, so the next batch is as large as the load: one COMMIT (one WAL fsync on
PostgreSQL, one write-lock turn on SQLite) and one quota update for many writes, and the
lock on the account's row is taken once per batch instead of once per write (issue 18,
docs/bench/analysis.md).

A unit's success is told only after COMMIT returned. If the batch as a whole fails (a
database error, a bug, a quota update that lost a race with another process), it rolled
back entirely and each of its units is applied again alone, in a transaction of its own,
so one unit's failure is never another's: the alone run gives the one answer a request
without group commit would have given. A database that is unavailable (503) is that
answer for every unit at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from blindvault.server.errors import ApiError, unavailable
from blindvault.server.storage.db import transaction

try:
    import fcntl
except ImportError:  # not a POSIX system: SQLite's busy handler alone, as before
    fcntl = None  # type: ignore[assignment]

__all__ = ["LIMIT", "GroupCommit"]

U = TypeVar("U")
LIMIT = 64  # units in one transaction (bounds the time a batch holds the write lock)
Apply = Callable[[Connection, Sequence[U]], list[ApiError | None]]


@dataclass
class _Job(Generic[U]):
    unit: U
    done: bool = False
    settled: bool = False  # its outcome is known (`error` None: committed)
    error: BaseException | None = None

    def settle(self, error: BaseException | None) -> None:
        self.error = error
        self.settled = True


class _Turn:
    """SQLite: the leaders of a server's processes take turns on a lock file next to the
    database (`flock`, which wakes the next one as soon as it is free), instead of
    meeting in SQLite's busy handler, which sleeps 1, 2, 5, ... ms between tries and so
    left one process's batch waiting while the other's had long committed. Elsewhere
    (PostgreSQL's row locks wake waiters at once) it does nothing."""

    def __init__(self, engine: Engine) -> None:
        self._fd = -1
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and fcntl is not None:
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            self._fd = os.open(f"{path}.writers", flags, 0o600)

    def __enter__(self) -> None:
        if self._fd >= 0 and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd >= 0 and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __del__(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)


class GroupCommit(Generic[U]):
    def __init__(self, engine: Engine, apply: Apply[U], limit: int = LIMIT) -> None:
        self.engine = engine
        self.apply = apply
        self.limit = limit
        self._cond = threading.Condition()
        self._pending: list[_Job[U]] = []
        self._leading = False
        self._turn = _Turn(engine)
        self.batches = 0  # committed batches (tests and the bench read it)

    def run(self, unit: U) -> None:
        """Apply `unit` (in some batch); raises its refusal, or the batch's failure."""
        job = _Job(unit)
        with self._cond:
            self._pending.append(job)
        while True:
            with self._cond:
                while self._leading and not job.done:
                    self._cond.wait()
                if job.done:
                    break
                self._leading = True
                batch = self._pending[: self.limit]
                del self._pending[: self.limit]
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    for j in batch:
                        if not j.settled:  # the leader was interrupted: never a success
                            j.settle(unavailable("database"))
                        j.done = True
                    self._leading = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error

    def _commit(self, batch: list[_Job[U]]) -> None:
        try:
            outcomes = self._once([j.unit for j in batch])
        except ApiError as exc:
            if len(batch) == 1 or exc.status == 503:
                for j in batch:
                    j.settle(exc)
                return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].settle(exc)
                return
        else:
            for j, outcome in zip(batch, outcomes, strict=True):
                j.settle(outcome)
            return
        for j in batch:  # the batch rolled back: each unit again, alone
            try:
                (outcome,) = self._once([j.unit])
                j.settle(outcome)
            except Exception as exc:
                j.settle(exc)

    def _once(self, units: Sequence[U]) -> list[ApiError | None]:
        with self._turn, transaction(self.engine) as conn:
            outcomes = self.apply(conn, units)
        self.batches += 1
        return outcomes
