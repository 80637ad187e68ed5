"""Periodic upkeep each server process runs: old login failures pruned, stale uploads
aborted (their quota released), and stored objects that no row references deleted.

Every step is idempotent, so several processes running it at once is harmless. An object
is an orphan only if no blob, upload or drop names its storage key *and* it is older than
`ORPHAN_GRACE` (a small blob is written before its row is inserted)."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from blindvault.server.context import ServerContext
from blindvault.server.domain.ratelimit import prune_failures
from blindvault.server.domain.uploads import sweep_stale_uploads
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import transaction
from blindvault.server.storage.schema import blobs, link_drops, uploads

log = logging.getLogger("blindvault.server")
ORPHAN_GRACE = 3600.0


def sweep_orphans(ctx: ServerContext, grace: float = ORPHAN_GRACE) -> int:
    """Delete stored objects older than `grace` seconds that no row references."""
    listing = getattr(ctx.store, "keys", None)
    if listing is None:
        return 0
    cutoff = time.time() - grace
    removed = 0
    for batch in listing(cutoff):
        with transaction(ctx.engine) as conn:
            known = set(
                conn.execute(select(blobs.c.storage_key).where(blobs.c.storage_key.in_(batch)))
                .scalars()
                .all()
            )
            known |= set(
                conn.execute(select(uploads.c.storage_key).where(uploads.c.storage_key.in_(batch)))
                .scalars()
                .all()
            )
            known |= set(
                conn.execute(
                    select(link_drops.c.storage_key).where(link_drops.c.storage_key.in_(batch))
                )
                .scalars()
                .all()
            )
        for key in batch:
            if key not in known:
                ctx.store.delete(key)
                removed += 1
    return removed


def run_once(ctx: ServerContext) -> None:
    with transaction(ctx.engine) as conn:
        prune_failures(conn, max(ctx.limits.login_window, ctx.limits.signup_window))
    sweep_stale_uploads(ctx)
    removed = sweep_orphans(ctx)
    if removed:
        log.info("maintenance: %d unreferenced stored object(s) deleted", removed)


async def loop(ctx: ServerContext) -> None:
    while True:
        try:
            await run_in_threadpool(run_once, ctx)
        except ApiError:
            log.warning("maintenance skipped: the database or the object store is down")
        except Exception:
            log.exception("maintenance failed")
        await asyncio.sleep(ctx.limits.maintenance_every)
