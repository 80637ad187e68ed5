"""The token cache and the revocation epoch every server process shares (issue 18)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, insert, update

from blindvault.server.context import Principal
from blindvault.server.storage.revocations import TOUCH_ONLY, RevocationEpoch, watch
from blindvault.server.storage.schema import devices, metadata
from blindvault.server.tokens import MAX_ENTRIES, TokenCache

WHO = Principal("a" * 32, "d" * 32)
DAY = 86400.0


def test_a_revocation_in_another_process_empties_this_cache(tmp_path: Path) -> None:
    mine, theirs = RevocationEpoch(tmp_path), RevocationEpoch(tmp_path)  # two processes
    cache = TokenCache(mine, DAY)
    cache.put("h1", WHO, time.time(), mine.current())
    assert cache.get("h1") == WHO
    theirs.bump()
    assert cache.get("h1") is None
    assert cache.get("h1") is None  # and stays out until the row is read again


def test_an_entry_read_before_a_revocation_is_never_trusted(tmp_path: Path) -> None:
    epoch = RevocationEpoch(tmp_path)
    cache = TokenCache(epoch, DAY)
    before = epoch.current()  # read the epoch, then the (not yet revoked) row ...
    epoch.bump()  # ... meanwhile the revocation commits elsewhere
    cache.put("h1", WHO, time.time(), before)
    assert cache.get("h1") is None


def test_expiry_holds_between_database_reads(tmp_path: Path) -> None:
    epoch = RevocationEpoch(tmp_path)
    cache = TokenCache(epoch, DAY)
    cache.put("old", WHO, time.time() - DAY - 1, epoch.current())
    cache.put("new", WHO, time.time() - DAY + 60, epoch.current())
    assert cache.get("old") is None
    assert cache.get("new") == WHO


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    epoch = RevocationEpoch(tmp_path)
    cache = TokenCache(epoch, DAY)
    for i in range(MAX_ENTRIES + 5):
        cache.put(f"h{i}", WHO, time.time(), epoch.current())
    assert len(cache) == MAX_ENTRIES
    assert cache.get("h0") is None and cache.get(f"h{MAX_ENTRIES + 4}") == WHO


def _device(conn: object, device_id: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        insert(devices).values(
            id=device_id,
            account_id="a" * 32,
            name="x",
            token_hash=device_id * 2,
            created_at=0.0,
            last_seen=0.0,
            revoked=False,
        )
    )


def test_committed_revocations_bump_the_epoch_and_nothing_else_does(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    metadata.create_all(engine, tables=[devices])
    epoch = RevocationEpoch(tmp_path)
    watch(engine, epoch)
    with engine.begin() as conn:
        _device(conn, "1" * 32)
        _device(conn, "2" * 32)
    assert epoch.current() == 0  # a new device revokes nothing
    with engine.begin() as conn:
        conn.execute(update(devices).values(last_seen=1.0), execution_options={TOUCH_ONLY: True})
    assert epoch.current() == 0  # nor does the last-seen refresh
    try:
        with engine.begin() as conn:
            conn.execute(update(devices).where(devices.c.id == "1" * 32).values(revoked=True))
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert epoch.current() == 0  # a revocation that did not commit
    with engine.begin() as conn:
        conn.execute(update(devices).where(devices.c.id == "1" * 32).values(revoked=True))
    assert epoch.current() == 1
    with engine.begin() as conn:
        conn.execute(devices.delete().where(devices.c.id == "2" * 32))
    assert epoch.current() == 2
    engine.dispose()
