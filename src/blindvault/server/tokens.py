"""Bearer tokens this process has checked recently, so most requests skip the database.

An entry maps a token's hash (never the token) to its caller, the device's sign-in time
and the revocation epoch read *before* the row was read (`storage.revocations`). A lookup
returns the caller only if, now:

* no session-ending write committed since that epoch (in any process of this server);
* the sign-in is younger than `token_ttl` (expiry holds between database reads);
* the row was read less than `REFRESH` seconds ago, so the device's `last_seen` keeps
  being refreshed, as before, at most once a minute.

Anything else is a miss and the caller reads the row again. The cache holds at most
`MAX_ENTRIES` tokens (the oldest go first).

It is only used with SQLite, whose file every process of a server shares on one host, as
it shares the epoch file. With PostgreSQL, processes may run on several hosts that have no
file in common, so every request reads its token's row (see docs/architecture.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from blindvault.server.principal import Principal
from blindvault.server.storage.revocations import RevocationEpoch

__all__ = ["MAX_ENTRIES", "REFRESH", "TokenCache"]

MAX_ENTRIES = 10_000
REFRESH = 60.0  # seconds; also how often `last_seen` is written


@dataclass(frozen=True)
class _Entry:
    who: Principal
    created_at: float
    read_at: float
    epoch: int


class TokenCache:
    def __init__(self, epoch: RevocationEpoch, token_ttl: float) -> None:
        self.epoch = epoch
        self.token_ttl = token_ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        now = time.time()
        if entry.epoch != self.epoch.current():  # mutant: tokens.epoch-check
            return self._drop(digest)
        if now - entry.created_at > self.token_ttl:  # mutant: tokens.ttl-check
            return self._drop(digest)
        if now - entry.read_at > REFRESH:  # due for a `last_seen` refresh
            return self._drop(digest)
        return entry.who

    def _drop(self, digest: str) -> Principal | None:
        """Forget `digest`; None, for `get` to return (a miss)."""
        with self._lock:
            self._entries.pop(digest, None)
        return None

    def put(self, digest: str, who: Principal, created_at: float, epoch: int) -> None:
        """Remember a row read after `epoch` was read (the caller reads the epoch first)."""
        entry = _Entry(who, created_at, time.time(), epoch)
        with self._lock:
            self._entries.pop(digest, None)
            self._entries[digest] = entry
            while len(self._entries) > MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        return len(self._entries)
