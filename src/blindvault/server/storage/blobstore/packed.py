"""Small blobs packed as rows of one SQLite database (ROOT/small.sqlite3).

One 4 KiB file seals to a 4,173-byte blob; as a file of its own it costs an 8 KiB block
and, with two-level sharding, often a 4 KiB directory too (127 MB on disk for 41 MB of
10,000 such blobs). Here every object of at most `PACK_MAX` bytes is one row instead:

* rows live in 64 KiB pages in insertion order (an INTEGER PRIMARY KEY appended at the
  end fills each page before the next one starts), and a separate index maps the storage
  key to the row, so the table stays dense whatever order the random keys come in;
* WAL mode with `synchronous=FULL`: a committed put is durable (the WAL is fsynced at
  commit) and visible atomically, never half-written — the same guarantee as the
  temp file → fsync → rename of a large object, at one fsync for a whole batch;
* the WAL is checkpointed every `CHECKPOINT_PAGES` pages, and truncated to nothing
  after a batch that left more than `WAL_LIMIT` in it, so it does not grow beside the
  data (it holds at most one batch);
* a deleted row's space is reused by later rows of the same page or, once a page is
  empty, by any page (the free list); the file itself does not shrink.

Writers of one process queue on a lock (SQLite's own busy wait between processes is
a sleep); readers never wait (WAL). Every thread has its own connection.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blindvault.server.errors import unavailable
from blindvault.server.storage.blobstore.base import KEY_BATCH, Data
from blindvault.server.storage.sqlitewait import until_unlocked

__all__ = ["PACK_MAX", "SmallBlobs", "small_bytes"]

PACK_MAX = 16 << 10  # objects up to this size are rows; larger ones are files
PAGE_SIZE = 64 << 10
CHECKPOINT_PAGES = 16  # 1 MiB of WAL
WAL_LIMIT = 1 << 20
BUSY_SECONDS = 30.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS small ("
    " seq INTEGER PRIMARY KEY,"
    " key TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL,"
    " data BLOB NOT NULL)"
)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """A failing database (locked past the timeout, disk full, corrupt) is a 503."""
    try:
        yield
    except sqlite3.Error as exc:
        raise unavailable("blob store") from exc


def small_bytes(data: Data) -> bytes | None:
    """The whole of `data` if it is at most PACK_MAX bytes, else None (a file is read
    from its start, at most PACK_MAX + 1 bytes)."""
    if isinstance(data, bytes):
        return data if len(data) <= PACK_MAX else None
    data.seek(0)
    head = data.read(PACK_MAX + 1)
    return head if len(head) <= PACK_MAX else None


def _prepare(conn: sqlite3.Connection) -> None:
    """Settings and table of a new connection (each statement is idempotent)."""
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only before the first table
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
    conn.execute(_SCHEMA)


class SmallBlobs:
    """The rows of small objects; opened on first use (no file until something is put)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            until_unlocked(lambda: _prepare(conn))
            self._local.conn = conn
        return conn

    def put_all(self, items: list[tuple[str, bytes]]) -> None:
        """Store every (key, bytes) in one transaction: all visible and durable, or none."""
        if not items:
            return
        now = time.time()
        rows = [(key, now, data) for key, data in items]
        with _translated(), self._write:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO small (key, created, data) VALUES (?, ?, ?)", rows
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if self._wal_size() > WAL_LIMIT:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _wal_size(self) -> int:
        try:
            return self.path.with_name(self.path.name + "-wal").stat().st_size
        except FileNotFoundError:
            return 0

    def _one(self, sql: str, key: str) -> Any:
        if not self.path.exists():
            return None  # nothing packed yet: no database to open (or create)
        with _translated():
            row = self._conn().execute(sql, (key,)).fetchone()
        return None if row is None else row[0]

    def get(self, key: str) -> bytes | None:
        data = self._one("SELECT data FROM small WHERE key = ?", key)
        return None if data is None else bytes(data)

    def size(self, key: str) -> int | None:
        n = self._one("SELECT length(data) FROM small WHERE key = ?", key)
        return None if n is None else int(n)

    def delete(self, key: str) -> bool:
        """Delete the row of `key`; whether there was one."""
        if self.size(key) is None:
            return False
        with _translated(), self._write:
            cur = self._conn().execute("DELETE FROM small WHERE key = ?", (key,))
        return cur.rowcount > 0

    def keys(self, older_than: float) -> Iterator[list[str]]:
        """Keys of rows stored before `older_than` (epoch seconds), in batches."""
        if not self.path.exists():
            return
        after = -1
        while True:
            with _translated():
                rows = (
                    self._conn()
                    .execute(
                        "SELECT seq, key FROM small WHERE seq > ? AND created < ?"
                        " ORDER BY seq LIMIT ?",
                        (after, older_than, KEY_BATCH),
                    )
                    .fetchall()
                )
            if not rows:
                return
            after = int(rows[-1][0])
            yield [str(r[1]) for r in rows]
