"""The per-device sync index: one SQLite file in the state dir, holding the sync pairs
(local folder ↔ remote folder) and, per pair, the base of every synced path (the content
hash, size, mtime and inode the scan saw, and the remote node and version it matched),
per pair the last remote listing with its change-feed position (`sync.remote.Snapshot`,
as JSON: node ids, versions and names, no key), and the staging folders of large transfers
an interrupted sync left to resume (`sync.resume`).

A row is written only after its action completed on both sides, in its own transaction,
so a crash between actions loses nothing and redoes at most the interrupted action."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from blindvault.errors import UsageError
from blindvault.sync.plan import Base

__all__ = ["Index", "Pair", "Stat"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS pairs (
  id INTEGER PRIMARY KEY, local TEXT NOT NULL UNIQUE, remote TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
  pair INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  path TEXT NOT NULL, hash BLOB NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL, node BLOB NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (pair, path)
);
CREATE TABLE IF NOT EXISTS feeds (
  pair INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE, snapshot TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partials (
  pair INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  name TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (pair, name)
);
"""


@dataclass(frozen=True, slots=True)
class Pair:
    id: int
    local: str
    remote: str


@dataclass(frozen=True, slots=True)
class Stat:
    """What the scan keeps to skip hashing an unchanged file."""

    size: int
    mtime_ns: int
    inode: int
    hash: bytes


class Index:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes in one transaction (one commit, all or nothing)."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # --- pairs -----------------------------------------------------------------------------

    def pairs(self) -> list[Pair]:
        rows = self.db.execute("SELECT id, local, remote FROM pairs ORDER BY local")
        return [Pair(*row) for row in rows]

    def pair(self, local: Path, remote: str) -> Pair:
        """The pair for `local`, made on first use; a folder syncs with one remote only."""
        key = str(local.resolve())
        row = self.db.execute("SELECT id, local, remote FROM pairs WHERE local = ?", (key,))
        found = row.fetchone()
        if found is None:
            cur = self.db.execute("INSERT INTO pairs (local, remote) VALUES (?, ?)", (key, remote))
            return Pair(int(cur.lastrowid or 0), key, remote)
        if found[2] != remote:
            raise UsageError(
                f"{key} already syncs with {found[2]}: `blindvault sync remove` it first"
            )
        return Pair(*found)

    def remove(self, local: Path) -> bool:
        cur = self.db.execute("DELETE FROM pairs WHERE local = ?", (str(local.resolve()),))
        return cur.rowcount > 0

    # --- entries -----------------------------------------------------------------------------

    def bases(self, pair: Pair) -> dict[str, Base]:
        rows = self.db.execute(
            "SELECT path, hash, inode, node, version FROM entries WHERE pair = ?", (pair.id,)
        )
        return {p: Base(bytes(h), i, bytes(n), v) for p, h, i, n, v in rows}

    def stats(self, pair: Pair) -> dict[str, Stat]:
        rows = self.db.execute(
            "SELECT path, size, mtime_ns, inode, hash FROM entries WHERE pair = ?", (pair.id,)
        )
        return {p: Stat(s, m, i, bytes(h)) for p, s, m, i, h in rows}

    def record(self, pair: Pair, path: str, stat: Stat, node: bytes, version: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (pair.id, path, stat.hash, stat.size, stat.mtime_ns, stat.inode, node, version),
        )

    def forget(self, pair: Pair, path: str) -> None:
        self.db.execute("DELETE FROM entries WHERE pair = ? AND path = ?", (pair.id, path))

    # --- the remote listing and its feed position ------------------------------------------

    def snapshot(self, pair: Pair) -> str | None:
        row = self.db.execute("SELECT snapshot FROM feeds WHERE pair = ?", (pair.id,)).fetchone()
        return None if row is None else str(row[0])

    def keep(self, pair: Pair, snapshot: str | None) -> None:
        """Keep (or, with None, drop) the pair's remote snapshot."""
        if snapshot is None:
            self.db.execute("DELETE FROM feeds WHERE pair = ?", (pair.id,))
        else:
            self.db.execute("INSERT OR REPLACE INTO feeds VALUES (?, ?)", (pair.id, snapshot))

    # --- staging folders kept for resuming a large transfer (sync.resume) ----------------

    def partials(self, pair: Pair) -> dict[str, str]:
        """Staging folder name → the path it is for."""
        rows = self.db.execute("SELECT name, path FROM partials WHERE pair = ?", (pair.id,))
        return {str(n): str(p) for n, p in rows}

    def hold(self, pair: Pair, name: str, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO partials VALUES (?, ?, ?)", (pair.id, name, path))

    def release(self, pair: Pair, name: str) -> None:
        self.db.execute("DELETE FROM partials WHERE pair = ? AND name = ?", (pair.id, name))
